// Supervisor page: live queues, agents, callers in the IVR with partial transcripts, ticket list.
"use strict";

const ivrCalls = new Map();
const agents = new Map();

function fmtWait(s) { return s >= 60 ? `${Math.floor(s / 60)}分${Math.round(s % 60)}秒` : `${Math.round(s)}秒`; }

function renderQueues(queues) {
  desk.$("queues").replaceChildren(...queues.map((q) => desk.el("tr", { "data-line": q.line },
    desk.el("td", { text: q.line_zh }), desk.el("td", { text: String(q.waiting) }),
    desk.el("td", { text: q.waiting ? fmtWait(q.longest_wait_s) : "-" }))));
}

function renderAgents() {
  desk.$("agents").replaceChildren(...[...agents.values()].map((a) => desk.el("tr", {},
    desk.el("td", { text: a.name }), desk.el("td", { text: a.endpoint }),
    desk.el("td", {}, desk.el("span", { class: `badge ${a.status}`, text: a.status_zh })),
    desk.el("td", { text: a.lines_zh.join("、") || "-" }))));
}

function renderIvr() {
  desk.$("ivr").replaceChildren(...[...ivrCalls.values()].map((c) => desk.el("tr", { "data-call": c.call_id },
    desk.el("td", { text: c.caller }), desk.el("td", { text: fmtWait(c.in_ivr_s) }),
    desk.el("td", { text: c.text + (c.final ? "" : " …") }))));
}

async function loadTickets() {
  const params = new URLSearchParams({ line: desk.$("filter-line").value, status: desk.$("filter-status").value,
                                       q: desk.$("filter-text").value.trim() });
  const data = await desk.api(`api/tickets?${params}`);
  desk.$("tickets").replaceChildren(...data.tickets.map((t) => desk.el("tr", {},
    desk.el("td", {}, desk.el("a", { href: "#", text: t.number, onclick: (e) => { e.preventDefault(); showAudit(t.number); } })),
    desk.el("td", { text: desk.fmtTime(t.created_at) }), desk.el("td", { text: t.caller_number }),
    desk.el("td", { text: t.line_zh }), desk.el("td", { text: t.kind_zh }), desk.el("td", { text: t.status_zh }),
    desk.el("td", { text: t.department || "-" }), desk.el("td", { text: (t.summary || t.transcript).slice(0, 40) }))));
}

async function showAudit(number) {
  const data = await desk.api(`api/tickets/${encodeURIComponent(number)}/audit`);
  desk.$("audit").replaceChildren(desk.el("h2", { text: `工单 ${number} 修改记录` }),
    desk.el("table", { class: "grid" }, desk.el("tbody", {}, ...data.audit.map((a) => desk.el("tr", {},
      desk.el("td", { text: desk.fmtTime(a.at) }), desk.el("td", { text: a.who }), desk.el("td", { text: a.field }),
      desk.el("td", { text: a.before }), desk.el("td", { text: `→ ${a.after}` }))))));
}

function onMessage(msg) {
  if (msg.type === "hello" && msg.live) {
    renderQueues(msg.live.queues);
    for (const a of msg.live.agents) agents.set(a.username, a);
    for (const c of msg.live.ivr) ivrCalls.set(c.call_id, c);
    renderAgents(); renderIvr();
  } else if (msg.type === "queues") {
    renderQueues(msg.queues);
  } else if (msg.type === "agent_state") {
    agents.set(msg.agent.username, msg.agent); renderAgents();
  } else if (msg.type === "ivr_partial") {
    ivrCalls.set(msg.call.call_id, msg.call); renderIvr();
  } else if (msg.type === "ivr_gone") {
    ivrCalls.delete(msg.call_id); renderIvr();
  }
}

async function start() {
  const me = await desk.api("api/me");
  desk.csrf = me.csrf;
  desk.$("who").textContent = me.user.name;
  desk.$("admin-link").hidden = me.user.role !== "admin";
  desk.$("filter-line").append(...me.lines.map((l) => desk.el("option", { value: l.id, text: l.zh })));
  desk.$("logout-button").addEventListener("click", desk.logout);
  desk.$("filter").addEventListener("submit", (e) => { e.preventDefault(); loadTickets(); });
  desk.socket(onMessage);
  await loadTickets();
  // Waiting times move on their own between events.
  setInterval(async () => renderQueues((await desk.api("api/live")).queues), 5000);
}

start();
