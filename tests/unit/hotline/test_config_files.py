"""YAML with file:line errors, and the service settings built on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.settings import Secret, load_settings
from hotline.yamlconf import ConfigError, parse_yaml


def test_lines_are_remembered_for_nested_values() -> None:
    doc = parse_yaml("a:\n  b:\n    - x\n    - y\nc: 3\n", "f.yaml")
    assert doc.value == {"a": {"b": ["x", "y"]}, "c": 3}
    assert doc.line_of("a", "b", 1) == 4
    assert doc.line_of("c") == 5
    assert doc.line_of("a", "missing") == 1


def test_empty_value_is_none() -> None:
    assert parse_yaml("a:\n", "f.yaml").value == {"a": None}


def test_syntax_error_cites_the_line_in_both_languages() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("a: 1\nb: [2\n", "bad.yaml")
    issue = err.value.issues[0]
    assert issue.file == "bad.yaml" and issue.line >= 2
    assert "YAML 语法错误" in issue.zh and "syntax error" in issue.en


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("bad.yaml:3: 重复的键")):
        parse_yaml("a: 1\nb: 2\na: 3\n", "bad.yaml")


def test_settings_defaults_need_no_file() -> None:
    settings = load_settings(None)
    assert settings.ami.port == 5038 and settings.http.host == "127.0.0.1"


def test_settings_file_errors_cite_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text("ami:\n  host: 10.0.0.5\n  port: fifty\nnonsense: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert f"{path}:3: port 应为整数" in text
    assert f"{path}:4: 未知的设置项: nonsense" in text


def test_settings_file_overrides(tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(
        "ami:\n  host: 10.0.0.5\n  backoff_max: 2\nhttp:\n  port: 9000\n", encoding="utf-8"
    )
    settings = load_settings(path)
    assert settings.ami.host == "10.0.0.5" and settings.ami.backoff_max == 2.0
    assert settings.http.port == 9000


def test_secret_never_shows_itself() -> None:
    secret = Secret("hunter2-very-secret")
    assert (
        "hunter2" not in repr(secret)
        and "hunter2" not in str(secret)
        and "hunter2" not in f"{secret}"
    )
    assert secret.reveal() == "hunter2-very-secret"


def test_impossible_date_cites_its_line() -> None:
    with pytest.raises(ConfigError, match=re.escape("h.yaml:2: 无效的日期: 2027-02-30")):
        parse_yaml("a: 2027-02-01\nb: 2027-02-30\n", "h.yaml")
