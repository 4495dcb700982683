// Administrator page: config validation and reloads, users and phones, recording access log.
"use strict";

const ROLE_ZH = { agent: "坐席", supervisor: "班长", admin: "管理员" };

async function start() {
  const me = await desk.api("api/me");
  desk.csrf = me.csrf;
  desk.$("logout-button").addEventListener("click", desk.logout);
  const lineZh = Object.fromEntries(me.lines.map((l) => [l.id, l.zh]));
  const s = await desk.api("api/admin/status");
  desk.$("config").replaceChildren(...(s.config.length ? s.config.map((c) => desk.el("tr", {},
    desk.el("td", { text: c.name }), desk.el("td", { text: c.path }),
    desk.el("td", {}, desk.el("span", { class: `badge ${c.ok ? "free" : "busy"}`, text: c.ok ? "正常" : "有错误" })),
    desk.el("td", { text: desk.fmtTime(c.last_reload) || "-" }),
    desk.el("td", { text: c.issues.join("\n") || "-" })))
    : [desk.el("tr", {}, desk.el("td", { colspan: "5", class: "muted", text: "暂无配置状态" }))]));
  desk.$("users").replaceChildren(...s.users.map((u) => desk.el("tr", {},
    desk.el("td", { text: u.username }), desk.el("td", { text: u.name }), desk.el("td", { text: ROLE_ZH[u.role] }),
    desk.el("td", { text: u.endpoint || "-" }), desk.el("td", { text: u.lines.map((l) => lineZh[l] || l).join("、") || "-" }))));
  desk.$("kb-count").textContent = `知识库文章 ${s.kb_articles} 篇`;
  desk.$("accesses").replaceChildren(...s.recording_accesses.map((a) => desk.el("tr", {},
    desk.el("td", { text: desk.fmtTime(a.at) }), desk.el("td", { text: a.who }), desk.el("td", { text: a.ticket }),
    desk.el("td", { text: a.recording }), desk.el("td", { text: a.action === "download" ? "下载" : "播放" }))));
}

start();
