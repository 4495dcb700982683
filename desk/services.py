"""The desk's composition: the ports it is given (DeskDeps), services built from them once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from desk.agents import AgentService
from desk.callcontrol import CallControl
from desk.config import DeskConfig
from desk.dispatch import DispatchService
from desk.kb import KnowledgeBase
from desk.live import LiveBoard
from desk.metrics import DeskMetrics
from desk.notifier import Notifier
from desk.ports import AmiActionPort, Clock, ConfigStatusPort, NoConfig, Police110Port, TicketPort
from desk.recordings import RecordingLibrary
from desk.router import EventRouter
from desk.screenpop import PopService
from desk.sessions import LoginLimiter, SessionStore
from desk.users import UserDirectory
from hotline.bus import EventBus


@dataclass(frozen=True)
class DeskDeps:
    """Everything the desk is given by the composition root."""

    tickets: TicketPort
    bus: EventBus
    ami: AmiActionPort
    kb: KnowledgeBase
    users: UserDirectory
    clock: Clock
    police110: Police110Port
    config: DeskConfig = field(default_factory=DeskConfig)
    config_status: ConfigStatusPort = field(default_factory=NoConfig)
    recordings_dir: Path | None = None


@dataclass(frozen=True)
class Desk:
    """The desk's services, reachable from handlers through DESK."""

    deps: DeskDeps
    sessions: SessionStore
    limiter: LoginLimiter
    notifier: Notifier
    agents: AgentService
    calls: CallControl
    pops: PopService
    dispatcher: DispatchService
    live: LiveBoard
    metrics: DeskMetrics
    router: EventRouter
    recordings: RecordingLibrary


DESK = web.AppKey("desk", Desk)


def build_desk(deps: DeskDeps) -> Desk:
    notifier = Notifier()
    metrics = DeskMetrics()
    agents = AgentService(deps.ami, notifier, deps.clock, deps.config.wrapup_s)
    live = LiveBoard(deps.clock)
    pops = PopService(
        deps.tickets, deps.users, deps.kb, agents, notifier, metrics, deps.clock, deps.config
    )
    metrics.watch_live(live.waiting_per_line, lambda: _agents_by_status(agents, notifier))
    # The composition root passes the recordings folder of the service settings.
    recordings_dir = deps.recordings_dir or Path("var/recordings")
    return Desk(
        deps=deps,
        sessions=SessionStore(),
        limiter=LoginLimiter(),
        notifier=notifier,
        agents=agents,
        calls=CallControl(deps.ami, agents, deps.police110, deps.config),
        pops=pops,
        dispatcher=DispatchService(deps.tickets, agents, pops, deps.clock, metrics, deps.config),
        live=live,
        metrics=metrics,
        router=EventRouter(pops, live, notifier, metrics, deps.clock),
        recordings=RecordingLibrary(recordings_dir, deps.clock),
    )


def _agents_by_status(agents: AgentService, notifier: Notifier) -> dict[str, int]:
    counts: dict[str, int] = {}
    for st in agents.known():
        if notifier.is_online(st.user.username):
            counts[st.status] = counts.get(st.status, 0) + 1
    return counts
