"""The IVR menus of `config/ivr.yaml`: typed model, validation and loading.

Administrators edit this file by hand while the service runs, so validation
collects every problem it can find (each with file:line, in Chinese and
English) and raises one ConfigError; the caller of `load_ivr_config` keeps the
last good menus when that happens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from hotline.yamlconf import ConfigError, ConfigIssue, Located, PathKey, load_yaml, parse_yaml

MENU_KEYS = frozenset("0123456789*#")
GENERAL_LINE = "general"
POLICE_LINE = "police_110"


@dataclass(frozen=True)
class Prompt:
    """A sentence the caller hears; `key` names its sound file and its override."""

    key: str
    text: str


# One frozen dataclass per action a key can trigger.
@dataclass(frozen=True)
class QueueAction:
    line: str


@dataclass(frozen=True)
class SubmenuAction:
    menu: str


@dataclass(frozen=True)
class SpeechAction:
    pass


@dataclass(frozen=True)
class RepeatAction:
    pass


@dataclass(frozen=True)
class PoliceAction:
    pass


@dataclass(frozen=True)
class CallbackAction:
    pass


@dataclass(frozen=True)
class AgentAction:
    pass


Action = (QueueAction | SubmenuAction | SpeechAction | RepeatAction | PoliceAction
          | CallbackAction | AgentAction)


@dataclass(frozen=True)
class RetryRule:
    retries: int
    prompt: Prompt


@dataclass(frozen=True)
class Menu:
    name: str
    prompt: Prompt
    options: Mapping[str, Action]
    timeout_seconds: float
    no_input: RetryRule
    invalid: RetryRule
    after_retries: Action


@dataclass(frozen=True)
class Line:
    name: str
    queue: str
    label: str


@dataclass(frozen=True)
class GreetingVariant:
    name: str
    prompt: Prompt
    dates: tuple[tuple[date, date], ...]
    enabled: bool

    def applies(self, today: date) -> bool:
        if not self.enabled:
            return False
        if not self.dates:
            return True
        return any(first <= today <= last for first, last in self.dates)


@dataclass(frozen=True)
class SpeechConfig:
    prompt: Prompt
    busy: Prompt
    not_understood: Prompt
    max_seconds: float
    # A line guessed from speech with low confidence is put to the caller as a yes/no
    # question ({line} is the line's name) instead of going straight to the general line.
    confirm_line: str = "您反映的问题将转到{line}，对吗？对请说“是”或按1，不对请说“不是”或按2。"


@dataclass(frozen=True)
class CallbackConfig:
    prompt: Prompt
    invalid: Prompt
    thanks: Prompt
    min_digits: int
    max_digits: int
    timeout_seconds: float


@dataclass(frozen=True)
class AgentDialConfig:
    enabled: bool
    prompt: Prompt
    invalid: Prompt
    pattern: str

    def accepts(self, extension: str) -> bool:
        return self.enabled and re.fullmatch(self.pattern, extension) is not None


@dataclass(frozen=True)
class VoiceConfig:
    voice: str
    speed: int


@dataclass(frozen=True)
class IvrConfig:
    file: str
    voice: VoiceConfig
    lines: Mapping[str, Line]
    start: str
    menus: Mapping[str, Menu]
    greeting: Prompt
    greeting_variants: tuple[GreetingVariant, ...]
    recording_notice: Prompt
    transfer: Prompt
    police: Prompt
    # A police decision from speech below this confidence is confirmed with one key first.
    police_confirm: Prompt
    police_confirm_below: float
    speech: SpeechConfig
    callback: CallbackConfig
    agent_dial: AgentDialConfig
    recent_days: int

    def greeting_for(self, today: date) -> Prompt:
        for variant in self.greeting_variants:
            if variant.applies(today):
                return variant.prompt
        return self.greeting

    def line_confirm(self, line: str) -> Prompt:
        """The yes/no question for a line guessed from speech with low confidence."""
        label = self.lines[line].label if line in self.lines else line
        return Prompt(f"confirm-{line}", self.speech.confirm_line.replace("{line}", label))

    def queue_of(self, line: str) -> str:
        found = self.lines.get(line) or self.lines[GENERAL_LINE]
        return found.queue

    def prompts(self) -> tuple[Prompt, ...]:
        """Every prompt of the file once, in a stable order (for `prompts build`)."""
        seen: dict[str, Prompt] = {}
        fixed = [self.greeting, *(v.prompt for v in self.greeting_variants),
                 self.recording_notice, self.transfer, self.police, self.police_confirm,
                 self.speech.prompt, self.speech.busy, self.speech.not_understood,
                 self.callback.prompt, self.callback.invalid, self.callback.thanks,
                 self.agent_dial.prompt, self.agent_dial.invalid]
        for menu in self.menus.values():
            fixed += [menu.prompt, menu.no_input.prompt, menu.invalid.prompt]
        fixed += [self.line_confirm(line) for line in self.lines if line != GENERAL_LINE]
        for prompt in fixed:
            seen.setdefault(prompt.key, prompt)
        return tuple(seen.values())


def reachable(config: IvrConfig) -> set[str]:
    """Lines (and `police_110`) a caller can reach by keys from the start menu."""
    found: set[str] = set()
    stack, visited = [config.start], set()
    while stack:
        name = stack.pop()
        if name in visited or name not in config.menus:
            continue
        visited.add(name)
        menu = config.menus[name]
        for action in (*menu.options.values(), menu.after_retries):
            if isinstance(action, QueueAction):
                found.add(action.line)
            elif isinstance(action, SubmenuAction):
                stack.append(action.menu)
            elif isinstance(action, PoliceAction):
                found.add(POLICE_LINE)
    return found


class _Reader:
    """Typed access to one YAML document that records problems instead of raising."""

    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.issues: list[ConfigIssue] = []

    def problem(self, path: PathKey, zh: str, en: str) -> None:
        self.issues.append(self.doc.issue(path, zh, en))

    def mapping(self, value: Any, path: PathKey, known: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, "应为映射 (key: value)", "expected a mapping")
            return {}
        for key in value:
            if str(key) not in known:
                self.problem((*path, key), f"未知的设置项: {key}", f"unknown key: {key}")
        return {str(k): v for k, v in value.items()}

    def text(self, data: Mapping[str, Any], name: str, path: PathKey,
             default: str | None = None) -> str:
        value = data.get(name, default)
        if value is None:
            self.problem(path, f"缺少 {name}", f"missing {name}")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem((*path, name), f"{name} 应为非空文字", f"{name}: expected non-empty text")
            return ""
        return value.strip()

    def number(self, data: Mapping[str, Any], name: str, path: PathKey, default: float,
               low: float, high: float, integer: bool = False) -> float:
        value = data.get(name, default)
        ok_type = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type):
            kind = ("整数", "an integer") if integer else ("数字", "a number")
            self.problem((*path, name), f"{name} 应为{kind[0]}", f"{name}: expected {kind[1]}")
            return default
        if not low <= value <= high:
            self.problem((*path, name), f"{name} 应在 {low:g} 到 {high:g} 之间",
                         f"{name}: must be between {low:g} and {high:g}")
            return default
        return float(value)

    def flag(self, data: Mapping[str, Any], name: str, path: PathKey, default: bool) -> bool:
        value = data.get(name, default)
        if not isinstance(value, bool):
            self.problem((*path, name), f"{name} 应为 true 或 false",
                         f"{name}: expected true/false")
            return default
        return value


_ACTION_NAMES = {"queue", "submenu", "speech", "repeat", "police110", "callback", "agent"}


def _action(r: _Reader, value: Any, path: PathKey) -> Action | None:
    data = r.mapping(value, path, {"action", "line", "menu"})
    kind = data.get("action")
    if kind not in _ACTION_NAMES:
        r.problem((*path, "action") if "action" in data else path,
                  f"未知的动作: {kind}，可用: {', '.join(sorted(_ACTION_NAMES))}",
                  f"unknown action: {kind}; expected one of {', '.join(sorted(_ACTION_NAMES))}")
        return None
    if kind == "queue":
        return QueueAction(r.text(data, "line", path))
    if kind == "submenu":
        return SubmenuAction(r.text(data, "menu", path))
    simple: dict[str, Action] = {"speech": SpeechAction(), "repeat": RepeatAction(),
                                 "police110": PoliceAction(), "callback": CallbackAction(),
                                 "agent": AgentAction()}
    return simple[str(kind)]


def _retry(r: _Reader, value: Any, path: PathKey, key: str,
           fallback: RetryRule | None) -> RetryRule:
    data = r.mapping(value, path, {"retries", "prompt"})
    retries = int(r.number(data, "retries", path, fallback.retries if fallback else 2, 0, 9,
                           integer=True))
    if "prompt" in data or fallback is None:
        return RetryRule(retries, Prompt(key, r.text(data, "prompt", path)))
    return RetryRule(retries, fallback.prompt)


def _dates(r: _Reader, value: Any, path: PathKey) -> tuple[tuple[date, date], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.problem(path, "dates 应为日期列表", "dates: expected a list")
        return ()
    out: list[tuple[date, date]] = []
    for i, item in enumerate(value):
        text = item.isoformat() if isinstance(item, date) else str(item)
        first_s, _, last_s = text.partition("..")
        try:
            first = date.fromisoformat(first_s.strip())
            last = date.fromisoformat((last_s or first_s).strip())
        except ValueError:
            r.problem((*path, i), f"日期格式应为 2026-10-01 或 2026-10-01..2026-10-07: {text}",
                      f"date must be 2026-10-01 or 2026-10-01..2026-10-07: {text}")
            continue
        if last < first:
            r.problem((*path, i), f"结束日期早于开始日期: {text}",
                      f"range ends before it starts: {text}")
            continue
        out.append((first, last))
    return tuple(out)


def _prompt(r: _Reader, data: Mapping[str, Any], name: str, path: PathKey, key: str) -> Prompt:
    return Prompt(key, r.text(data, name, path))


def _menu(r: _Reader, name: str, value: Any, path: PathKey, defaults: Menu) -> Menu:
    data = r.mapping(value, path, {"prompt", "options", "timeout_seconds", "no_input", "invalid",
                                   "after_retries"})
    key = f"menu-{name}"
    options: dict[str, Action] = {}
    raw_options = r.mapping(data.get("options"), (*path, "options"), set(MENU_KEYS) | {
        str(i) for i in range(10)})
    if not raw_options:
        r.problem(path, f"菜单 {name} 没有按键选项", f"menu {name} has no options")
    for digit, action_value in raw_options.items():
        if digit not in MENU_KEYS:
            continue
        action = _action(r, action_value, (*path, "options", _orig_key(data, digit)))
        if action is not None:
            options[digit] = action
    after = defaults.after_retries
    if "after_retries" in data:
        after = _action(r, data["after_retries"], (*path, "after_retries")) or after
    return Menu(
        name=name,
        prompt=_prompt(r, data, "prompt", path, key),
        options=options,
        timeout_seconds=r.number(data, "timeout_seconds", path, defaults.timeout_seconds, 1, 60),
        no_input=_retry(r, data["no_input"], (*path, "no_input"), f"{key}-no-input",
                        defaults.no_input) if "no_input" in data else defaults.no_input,
        invalid=_retry(r, data["invalid"], (*path, "invalid"), f"{key}-invalid",
                       defaults.invalid) if "invalid" in data else defaults.invalid,
        after_retries=after,
    )


def _orig_key(data: Mapping[str, Any], digit: str) -> str | int:
    """The options key as YAML wrote it (1 or "1"), so its line can be found."""
    options = data.get("options")
    if isinstance(options, dict) and digit not in options and digit.isdigit():
        return int(digit)
    return digit


def _check_references(r: _Reader, menus: Mapping[str, Menu], lines: Mapping[str, Line],
                      start: str, agent_enabled: bool) -> None:
    if start not in menus:
        r.problem(("start",), f"起始菜单不存在: {start}", f"start menu not found: {start}")
    if GENERAL_LINE not in lines:
        r.problem(("lines",), "必须定义 general (综合) 线路: 重试用尽后的默认去向",
                  "a 'general' line is required: it is where callers go when retries run out")
    for menu in menus.values():
        entries: list[tuple[PathKey, Action]] = [
            ((("menus", menu.name, "options", digit)), action)
            for digit, action in menu.options.items()]
        entries.append((("menus", menu.name, "after_retries"), menu.after_retries))
        for path, action in entries:
            if isinstance(action, QueueAction) and action.line and action.line not in lines:
                r.problem(path, f"未定义的线路: {action.line}", f"unknown line: {action.line}")
            if isinstance(action, SubmenuAction) and action.menu and action.menu not in menus:
                r.problem(path, f"未定义的菜单: {action.menu}", f"unknown menu: {action.menu}")
            if isinstance(action, AgentAction) and not agent_enabled:
                r.problem(path, "坐席直拨未启用 (agent_dial.enabled: false)",
                          "agent direct dial is disabled (agent_dial.enabled: false)")
            if path[-1] == "after_retries" and isinstance(action, RepeatAction | SubmenuAction
                                                          | SpeechAction):
                r.problem(path, "重试用尽后必须转到线路、110 或回电",
                          "after_retries must end the menu: a queue, police110 or callback")


def build_config(doc: Located) -> IvrConfig:
    """Validate a parsed ivr.yaml; raise ConfigError listing every problem."""
    r = _Reader(doc)
    top = r.mapping(doc.value, (), {
        "version", "prompts", "defaults", "lines", "greeting", "recording_notice", "transfer",
        "police110", "speech", "callback", "agent_dial", "caller_context", "start", "menus"})
    if top.get("version", 1) != 1:
        r.problem(("version",), "只支持 version: 1", "only version: 1 is supported")

    voice_d = r.mapping(top.get("prompts"), ("prompts",), {"voice", "speed"})
    voice = VoiceConfig(r.text(voice_d, "voice", ("prompts",), "cmn-latn-pinyin"),
                        int(r.number(voice_d, "speed", ("prompts",), 165, 80, 400, integer=True)))

    d = r.mapping(top.get("defaults"), ("defaults",),
                  {"timeout_seconds", "no_input", "invalid", "after_retries"})
    default_no_input = _retry(r, d.get("no_input", {"prompt": "抱歉，没有收到您的按键。"}),
                              ("defaults", "no_input"), "defaults-no-input", None)
    default_invalid = _retry(r, d.get("invalid", {"prompt": "抱歉，您的按键有误。"}),
                             ("defaults", "invalid"), "defaults-invalid", None)
    default_after: Action = QueueAction(GENERAL_LINE)
    if "after_retries" in d:
        default_after = (_action(r, d["after_retries"], ("defaults", "after_retries"))
                         or default_after)
    defaults = Menu("defaults", Prompt("defaults", ""), {},
                    r.number(d, "timeout_seconds", ("defaults",), 6, 1, 60),
                    default_no_input, default_invalid, default_after)

    lines: dict[str, Line] = {}
    raw_lines = top.get("lines")
    for name, value in r.mapping(raw_lines, ("lines",), set(map(str, raw_lines or ()))).items():
        ld = r.mapping(value, ("lines", name), {"queue", "name"})
        queue = r.text(ld, "queue", ("lines", name), name)
        if queue and not re.fullmatch(r"[A-Za-z0-9_\-]+", queue):
            r.problem(("lines", name, "queue"), f"队列名只能包含字母、数字、_ 和 -: {queue}",
                      f"queue names may only hold letters, digits, _ and -: {queue}")
        lines[name] = Line(name, queue, r.text(ld, "name", ("lines", name), name))

    g = r.mapping(top.get("greeting"), ("greeting",), {"default", "variants"})
    variants: list[GreetingVariant] = []
    raw_variants = g.get("variants") or []
    if not isinstance(raw_variants, list):
        r.problem(("greeting", "variants"), "variants 应为列表", "variants: expected a list")
        raw_variants = []
    for i, value in enumerate(raw_variants):
        path: PathKey = ("greeting", "variants", i)
        vd = r.mapping(value, path, {"name", "text", "dates", "enabled"})
        vname = r.text(vd, "name", path, f"variant{i}")
        variants.append(GreetingVariant(
            vname, Prompt(f"greeting-{vname}", r.text(vd, "text", path)),
            _dates(r, vd.get("dates"), (*path, "dates")), r.flag(vd, "enabled", path, True)))

    police_d = r.mapping(top.get("police110"), ("police110",),
                         {"prompt", "confirm", "confirm_below"})
    s = r.mapping(top.get("speech"), ("speech",),
                  {"prompt", "busy", "not_understood", "max_seconds", "confirm_line"})
    confirm_line = r.text(s, "confirm_line", ("speech",), SpeechConfig.confirm_line)
    if "{line}" not in confirm_line:
        r.problem(("speech", "confirm_line"), "confirm_line 须包含 {line} (线路名称的位置)",
                  "confirm_line must contain {line} (where the line's name goes)")
    c = r.mapping(top.get("callback"), ("callback",), {
        "prompt", "invalid", "thanks", "min_digits", "max_digits", "timeout_seconds"})
    a = r.mapping(top.get("agent_dial"), ("agent_dial",),
                  {"enabled", "prompt", "invalid", "pattern"})
    cc = r.mapping(top.get("caller_context"), ("caller_context",), {"recent_days"})

    pattern = r.text(a, "pattern", ("agent_dial",), "[0-9]{3,6}")
    try:
        re.compile(pattern)
    except re.error as exc:
        r.problem(("agent_dial", "pattern"), f"分机号规则不是合法的正则表达式: {exc}",
                  f"pattern is not a valid regular expression: {exc}")
        pattern = "(?!)"
    min_digits = int(r.number(c, "min_digits", ("callback",), 7, 3, 20, integer=True))
    max_digits = int(r.number(c, "max_digits", ("callback",), 12, 3, 20, integer=True))
    if max_digits < min_digits:
        r.problem(("callback", "max_digits"), "max_digits 不能小于 min_digits",
                  "max_digits must not be below min_digits")

    menus: dict[str, Menu] = {}
    raw_menus = top.get("menus")
    if not isinstance(raw_menus, dict) or not raw_menus:
        r.problem(("menus",), "至少需要一个菜单", "at least one menu is required")
        raw_menus = {}
    for name, value in raw_menus.items():
        if not re.fullmatch(r"[A-Za-z0-9_]+", str(name)):
            r.problem(("menus", name), f"菜单名只能包含字母、数字和 _: {name}",
                      f"menu names may only hold letters, digits and _: {name}")
        menus[str(name)] = _menu(r, str(name), value, ("menus", name), defaults)

    agent_enabled = r.flag(a, "enabled", ("agent_dial",), False)
    start = r.text(top, "start", (), "main")
    _check_references(r, menus, lines, start, agent_enabled)
    if r.issues:
        raise ConfigError(r.issues)
    return IvrConfig(
        file=doc.file,
        voice=voice,
        lines=lines,
        start=start,
        menus=menus,
        greeting=Prompt("greeting", r.text(g, "default", ("greeting",))),
        greeting_variants=tuple(variants),
        recording_notice=Prompt("recording-notice", r.text(top, "recording_notice", (),
                                                           "本次通话将被录音。")),
        transfer=Prompt("transfer", r.text(top, "transfer", (), "正在为您转接，请稍候。")),
        police=Prompt("police110", r.text(police_d, "prompt", ("police110",),
                                         "正在为您转接幺幺零报警服务台，请不要挂机。")),
        police_confirm=Prompt("police110-confirm", r.text(
            police_d, "confirm", ("police110",),
            "您反映的情况需要报警吗？需要请说“是”或按1，不需要请说“不是”或按2。")),
        police_confirm_below=r.number(police_d, "confirm_below", ("police110",), 0.8, 0.0, 1.0),
        speech=SpeechConfig(
            _prompt(r, s, "prompt", ("speech",), "speech-prompt"),
            _prompt(r, s, "busy", ("speech",), "speech-busy"),
            _prompt(r, s, "not_understood", ("speech",), "speech-not-understood"),
            r.number(s, "max_seconds", ("speech",), 30, 3, 300), confirm_line),
        callback=CallbackConfig(
            _prompt(r, c, "prompt", ("callback",), "callback-prompt"),
            _prompt(r, c, "invalid", ("callback",), "callback-invalid"),
            _prompt(r, c, "thanks", ("callback",), "callback-thanks"),
            min_digits, max_digits,
            r.number(c, "timeout_seconds", ("callback",), 10, 2, 60)),
        agent_dial=AgentDialConfig(
            agent_enabled,
            Prompt("agent-prompt", r.text(a, "prompt", ("agent_dial",), "请输入分机号码。")),
            Prompt("agent-invalid",
                   r.text(a, "invalid", ("agent_dial",), "抱歉，分机号码不正确。")),
            pattern),
        recent_days=int(r.number(cc, "recent_days", ("caller_context",), 7, 1, 365, integer=True)),
    )


def parse_ivr_config(text: str, file: str = "ivr.yaml") -> IvrConfig:
    return build_config(parse_yaml(text, file))


def load_ivr_config(path: Path) -> IvrConfig:
    """Load and validate `path`; a ConfigError means: keep serving the previous menus."""
    return build_config(load_yaml(path))
