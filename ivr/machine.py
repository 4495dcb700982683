"""One caller's way through the menus, as a pure state machine.

The machine does no I/O and reads no clock: the runner feeds it what happened
(a key, a timeout, a hang-up, a transcript, ...) with the current monotonic
time, and gets back the next step to carry out (play a prompt, wait for a key,
start the speech step, ...). The flow is written as a generator because a menu
is a sequence of waits; the class around it hides that and makes every call
a plain `feed(event, now) -> step`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date

from asr.grammars import YES_NO_ZH, read_yes_no
from ivr.config import (
    GENERAL_LINE,
    POLICE_LINE,
    Action,
    AgentAction,
    CallbackAction,
    IvrConfig,
    Menu,
    PoliceAction,
    Prompt,
    QueueAction,
    RepeatAction,
    SpeechAction,
    SubmenuAction,
)
from ivr.ports import RouteDecision, SpeechOutcome
from ivr.record import CallerContext, IvrPath, PathStep

# Seconds a caller gets to answer "need the police? yes/1, no/2" before 110 is called.
POLICE_CONFIRM_SECONDS = 5.0

# ---- steps: what the runner must do next -------------------------------------------

@dataclass(frozen=True)
class Play:
    """Play a prompt; a key in `escape` interrupts it (STREAM FILE)."""

    prompt: Prompt
    escape: str


@dataclass(frozen=True)
class WaitDigit:
    timeout: float


@dataclass(frozen=True)
class ReadDigits:
    """Play a prompt and collect several keys ended by # (GET DATA)."""

    prompt: Prompt
    timeout: float
    max_digits: int


@dataclass(frozen=True)
class StartSpeech:
    max_seconds: float
    grammar: tuple[str, ...] = ()  # a short answer: recognise only these phrases


@dataclass(frozen=True)
class RouteText:
    text: str


@dataclass(frozen=True)
class CreateTicket:
    transcript: str
    decision: RouteDecision | None
    path: IvrPath


@dataclass(frozen=True)
class Finish:
    """Set these channel variables and hand the call back to the dialplan."""

    variables: tuple[tuple[str, str], ...]
    path: IvrPath


Step = Play | WaitDigit | ReadDigits | StartSpeech | RouteText | CreateTicket | Finish

# ---- events: what happened ---------------------------------------------------------


@dataclass(frozen=True)
class KeyPressed:
    digit: str


@dataclass(frozen=True)
class PromptDone:
    failed: bool = False  # the sound could not be played; the menu carries on regardless


@dataclass(frozen=True)
class NoInput:
    pass


@dataclass(frozen=True)
class DigitsEntered:
    digits: str


@dataclass(frozen=True)
class HungUp:
    pass


@dataclass(frozen=True)
class SpeechUnavailable:
    pass


@dataclass(frozen=True)
class SpeechHeard:
    result: SpeechOutcome


@dataclass(frozen=True)
class Routed:
    decision: RouteDecision | None


@dataclass(frozen=True)
class TicketCreated:
    number: str | None


Event = (KeyPressed | PromptDone | NoInput | DigitsEntered | HungUp | SpeechUnavailable
         | SpeechHeard | Routed | TicketCreated)

Flow = Generator[Step, Event, Finish]

# Every key interrupts a menu's prompts, a wrong one too: the caller then hears at once
# that the key was wrong instead of talking over a prompt that ignores them.
ANY_KEY = "0123456789*#"


class _CallerGone(Exception):
    pass


class MachineError(RuntimeError):
    """The runner fed an event the machine cannot take (a bug, caught by the runner)."""


@dataclass
class _Outcome:
    line: str = ""
    action: str = ""
    reason: str = ""
    transcript: str = ""
    ticket_id: str = ""
    callback_number: str = ""
    agent_extension: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class CallMachine:
    def __init__(self, config: IvrConfig, call_id: str, caller: CallerContext,
                 started_at: float, today: date) -> None:
        self.config = config
        self.call_id = call_id
        self.caller = caller
        self.started_at = started_at
        self.today = today
        self._t0: float | None = None
        self._now = 0.0
        self._steps: list[PathStep] = []
        self._speech_recordings: list[str] = []
        self._flow = self._call()
        self.finished: Finish | None = None

    # -- driving ---------------------------------------------------------------------
    def start(self, now: float) -> Step:
        self._t0 = self._now = now
        return self._advance(None)

    def feed(self, event: Event, now: float) -> Step:
        if self._t0 is None or self.finished is not None:
            raise MachineError("feed() before start() or after Finish")
        self._now = now
        return self._advance(event)

    def _advance(self, event: Event | None) -> Step:
        try:
            step = next(self._flow) if event is None else self._flow.send(event)
        except StopIteration as stop:
            finish: Finish = stop.value
            self.finished = finish
            return finish
        return step

    # -- record ----------------------------------------------------------------------
    def _note(self, kind: str, detail: str) -> None:
        self._steps.append(PathStep(round(self._now - (self._t0 or self._now), 3), kind, detail))

    def path(self, out: _Outcome) -> IvrPath:
        line = out.line
        queue = self.config.queue_of(line) if line and line != POLICE_LINE else (
            self.config.queue_of(GENERAL_LINE) if line == POLICE_LINE else "")
        return IvrPath(
            call_id=self.call_id, caller=self.caller, started_at=self.started_at,
            duration=round(self._now - (self._t0 or self._now), 3), steps=tuple(self._steps),
            action=out.action, line=line, queue=queue, reason=out.reason,
            transcript=out.transcript, ticket_id=out.ticket_id,
            callback_number=out.callback_number, agent_extension=out.agent_extension,
            speech_recordings=tuple(self._speech_recordings))

    def _finish(self, out: _Outcome) -> Finish:
        path = self.path(out)
        variables = [("ROUTE_ACTION", out.action), ("ROUTE_QUEUE", path.queue or
                                                      self.config.queue_of(GENERAL_LINE)),
                     ("ROUTE_LINE", path.line), ("TICKET_ID", out.ticket_id),
                     ("IVR_PATH", path.summary())]
        if out.callback_number:
            variables.append(("CALLBACK_NUMBER", out.callback_number))
        if out.agent_extension:
            variables.append(("ROUTE_AGENT", out.agent_extension))
        return Finish(tuple(variables), path)

    # -- primitive waits -------------------------------------------------------------
    def _play(self, prompt: Prompt, escape: str = "") -> Generator[Step, Event, str | None]:
        """Play a prompt; the key that interrupted it, or None."""
        self._note("prompt", prompt.key)
        event = yield Play(prompt, escape)
        if isinstance(event, HungUp):
            raise _CallerGone
        if isinstance(event, KeyPressed):
            return event.digit
        if isinstance(event, PromptDone):
            return None
        raise MachineError(f"unexpected {event!r} after Play")

    def _wait_digit(self, timeout: float) -> Generator[Step, Event, str | None]:
        event = yield WaitDigit(timeout)
        if isinstance(event, HungUp):
            raise _CallerGone
        if isinstance(event, KeyPressed):
            return event.digit
        if isinstance(event, NoInput):
            return None
        raise MachineError(f"unexpected {event!r} after WaitDigit")

    def _read_digits(self, prompt: Prompt, timeout: float,
                     max_digits: int) -> Generator[Step, Event, str]:
        self._note("prompt", prompt.key)
        event = yield ReadDigits(prompt, timeout, max_digits)
        if isinstance(event, HungUp):
            raise _CallerGone
        if isinstance(event, DigitsEntered):
            return event.digits
        raise MachineError(f"unexpected {event!r} after ReadDigits")

    # -- the call --------------------------------------------------------------------
    def _call(self) -> Flow:
        try:
            return (yield from self._menus())
        except _CallerGone:
            self._note("hangup", "")
            return self._finish(_Outcome(action="hangup", reason="hangup"))

    def _menus(self) -> Flow:
        config = self.config
        menu = config.menus[config.start]
        pending = yield from self._play(config.greeting_for(self.today), ANY_KEY)
        while True:
            action, reason = yield from self._menu(menu, pending)
            pending = None
            if isinstance(action, SubmenuAction):
                menu = config.menus[action.menu]
                continue
            if isinstance(action, QueueAction):
                return (yield from self._to_line(action.line, reason))
            if isinstance(action, PoliceAction):
                return (yield from self._to_police(reason, "", None))
            if isinstance(action, CallbackAction):
                return (yield from self._callback())
            if isinstance(action, SpeechAction):
                done, pending = yield from self._speech(menu)
                if done is not None:
                    return done
                continue
            if isinstance(action, AgentAction):
                done, pending = yield from self._agent(menu)
                if done is not None:
                    return done
                continue
            raise MachineError(f"unhandled action {action!r}")

    def _menu(self, menu: Menu, pending: str | None) -> Generator[Step, Event, tuple[Action, str]]:
        """Run one menu until it yields an action (its own, or after_retries when they run out)."""
        self._note("menu", menu.name)
        escape = ANY_KEY
        no_input = invalid = 0
        notice: Prompt | None = None
        while True:
            key = pending
            pending = None
            if key is None and notice is not None:
                key = yield from self._play(notice, escape)
            if key is None:
                key = yield from self._play(menu.prompt, escape)
            if key is None:
                key = yield from self._wait_digit(menu.timeout_seconds)
            if key is None:
                no_input += 1
                self._note("no_input", str(no_input))
                if no_input > menu.no_input.retries:
                    return menu.after_retries, "no_input"
                notice = menu.no_input.prompt
                continue
            action = menu.options.get(key)
            if action is None:
                invalid += 1
                self._note("invalid", key)
                if invalid > menu.invalid.retries:
                    return menu.after_retries, "invalid"
                notice = menu.invalid.prompt
                continue
            self._note("key", key)
            if isinstance(action, RepeatAction):
                notice = None
                continue
            return action, "selected"

    def _ticket(self, out: _Outcome, decision: RouteDecision | None) -> Generator[Step, Event, str]:
        event = yield CreateTicket(out.transcript, decision, self.path(out))
        if isinstance(event, HungUp):
            raise _CallerGone
        if not isinstance(event, TicketCreated):
            raise MachineError(f"unexpected {event!r} after CreateTicket")
        self._note("ticket", event.number or "")
        return event.number or ""

    def _to_line(self, line: str, reason: str, transcript: str = "",
                 decision: RouteDecision | None = None) -> Flow:
        out = _Outcome(line=line, action="queue", reason=reason, transcript=transcript)
        out.ticket_id = yield from self._ticket(out, decision)
        yield from self._play(self.config.transfer)
        return self._finish(out)

    def _to_police(self, reason: str, transcript: str, decision: RouteDecision | None) -> Flow:
        out = _Outcome(line=POLICE_LINE, action="police110", reason=reason, transcript=transcript)
        out.ticket_id = yield from self._ticket(out, decision)
        yield from self._play(self.config.police)
        return self._finish(out)

    def _callback(self) -> Flow:
        cb = self.config.callback
        for attempt in range(3):
            digits = yield from self._read_digits(cb.prompt, cb.timeout_seconds, cb.max_digits)
            if digits.isdigit() and cb.min_digits <= len(digits) <= cb.max_digits:
                self._note("callback", f"{len(digits)} digits")
                out = _Outcome(line=GENERAL_LINE, action="callback", reason="selected",
                               callback_number=digits)
                out.ticket_id = yield from self._ticket(out, None)
                yield from self._play(cb.thanks)
                return self._finish(out)
            self._note("invalid", "callback")
            if attempt < 2:
                yield from self._play(cb.invalid)
        return (yield from self._to_line(GENERAL_LINE, "invalid"))

    def _speech(self, menu: Menu) -> Generator[Step, Event, tuple[Finish | None, str | None]]:
        speech = self.config.speech
        escape = ANY_KEY
        yield from self._play(speech.prompt)
        self._note("speech", "start")
        event = yield StartSpeech(speech.max_seconds)
        if isinstance(event, HungUp):
            raise _CallerGone
        if isinstance(event, SpeechUnavailable):
            self._note("speech", "unavailable")
            return None, (yield from self._play(speech.busy, escape))
        if not isinstance(event, SpeechHeard):
            raise MachineError(f"unexpected {event!r} after StartSpeech")
        result = event.result
        self._note("speech", f"ended_by={result.ended_by} chars={len(result.text)}")
        if result.recording_path:
            # Kept even when the words were not understood: the agent can still listen.
            self._speech_recordings.append(result.recording_path)
        if result.ended_by == "hangup":
            raise _CallerGone
        text = result.text.strip()
        if not text:
            return None, (yield from self._play(speech.not_understood, escape))
        routed = yield RouteText(text)
        if isinstance(routed, HungUp):
            raise _CallerGone
        if not isinstance(routed, Routed):
            raise MachineError(f"unexpected {routed!r} after RouteText")
        decision = routed.decision
        line = yield from self._speech_line(decision)
        self._note("route", f"{line} confidence={decision.confidence:.2f}" if decision else line)
        if line == POLICE_LINE:
            # A middling speech guess: confirmed by a word or a key. Only an explicit "no"
            # (不是, 2) keeps the caller on 12345; silence or anything else goes to 110.
            middling = (decision is not None
                        and decision.confidence < self.config.police_confirm_below)
            if middling and not (yield from self._police_confirmed()):
                return (yield from self._to_line(GENERAL_LINE, "speech", text, decision)), None
            return (yield from self._to_police("speech", text, decision)), None
        if line not in self.config.lines:
            line = GENERAL_LINE
        return (yield from self._to_line(line, "speech", text, decision)), None

    def _speech_line(self, decision: RouteDecision | None) -> Generator[Step, Event, str]:
        """The line for a routed transcript; an unsure guess is put to the caller first."""
        if decision is None:
            return GENERAL_LINE
        if decision.line == POLICE_LINE:
            return POLICE_LINE  # a possible emergency never waits behind a confidence flag
        if not decision.low_confidence:
            return decision.line
        if decision.line == GENERAL_LINE or decision.line not in self.config.lines:
            return GENERAL_LINE
        # 是/不是 or 1/2 rather than the general line unasked; anything but a clear yes
        # keeps the general line (where the agent confirms, as before).
        confirmed = yield from self._confirmed(self.config.line_confirm(decision.line), False)
        return decision.line if confirmed else GENERAL_LINE

    def _police_confirmed(self) -> Generator[Step, Event, bool]:
        """需要报警吗: False only for a clear no, said (grammar mode) or keyed."""
        return (yield from self._confirmed(self.config.police_confirm, True))

    def _confirmed(self, question: Prompt, unanswered: bool) -> Generator[Step, Event, bool]:
        """A yes/no question answered by a word (grammar mode) or a key (1 yes, 2 no).

        `unanswered` is the answer when the caller says nothing clear: True for 110 (an
        emergency caller may not answer), False for a line guess (the general line).
        """
        key = yield from self._play(question, "12")
        if key is None:
            event = yield StartSpeech(POLICE_CONFIRM_SECONDS, YES_NO_ZH)
            if isinstance(event, HungUp):
                raise _CallerGone
            if isinstance(event, SpeechHeard):
                if event.result.ended_by == "hangup":
                    raise _CallerGone
                key = event.result.key or None
                if key is None:
                    answer = read_yes_no(event.result.text)
                    self._note("confirm", f"said={event.result.text.strip() or 'nothing'}")
                    return unanswered if answer is None else answer
            else:  # no recognizer free: the key alone
                key = yield from self._wait_digit(POLICE_CONFIRM_SECONDS)
        self._note("confirm", key or "none")
        return {"1": True, "2": False}.get(key or "", unanswered)

    def _agent(self, menu: Menu) -> Generator[Step, Event, tuple[Finish | None, str | None]]:
        agent = self.config.agent_dial
        digits = yield from self._read_digits(agent.prompt, menu.timeout_seconds, 8)
        if agent.accepts(digits):
            self._note("agent", digits)
            out = _Outcome(line=GENERAL_LINE, action="agent", reason="selected",
                           agent_extension=digits)
            return self._finish(out), None
        self._note("invalid", "agent")
        return None, (yield from self._play(agent.invalid, ANY_KEY))
