// The agent's desk: screen-pop over the websocket, agent state, call control, KB and dispatch.
"use strict";

const state = { me: null, pop: null, agent: null };

function option(value, text, selected) {
  const node = desk.el("option", { value, text });
  if (selected) node.selected = true;
  return node;
}

function renderAgent(agent) {
  if (!agent) return;
  state.agent = agent;
  const badge = desk.$("agent-status");
  badge.textContent = agent.status_zh + (agent.pause_reason ? ` (${agent.pause_reason})` : "")
    + (agent.wrapup_left_s ? ` ${Math.ceil(agent.wrapup_left_s)}秒` : "");
  badge.className = `badge ${agent.status}`;
  // The line boxes are built once; later states only tick them (no re-layout per call).
  const toggles = desk.$("line-toggles");
  if (toggles.dataset.built !== agent.allowed_lines.join()) {
    toggles.replaceChildren();
    const names = Object.fromEntries(state.me.lines.map((l) => [l.id, l.zh]));
    for (const line of agent.allowed_lines) {
      const box = desk.el("input", { type: "checkbox", id: `line-${line}`, "data-line": line });
      box.addEventListener("change", () => toggleLine(line, box.checked));
      toggles.append(desk.el("label", {}, box, names[line] || line));
    }
    toggles.dataset.built = agent.allowed_lines.join();
  }
  for (const line of agent.allowed_lines) desk.$(`line-${line}`).checked = agent.lines.includes(line);
  desk.$("pause-button").textContent = agent.status === "paused" ? "示闲" : "示忙";
  desk.$("wrapup-button").hidden = agent.status !== "wrapup";
  const onCall = agent.status === "busy";
  for (const id of ["hold-button", "transfer-button", "three-way-button"]) desk.$(id).disabled = !onCall;
  desk.$("hold-button").textContent = agent.on_hold ? "恢复通话" : "保持";
}

async function toggleLine(line, on) {
  try {
    renderAgent(await desk.api(`api/lines/${line}/${on ? "login" : "logout"}`, { method: "POST" }));
  } catch (err) { desk.$("call-msg").textContent = err.message; renderAgent(state.agent); }
}

function renderTicket(pop) {
  const t = pop.ticket;
  desk.$("no-ticket").hidden = Boolean(t);
  desk.$("ticket").hidden = !t;
  if (!t) {
    desk.$("no-ticket").textContent = `来电 ${pop.caller_number || ""} 进入${pop.queue_zh}队列,未找到预填工单`;
    return;
  }
  const box = desk.$("ticket");
  box.dataset.popId = pop.pop_id;
  box.dataset.number = t.number;
  box.dataset.line = t.line;
  desk.$("ticket-number").textContent = t.number;
  desk.$("ticket-line").textContent = t.line_zh;
  // A line chosen by keys has no routing confidence: say how it was chosen instead.
  desk.$("ticket-confidence").textContent =
    t.transcript ? `置信度 ${Math.round(t.confidence * 100)}%` : "按键选择";
  desk.$("ticket-flags").replaceChildren(...t.flags_zh.map((f) => desk.el("span", { class: "flag", text: f })));
  desk.$("ticket-stage").textContent = pop.stage === "answered" ? "通话中" : "振铃中";
  desk.$("ticket-caller").textContent =
    `来电号码 ${t.caller_number}  ·  受理时间 ${desk.fmtTime(t.created_at)}  ·  ${t.kind_zh}  ·  语音导航 ${t.ivr_path || "-"}`;
  desk.$("ticket-transcript").textContent = t.transcript || "(无语音转写)";
  desk.$("ticket-explanation").replaceChildren(...t.explanation.map((x) => desk.el("li", { text: x })));
  renderRecordings(t);
  desk.$("f-line").value = t.line;
  desk.$("f-kind").value = t.kind;
  desk.$("f-sla").value = String(t.sla_days);
  desk.$("f-due").value = desk.fmtTime(t.due_at);
  desk.$("f-address").value = t.address;
  desk.$("f-summary").value = t.summary || t.transcript;
  desk.$("f-department").value = t.department || "";
  desk.$("dispatch-button").disabled = t.status !== "new";
  desk.$("dispatch-msg").textContent = t.status !== "new" ? "已派发" : "";
  desk.$("dispatch-msg").className = "msg";
}

// The caller's speech from the IVR (speech-*.wav) and the whole call (MixMonitor), named by
// their path in the recordings folder. Rebuilt only when the list changes: a pop update must
// not stop a recording the agent is listening to.
function renderRecordings(t) {
  const box = desk.$("ticket-recordings");
  const paths = t.recordings || [];
  const key = `${t.number}|${paths.join("|")}`;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...paths.map((path) => {
    const url = `api/tickets/${encodeURIComponent(t.number)}/recordings/`
      + path.split("/").map(encodeURIComponent).join("/");
    const speech = path.split("/").pop().startsWith("speech-");
    return desk.el("div", { class: "recording", "data-recording": path },
      desk.el("span", { text: speech ? "来电诉求录音" : "通话录音" }),
      desk.el("audio", { controls: "", preload: "none", src: url }),
      desk.el("a", { href: `${url}?download=1`, text: "下载" }));
  }));
}

function renderSide(pop) {
  desk.$("repeat-flag").hidden = !pop.repeat;
  const history = desk.$("history");
  history.replaceChildren(...(pop.history.length ? pop.history.map((h) => desk.el("li", {},
    desk.el("div", {}, desk.el("b", { text: h.number }), ` ${h.line_zh} · ${h.kind_zh} · ${h.status_zh}`),
    desk.el("div", { class: "muted", text: `${desk.fmtTime(h.created_at)}  ${h.summary}` })))
    : [desk.el("li", { class: "muted", text: "无历史来电" })]));
  renderHits(pop.kb);
}

function renderHits(hits) {
  desk.$("kb-hits").replaceChildren(...(hits.length ? hits.map((h, i) => {
    const answer = desk.el("div", { class: "kb-answer", text: h.answer });
    answer.hidden = i > 0;  // the best answer open, the others one click away
    return desk.el("li", { "data-article": h.id },
      desk.el("div", { class: "kb-title", text: `${h.title}`, onclick: () => { answer.hidden = !answer.hidden; } }),
      desk.el("span", { class: "muted", text: h.line_zh }), answer);
  }) : [desk.el("li", { class: "muted", text: "没有找到相关知识" })]));
}

function onMessage(msg, ws) {
  if (msg.type === "pop") {
    const same = state.pop && state.pop.linkedid === msg.linkedid && state.pop.pop_id !== msg.pop_id
      && (state.pop.ticket && state.pop.ticket.number) === (msg.ticket && msg.ticket.number);
    if (same) {
      // The answer confirms the pop already on screen: keep what the agent has typed meanwhile.
      state.pop.stage = msg.stage;
      desk.$("ticket-stage").textContent = msg.stage === "answered" ? "通话中" : "振铃中";
      if (msg.ticket) desk.$("ticket").dataset.popId = msg.pop_id;
    } else {
      state.pop = msg;
      renderTicket(msg);
      renderSide(msg);
    }
    // The ticket is in the DOM now: tell the server, which measures screen-pop latency from the AMI event.
    ws.send(JSON.stringify({ type: "rendered", pop_id: msg.pop_id }));
  } else if (msg.type === "agent_state" || msg.type === "hello") {
    renderAgent(msg.agent);
  } else if (msg.type === "pop_cancel" && state.pop && state.pop.linkedid === msg.linkedid) {
    desk.$("ticket-stage").textContent = msg.reason === "caller_left" ? "来电已挂断" : "已由其他坐席接听";
  } else if (msg.type === "call_ended" && state.pop && state.pop.linkedid === msg.linkedid) {
    desk.$("ticket-stage").textContent = "通话已结束,请完成工单";
  }
}

async function dispatchTicket() {
  const pop = state.pop;
  if (!pop || !pop.ticket) return;
  const msg = desk.$("dispatch-msg");
  const department = desk.$("f-department").value;
  if (!department) { msg.textContent = "请选择承办单位"; msg.className = "msg err"; return; }
  const changes = {
    line: desk.$("f-line").value, kind: desk.$("f-kind").value, sla_days: Number(desk.$("f-sla").value),
    address: desk.$("f-address").value, summary: desk.$("f-summary").value,
  };
  try {
    const result = await desk.api(`api/tickets/${encodeURIComponent(pop.ticket.number)}/dispatch`,
      { method: "POST", body: { department, changes } });
    pop.ticket.status = result.ticket.status;
    msg.textContent = `已派发至 ${result.ticket.department}`;
    msg.className = "msg ok";
    desk.$("dispatch-button").disabled = true;
  } catch (err) { msg.textContent = err.message; msg.className = "msg err"; }
}

async function callAction(action, body) {
  const msg = desk.$("call-msg");
  try {
    const result = await desk.api(`api/call/${action}`, { method: "POST", body });
    msg.textContent = result.message || "操作成功";
    if (result.agent) renderAgent(result.agent);
  } catch (err) { msg.textContent = err.message; }
}

async function start() {
  state.me = await desk.api("api/me");
  desk.csrf = state.me.csrf;
  desk.$("agent-name").textContent = `${state.me.user.name} · 话机 ${state.me.user.endpoint || "-"}`;
  desk.$("supervisor-link").hidden = !["supervisor", "admin"].includes(state.me.user.role);
  // Choices are fixed for the session: built once, each pop only sets the values.
  desk.$("f-line").replaceChildren(...state.me.lines.map((l) => option(l.id, l.zh)));
  desk.$("f-kind").replaceChildren(...state.me.kinds.map((k) => option(k.id, k.zh)));
  desk.$("f-department").replaceChildren(option("", "请选择承办单位"),
    ...state.me.departments.map((d) => option(d, d)));
  const targets = desk.$("transfer-target");
  targets.replaceChildren(...state.me.lines.filter((l) => l.id !== "police_110").map((l) => option(l.id, `转 ${l.zh}`)),
    ...state.me.specialists.map((s) => option(s.id, `转 ${s.name}`)));
  renderAgent(state.me.agent);
  desk.$("logout-button").addEventListener("click", desk.logout);
  desk.$("dispatch-button").addEventListener("click", dispatchTicket);
  desk.$("pause-button").addEventListener("click", async () => {
    const paused = state.agent && state.agent.status === "paused";
    try {
      renderAgent(await desk.api(paused ? "api/unpause" : "api/pause",
        { method: "POST", body: { reason: desk.$("pause-reason").value } }));
    } catch (err) { desk.$("call-msg").textContent = err.message; }
  });
  desk.$("wrapup-button").addEventListener("click", async () => {
    renderAgent(await desk.api("api/wrapup/finish", { method: "POST" }));
  });
  desk.$("hold-button").addEventListener("click",
    () => callAction(state.agent && state.agent.on_hold ? "unhold" : "hold"));
  desk.$("transfer-button").addEventListener("click",
    () => callAction("transfer", { target: desk.$("transfer-target").value }));
  desk.$("three-way-button").addEventListener("click", () => callAction("three-way-110"));
  desk.$("kb-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = desk.$("kb-query").value.trim();
    if (!q) return;
    const line = state.pop && state.pop.ticket ? state.pop.ticket.line : "";
    renderHits((await desk.api(`api/kb?q=${encodeURIComponent(q)}&line=${line}`)).hits);
  });
  desk.socket(onMessage);
}

start().catch((err) => { desk.$("no-ticket").textContent = err.message; });
