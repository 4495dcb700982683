"""In-memory stand-ins for the IVR's ports and a scripted machine driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ivr.config import IvrConfig, load_ivr_config
from ivr.machine import CallMachine, Event, Finish, Step
from ivr.ports import RouteDecision, SpeechResult
from ivr.record import CallerContext, IvrPath

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_YAML = ROOT / "config" / "ivr.yaml"


def default_config() -> IvrConfig:
    return load_ivr_config(DEFAULT_YAML)


CALLER = CallerContext("13800138000", "sipp", "from-callers", False, 0)


@dataclass(frozen=True)
class Decision:
    line: str
    kind: str = "consultation"
    sla_days: int = 3
    confidence: float = 0.9
    low_confidence: bool = False


class FakeSession:
    def __init__(self, result: SpeechResult, command: str = "EXEC Wait 0.1") -> None:
        self._result = result
        self.agi_command = command
        self.cancelled = False

    async def result(self, timeout: float) -> SpeechResult:
        return self._result

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeSpeech:
    sessions: list[FakeSession] = field(default_factory=list)
    opened: int = 0

    def open_session(self, call_id: str) -> FakeSession | None:
        self.opened += 1
        return self.sessions.pop(0) if self.sessions else None


@dataclass
class FakeRouter:
    decision: Decision
    texts: list[str] = field(default_factory=list)

    def route(self, text: str) -> RouteDecision:
        self.texts.append(text)
        return self.decision


@dataclass
class FakeTickets:
    created: list[tuple[str, str, str, RouteDecision | None, IvrPath]] = field(default_factory=list)
    history: tuple[bool, int] = (False, 0)

    async def create_ticket(self, call_id: str, caller: str, transcript: str,
                            decision: RouteDecision | None, ivr_path: IvrPath) -> str:
        self.created.append((call_id, caller, transcript, decision, ivr_path))
        return f"20261126-{len(self.created):05d}"

    async def caller_context(self, caller: str) -> tuple[bool, int]:
        return self.history


class Driver:
    """Feeds a machine one event per step and keeps the steps, with a fake clock."""

    def __init__(self, config: IvrConfig | None = None, today: date = date(2026, 11, 26)) -> None:
        self.machine = CallMachine(config or default_config(), "call-1", CALLER, 1.7e9, today)
        self.now = 100.0
        self.steps: list[Step] = [self.machine.start(self.now)]

    @property
    def step(self) -> Step:
        return self.steps[-1]

    def feed(self, event: Event, seconds: float = 1.0) -> Step:
        self.now += seconds
        self.steps.append(self.machine.feed(event, self.now))
        return self.step

    @property
    def finish(self) -> Finish:
        assert isinstance(self.step, Finish), self.step
        return self.step

    def variables(self) -> dict[str, str]:
        return dict(self.finish.variables)
