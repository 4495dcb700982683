"""The record of one caller's way through the menus, kept with the call and its ticket."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallerContext:
    """Who is calling and from where, handed on with the call."""

    number: str            # as received; "" when withheld (never a repeat caller)
    trunk: str             # the endpoint the call came in on (site or trunk)
    context: str           # the dialplan context that ran the IVR
    called_recently: bool  # called in the last `caller_context.recent_days` days
    recent_calls: int


@dataclass(frozen=True)
class PathStep:
    at: float      # seconds since the IVR took the call
    kind: str      # menu, prompt, key, no_input, invalid, speech, route, ticket, hangup, error
    detail: str


@dataclass(frozen=True)
class IvrPath:
    """Published on the event bus when the IVR lets go of the call."""

    call_id: str
    caller: CallerContext
    started_at: float      # wall clock, seconds since the epoch
    duration: float        # seconds in the IVR
    steps: tuple[PathStep, ...]
    action: str            # queue, police110, callback, agent, hangup, error
    line: str              # the line chosen ("" on hang-up)
    queue: str             # the queue the dialplan joins next ("" on hang-up)
    reason: str            # selected, speech, no_input, invalid, hangup, error
    transcript: str = ""
    ticket_id: str = ""
    callback_number: str = ""
    agent_extension: str = ""
    # Absolute paths of the caller's speech saved by this call's speech steps (from the
    # speech outcome), for the ticket port to link; a caller may speak more than once.
    speech_recordings: tuple[str, ...] = ()

    @property
    def keys(self) -> str:
        return "".join(s.detail for s in self.steps if s.kind in ("key", "invalid"))

    @property
    def prompts(self) -> tuple[str, ...]:
        return tuple(s.detail for s in self.steps if s.kind == "prompt")

    @property
    def menus(self) -> tuple[str, ...]:
        return tuple(s.detail for s in self.steps if s.kind == "menu")

    def summary(self) -> str:
        """Compact form for the IVR_PATH channel variable: `main:3>people:1>hr_social_security`."""
        parts: list[str] = []
        for step in self.steps:
            if step.kind == "menu":
                parts.append(step.detail)
            elif step.kind in ("key", "invalid") and parts:
                parts[-1] += f":{step.detail}"
            elif step.kind == "no_input" and parts:
                parts[-1] += ":-"
            elif step.kind == "speech":
                parts.append("speech")
        parts.append(self.line or self.action)
        return ">".join(parts)[:200]
