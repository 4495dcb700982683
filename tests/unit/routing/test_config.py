from __future__ import annotations

from pathlib import Path

import pytest

from hotline.yamlconf import ConfigError
from routing.config import LINES, RoutingConfig, load_routing_config


def test_shipped_config_loads(routing_config: RoutingConfig) -> None:
    assert set(routing_config.lines) == set(LINES)
    assert routing_config.rules
    assert routing_config.slips["物叶"] == "物业"
    assert "谯城区" in routing_config.places.counties


def _break(config_dir: Path, old: str, new: str, name: str = "routing.yaml") -> Path:
    path = config_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_routing_config(path)
    return info.value


def test_bad_regex_cites_file_and_line_in_chinese_and_english(config_dir: Path) -> None:
    path = _break(config_dir, '"抢走|偷走|撬开": 4', '"抢走(|偷走": 4')
    issue = _refused(path).issues[0]
    assert issue.file == str(path)
    assert issue.line == _line_of(path, '"抢走(|偷走"')
    assert "正则表达式有误" in issue.zh and "bad regular expression" in issue.en
    assert f"{path}:{issue.line}:" in str(issue)


def test_bad_regex_in_the_past_only_gate_cites_its_line(config_dir: Path) -> None:
    path = _break(config_dir, 'past: ["上个?月", 去年,', 'past: ["上个?月", "去年(",')
    issue = _refused(path).issues[0]
    assert issue.line == _line_of(path, '"去年("')
    assert "正则表达式有误" in issue.zh


def test_unknown_line_in_a_rule(config_dir: Path) -> None:
    path = _break(config_dir, "    line: womens_rights\n    priority: 90",
                  "    line: womens\n    priority: 90")
    issue = _refused(path).issues[0]
    assert issue.line == _line_of(path, "line: womens")
    assert "未知的分流线路" in issue.zh and "unknown line" in issue.en


def test_weight_must_be_a_number(config_dir: Path) -> None:
    path = _break(config_dir, "      物业费: 6", "      物业费: 很高")
    issue = _refused(path).issues[0]
    assert issue.line == _line_of(path, "物业费: 很高")
    assert "应为数字" in issue.zh


def test_unknown_key_is_refused(config_dir: Path) -> None:
    path = _break(config_dir, "default_kind: consultation", "default_kind: consultation\nfoo: 1")
    issue = _refused(path).issues[0]
    assert issue.line == _line_of(path, "foo: 1")
    assert "未知的设置项" in issue.zh


def test_all_problems_are_reported_at_once(config_dir: Path) -> None:
    _break(config_dir, "      物业费: 6", "      物业费: 很高")
    path = _break(config_dir, "    line: womens_rights\n    priority: 90",
                  "    line: womens\n    priority: 90")
    assert len(_refused(path).issues) >= 2


def test_yaml_syntax_error_has_a_line(config_dir: Path) -> None:
    path = _break(config_dir, "      - [万一, 一旦, 隐患,", "      - [万一, 一旦, 隐患, {")
    issue = _refused(path).issues[0]
    assert issue.line > 1 and "YAML" in issue.zh


def test_error_in_a_side_file_cites_that_file(config_dir: Path) -> None:
    side = _break(config_dir, "  物叶: 物业", "  物叶: [物业]", name="routing/slips.yaml")
    issue = _refused(config_dir / "routing.yaml").issues[0]
    assert issue.file == str(side)
    assert issue.line == _line_of(side, "物叶: [物业]")


def test_missing_side_file(config_dir: Path) -> None:
    (config_dir / "routing" / "places.yaml").unlink()
    issue = _refused(config_dir / "routing.yaml").issues[0]
    assert "文件不存在" in issue.zh
    assert issue.line == _line_of(config_dir / "routing.yaml", "places: routing/places.yaml")


def test_137_class_must_be_1_3_or_7(config_dir: Path) -> None:
    path = _break(config_dir, "complaint: 7, report: 7", "complaint: 5, report: 7")
    issue = _refused(path).issues[0]
    assert "137" in issue.zh
