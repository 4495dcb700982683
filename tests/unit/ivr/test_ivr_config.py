from __future__ import annotations

import pytest

from hotline.yamlconf import ConfigError
from ivr.config import QueueAction, SubmenuAction, parse_ivr_config

from .fakes import DEFAULT_YAML, default_config

MINIMAL = """\
lines:
  general: {queue: general, name: 综合}
  property: {queue: property, name: 物业}
greeting:
  default: 您好
menus:
  main:
    prompt: 物业请按1
    options:
      "1": {action: queue, line: property}
"""


def refused(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_ivr_config(text, "ivr.yaml")
    return info.value


def test_default_file_loads() -> None:
    config = default_config()
    assert config.file == str(DEFAULT_YAML)
    assert config.start == "main"
    assert config.menus["main"].options["3"] == SubmenuAction("people")
    assert config.menus["people"].options["1"] == QueueAction("hr_social_security")
    assert config.menus["main"].after_retries == QueueAction("general")
    assert {p.key for p in config.prompts()} >= {"greeting", "menu-main", "menu-people",
                                                 "transfer", "police110", "speech-prompt"}


def test_minimal_file_gets_defaults() -> None:
    config = parse_ivr_config(MINIMAL)
    main = config.menus["main"]
    assert main.no_input.retries == 2 and main.invalid.retries == 2
    assert main.timeout_seconds == 6
    assert config.voice.voice == "cmn-latn-pinyin"


def test_integer_keys_are_accepted() -> None:
    config = parse_ivr_config(MINIMAL.replace('"1":', "1:"))
    assert "1" in config.menus["main"].options


def test_unknown_line_cites_its_line_in_both_languages() -> None:
    err = refused(MINIMAL.replace("line: property}", "line: propety}"))
    (issue,) = err.issues
    assert issue.line == 10
    assert "未定义的线路: propety" in issue.zh and "unknown line: propety" in issue.en
    assert str(issue).startswith("ivr.yaml:10: ")


def test_unknown_action_and_unknown_menu_are_all_reported() -> None:
    text = (MINIMAL + '      "2": {action: qeue, line: property}\n'
            '      "3": {action: submenu, menu: x}\n')
    err = refused(text)
    lines = sorted(i.line for i in err.issues)
    assert lines == [11, 12]


def test_bad_key_and_typo_in_option_name() -> None:
    err = refused(MINIMAL.replace('"1":', '"12":'))
    assert err.issues[0].line == 10 and "12" in err.issues[0].zh
    err = refused(MINIMAL.replace("    prompt: 物业请按1", "    promt: 物业请按1"))
    # unknown key "promt" on its own line; the missing prompt at the menu's key "main:"
    assert {i.line for i in err.issues} == {7, 8}


def test_unquoted_hash_key_is_a_yaml_comment_error_with_line() -> None:
    text = MINIMAL + "      *: {action: repeat}\n"
    err = refused(text)
    assert err.issues[0].line == 11
    assert "YAML" in err.issues[0].zh


def test_retries_must_be_small_integers() -> None:
    text = MINIMAL + "    no_input: {retries: two, prompt: 请按键}\n"
    err = refused(text)
    assert err.issues[0].line == 11 and "整数" in err.issues[0].zh


def test_general_line_is_required() -> None:
    err = refused(MINIMAL.replace("  general: {queue: general, name: 综合}\n", ""))
    assert any("general" in i.en for i in err.issues)


def test_after_retries_must_end_the_menu() -> None:
    err = refused(MINIMAL + "    after_retries: {action: repeat}\n")
    assert err.issues[0].line == 11


def test_agent_action_needs_agent_dial_enabled() -> None:
    text = MINIMAL + '      "7": {action: agent}\n'
    assert refused(text).issues[0].line == 11
    enabled = text + "agent_dial: {enabled: true, pattern: '8[0-9]{3}'}\n"
    config = parse_ivr_config(enabled)
    assert config.agent_dial.accepts("8001") and not config.agent_dial.accepts("9001")


def test_greeting_dates() -> None:
    err = refused(MINIMAL.replace("  default: 您好\n", "  default: 您好\n  variants:\n"
                                  "    - {name: x, text: 好, dates: ['2026-10-07..2026-10-01']}\n"))
    assert err.issues[0].line == 7


def test_line_confirmation_question_names_the_line() -> None:
    config = default_config()
    prompt = config.line_confirm("property")
    assert prompt.key == "confirm-property" and "物业服务分线" in prompt.text
    assert "confirm-property" in {p.key for p in config.prompts()}
    assert "confirm-general" not in {p.key for p in config.prompts()}


def test_line_confirmation_without_the_line_placeholder_is_refused() -> None:
    error = refused(MINIMAL + "speech:\n  confirm_line: 对吗？\n")
    assert any("{line}" in issue.zh and issue.line == 12 for issue in error.issues)
