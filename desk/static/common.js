// Shared by every desk page: the JSON API with the session's CSRF token, and safe DOM building
// (text is always set with textContent: transcripts come from callers).
"use strict";

const desk = {
  csrf: "",
  async api(path, options = {}) {
    const init = { method: options.method || "GET", headers: { "Accept": "application/json" },
                   credentials: "same-origin" };
    if (init.method !== "GET") {
      init.headers["X-CSRF-Token"] = desk.csrf;
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body || {});
    }
    const response = await fetch(path, init);
    if (response.status === 401) { window.location.href = "login"; throw new Error("请先登录"); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { throw new Error(data.message || `请求失败 (${response.status})`); }
    return data;
  },
  el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },
  $(id) { return document.getElementById(id); },
  socket(onMessage) {
    const url = new URL("ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let ws = null;
    let delay = 500;
    const open = () => {
      ws = new WebSocket(url);
      ws.onopen = () => { delay = 500; document.body.dataset.ws = "open"; };
      ws.onmessage = (event) => onMessage(JSON.parse(event.data), ws);
      ws.onclose = () => {
        document.body.dataset.ws = "closed";
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    };
    open();
    return { send: (obj) => { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); } };
  },
  async logout() {
    try { await desk.api("api/logout", { method: "POST" }); } finally { window.location.href = "login"; }
  },
  // Times travel in UTC; the hotline works on Beijing time whatever the PC's own setting.
  fmtTime(iso) {
    return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }) : "";
  },
};
