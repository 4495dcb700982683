from __future__ import annotations

from datetime import date

import pytest

from asr.grammars import YES_NO_ZH
from ivr.config import POLICE_LINE, IvrConfig, parse_ivr_config, reachable
from ivr.machine import (
    CreateTicket,
    DigitsEntered,
    Event,
    Finish,
    HungUp,
    KeyPressed,
    MachineError,
    NoInput,
    Play,
    PromptDone,
    ReadDigits,
    Routed,
    RouteText,
    SpeechHeard,
    SpeechUnavailable,
    StartSpeech,
    TicketCreated,
    WaitDigit,
)
from ivr.ports import SpeechResult

from .fakes import DEFAULT_YAML, Decision, Driver, default_config


def answer(driver: Driver, keys: list[str], *, barge_in: bool = False,
           speech: Event | None = None, decision: Decision | None = None,
           ticket: str | None = "T1", limit: int = 100) -> Finish:
    """Play the caller: `keys` are pressed in order ('' = stay silent at the wait)."""
    keys = list(keys)
    for _ in range(limit):
        step = driver.step
        if isinstance(step, Finish):
            return step
        if isinstance(step, Play):
            if barge_in and keys and keys[0] and keys[0] in step.escape:
                driver.feed(KeyPressed(keys.pop(0)))
            else:
                driver.feed(PromptDone(), 3.0)
        elif isinstance(step, WaitDigit):
            key = keys.pop(0)
            driver.feed(KeyPressed(key) if key else NoInput(), step.timeout if not key else 1)
        elif isinstance(step, ReadDigits):
            driver.feed(DigitsEntered(keys.pop(0)))
        elif isinstance(step, StartSpeech):
            assert speech is not None
            driver.feed(speech, 8.0)
        elif isinstance(step, RouteText):
            driver.feed(Routed(decision), 0.01)
        elif isinstance(step, CreateTicket):
            driver.feed(TicketCreated(ticket), 0.02)
        else:  # pragma: no cover
            raise AssertionError(step)
    raise AssertionError("machine did not finish")


EXPECTED = {
    ("1",): "enterprise",
    ("2",): "property",
    ("3", "1"): "hr_social_security",
    ("3", "2"): "womens_rights",
    ("4",): "market_regulation",
    ("0",): "general",
    ("3", "0"): "general",
}


@pytest.mark.parametrize(("keys", "line"), sorted(EXPECTED.items()))
def test_keys_reach_each_line(keys: tuple[str, ...], line: str) -> None:
    d = Driver()
    finish = answer(d, list(keys))
    v = d.variables()
    assert v["ROUTE_ACTION"] == "queue"
    assert v["ROUTE_LINE"] == line
    assert v["ROUTE_QUEUE"] == default_config().lines[line].queue
    assert v["TICKET_ID"] == "T1"
    assert finish.path.keys == "".join(keys)
    assert v["IVR_PATH"].endswith(f">{line}")


def test_default_menus_reach_every_line_and_police() -> None:
    assert reachable(default_config()) == {
        "enterprise", "property", "hr_social_security", "womens_rights", "market_regulation",
        "general", POLICE_LINE}


def test_key_during_greeting_interrupts_it_and_selects() -> None:
    d = Driver()
    first = d.step
    assert isinstance(first, Play) and first.prompt.key == "greeting"
    assert first.escape == "0123456789*#"
    d.feed(KeyPressed("2"))
    assert isinstance(d.step, CreateTicket)
    answer(d, [])
    assert d.variables()["ROUTE_LINE"] == "property"
    assert "menu-main" not in d.finish.path.prompts  # never had to hear the menu


def test_key_during_menu_prompt_interrupts_it() -> None:
    d = Driver()
    answer(d, ["4"], barge_in=True)
    assert d.variables()["ROUTE_LINE"] == "market_regulation"
    assert not any(isinstance(s, WaitDigit) for s in d.steps)


def test_silence_follows_no_input_retries_then_general() -> None:
    d = Driver()
    answer(d, ["", "", ""])
    v = d.variables()
    assert v["ROUTE_LINE"] == "general" and v["ROUTE_QUEUE"] == "general"
    assert d.finish.path.reason == "no_input"
    prompts = d.finish.path.prompts
    # menu, notice+menu twice (retries: 2), then the transfer prompt
    assert prompts.count("defaults-no-input") == 2
    assert prompts.count("menu-main") == 3


def test_invalid_keys_follow_their_own_retry_count() -> None:
    d = Driver()
    answer(d, ["7", "8", "7"])
    assert d.variables()["ROUTE_LINE"] == "general"
    assert d.finish.path.reason == "invalid"
    assert d.finish.path.prompts.count("defaults-invalid") == 2


def test_wrong_key_interrupts_the_prompt_too() -> None:
    d = Driver()
    answer(d, ["7", "8", "1"], barge_in=True)
    assert d.variables()["ROUTE_LINE"] == "enterprise"
    assert d.finish.path.keys == "781"
    assert not any(isinstance(s, WaitDigit) for s in d.steps)


def test_counts_are_separate_for_silence_and_invalid() -> None:
    d = Driver()
    # two silences and two invalid keys stay within their own limits; then a good key
    answer(d, ["", "7", "", "8", "1"])
    assert d.variables()["ROUTE_LINE"] == "enterprise"


def test_repeat_replays_menu_without_counting() -> None:
    d = Driver()
    answer(d, ["*", "*", "*", "1"])
    assert d.variables()["ROUTE_LINE"] == "enterprise"
    assert d.finish.path.prompts.count("menu-main") == 4


def test_submenu_back_to_main() -> None:
    d = Driver()
    answer(d, ["3", "*", "2"])
    assert d.variables()["ROUTE_LINE"] == "property"
    assert d.finish.path.menus == ("main", "people", "main")
    assert d.variables()["IVR_PATH"] == "main:3>people:*>main:2>property"


def test_hangup_in_menu_finishes_without_route() -> None:
    d = Driver()
    d.feed(PromptDone())
    d.feed(HungUp())
    finish = d.finish
    assert finish.path.action == "hangup" and finish.path.queue == ""
    with pytest.raises(MachineError):
        d.machine.feed(PromptDone(), 1.0)


def test_police_key() -> None:
    d = Driver()
    answer(d, ["6"])
    v = d.variables()
    assert v["ROUTE_ACTION"] == "police110" and v["ROUTE_LINE"] == POLICE_LINE
    assert v["ROUTE_QUEUE"] == "general"  # if the 110 leg fails, a person still answers
    assert "police110" in d.finish.path.prompts


def test_callback_number_is_kept() -> None:
    d = Driver()
    answer(d, ["5", "12", "13800138000"])
    v = d.variables()
    assert v["ROUTE_ACTION"] == "callback" and v["CALLBACK_NUMBER"] == "13800138000"
    assert d.finish.path.prompts.count("callback-invalid") == 1


def test_callback_gives_up_to_general() -> None:
    d = Driver()
    answer(d, ["5", "", "1", "22"])
    assert d.variables()["ROUTE_ACTION"] == "queue"
    assert d.variables()["ROUTE_LINE"] == "general"


def test_speech_routes_and_creates_ticket_with_transcript() -> None:
    d = Driver()
    heard = SpeechHeard(SpeechResult("小区物业不给修电梯", "silence", "/rec/1.wav"))
    answer(d, ["9"], speech=heard, decision=Decision("property"), ticket="20261126-00001")
    v = d.variables()
    assert v["ROUTE_LINE"] == "property" and v["TICKET_ID"] == "20261126-00001"
    tickets = [s for s in d.steps if isinstance(s, CreateTicket)]
    assert tickets[0].transcript == "小区物业不给修电梯"
    assert tickets[0].path.line == "property"
    assert d.finish.path.transcript == "小区物业不给修电梯"


def test_low_confidence_goes_to_general() -> None:
    d = Driver()
    heard = SpeechHeard(SpeechResult("嗯那个", "silence"))
    answer(d, ["9"], speech=heard, decision=Decision("property", confidence=0.2,
                                                     low_confidence=True))
    assert d.variables()["ROUTE_LINE"] == "general"


def test_speech_police_decision_takes_110_path() -> None:
    d = Driver()
    heard = SpeechHeard(SpeechResult("有人正在打我", "silence"))
    answer(d, ["9"], speech=heard, decision=Decision(POLICE_LINE, low_confidence=True))
    assert d.variables()["ROUTE_ACTION"] == "police110"


def answer_question(d: Driver, said: str, decision: Decision, answer_event: Event,
                    keys: list[str]) -> list[StartSpeech]:
    """Press 9, say `said` (routed to `decision`), then answer the yes/no question with
    `answer_event`; returns the speech steps (the request, then the question)."""
    heard = SpeechHeard(SpeechResult(said, "silence"))
    steps: list[StartSpeech] = []
    keys = ["9", *keys]
    for _ in range(100):
        step = d.step
        if isinstance(step, Finish):
            return steps
        if isinstance(step, Play):
            d.feed(PromptDone(), 3.0)
        elif isinstance(step, WaitDigit):
            key = keys.pop(0)
            d.feed(KeyPressed(key) if key else NoInput(), 1)
        elif isinstance(step, StartSpeech):
            steps.append(step)
            d.feed(heard if len(steps) == 1 else answer_event, 2.0)
        elif isinstance(step, RouteText):
            d.feed(Routed(decision), 0.01)
        elif isinstance(step, CreateTicket):
            d.feed(TicketCreated("T1"), 0.02)
        else:  # pragma: no cover
            raise AssertionError(step)
    raise AssertionError("machine did not finish")


def confirm_police(d: Driver, answer_event: Event, keys: list[str]) -> list[StartSpeech]:
    """A middling police guess, then the answer to 需要报警吗."""
    return answer_question(d, "隔壁 好像 在 吵架", Decision(POLICE_LINE, confidence=0.6),
                           answer_event, keys)


@pytest.mark.parametrize(("said", "key", "action", "line"), [
    ("是", "", "police110", POLICE_LINE),       # yes, said
    ("", "1", "police110", POLICE_LINE),       # yes, keyed
    ("", "", "police110", POLICE_LINE),        # silence: an emergency caller may not answer
    ("嗯 这个", "", "police110", POLICE_LINE),  # no clear answer: still 110
    ("不是", "", "queue", "general"),            # an explicit no, said
    ("", "2", "queue", "general"),             # an explicit no, keyed
])
def test_middling_police_guess_is_confirmed_by_a_word_or_a_key(
        said: str, key: str, action: str, line: str) -> None:
    d = Driver()
    result = SpeechResult(said, "dtmf" if key else "silence", key=key)
    steps = confirm_police(d, SpeechHeard(result), [])
    assert "police110-confirm" in d.finish.path.prompts
    # The question is a short answer: grammar mode with the yes/no phrases.
    assert steps[1].grammar == YES_NO_ZH and not steps[0].grammar
    assert d.variables()["ROUTE_ACTION"] == action
    assert d.finish.path.line == line


@pytest.mark.parametrize(("key", "line"), [("2", "general"), ("", POLICE_LINE)])
def test_police_question_falls_back_to_keys_without_a_recognizer(key: str, line: str) -> None:
    d = Driver()
    confirm_police(d, SpeechUnavailable(), [key])
    assert d.finish.path.line == line


def test_confident_police_guess_is_not_delayed_by_a_question() -> None:
    d = Driver()
    heard = SpeechHeard(SpeechResult("有人 拿 刀 砍 人", "silence"))
    answer(d, ["9"], speech=heard, decision=Decision(POLICE_LINE, confidence=0.95))
    assert "police110-confirm" not in d.finish.path.prompts
    assert d.variables()["ROUTE_ACTION"] == "police110"


def test_no_recognizer_free_offers_key_menu() -> None:
    d = Driver()
    answer(d, ["9", "2"], speech=SpeechUnavailable())
    assert d.variables()["ROUTE_LINE"] == "property"
    assert "speech-busy" in d.finish.path.prompts


def test_empty_transcript_back_to_keys() -> None:
    d = Driver()
    answer(d, ["9", "1"], speech=SpeechHeard(SpeechResult("", "silence")))
    assert d.variables()["ROUTE_LINE"] == "enterprise"
    assert "speech-not-understood" in d.finish.path.prompts


def test_hangup_during_speech() -> None:
    d = Driver()
    answer(d, ["9"], speech=SpeechHeard(SpeechResult("", "hangup")))
    assert d.finish.path.action == "hangup"


def test_timings_use_the_fed_clock() -> None:
    d = Driver()
    answer(d, ["", "1"])
    path = d.finish.path
    assert path.duration == pytest.approx(d.now - 100.0)
    no_input = next(s for s in path.steps if s.kind == "no_input")
    assert no_input.at == pytest.approx(3.0 + 3.0 + 6.0)  # greeting, menu, 6 s timeout


def test_greeting_variant_by_date() -> None:
    d = Driver(today=date(2026, 10, 3))
    first = d.step
    assert isinstance(first, Play) and first.prompt.key == "greeting-national_day"
    d = Driver(today=date(2026, 10, 9))
    assert isinstance(d.step, Play) and d.step.prompt.key == "greeting"


def _agent_config() -> IvrConfig:
    text = DEFAULT_YAML.read_text().replace("  enabled: false\n  prompt: 请输入坐席分机号码",
                                            "  enabled: true\n  prompt: 请输入坐席分机号码")
    text = text.replace('      "9": {action: speech}\n',
                        '      "9": {action: speech}\n      "8": {action: agent}\n')
    return parse_ivr_config(text)


def test_agent_direct_dial() -> None:
    d = Driver(_agent_config())
    answer(d, ["8", "8001"])
    v = d.variables()
    assert v["ROUTE_ACTION"] == "agent" and v["ROUTE_AGENT"] == "8001"
    assert v["ROUTE_QUEUE"] == "general"  # if the agent does not answer


def test_agent_extension_outside_pattern_back_to_menu() -> None:
    d = Driver(_agent_config())
    answer(d, ["8", "9999", "2"])
    assert d.variables()["ROUTE_LINE"] == "property"
    assert "agent-invalid" in d.finish.path.prompts


def unsure_guess(d: Driver, answer_event: Event, keys: list[str]) -> list[StartSpeech]:
    """Something the router places on the property line, unsure, then the answer."""
    return answer_question(d, "小区 那个 事 一直 没 人 管",
                           Decision("property", confidence=0.2, low_confidence=True),
                           answer_event, keys)


@pytest.mark.parametrize(("said", "key", "line"), [
    ("是的", "", "property"),   # yes, said: the guessed line
    ("", "1", "property"),     # yes, keyed
    ("不对", "", "general"),     # no: the general line, as before the question existed
    ("", "", "general"),       # nothing clear: the general line
])
def test_unsure_line_guess_is_put_to_the_caller(said: str, key: str, line: str) -> None:
    d = Driver()
    result = SpeechResult(said, "dtmf" if key else "silence", key=key)
    steps = unsure_guess(d, SpeechHeard(result), [])
    assert "confirm-property" in d.finish.path.prompts
    assert steps[1].grammar == YES_NO_ZH
    assert d.finish.path.line == line


def test_unsure_line_question_by_key_without_a_recognizer() -> None:
    d = Driver()
    unsure_guess(d, SpeechUnavailable(), ["1"])
    assert d.finish.path.line == "property"
