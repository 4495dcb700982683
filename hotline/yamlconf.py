"""YAML loading that remembers where every value came from.

Administrators edit our YAML files by hand, so every validation error must name
the file and line, in Chinese for them and in English for developers. PyYAML's
node tree keeps the marks; we walk it once and keep a map from the path of each
value (tuple of keys and indexes) to its 1-based line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file, said in Chinese (for administrators) and English."""

    file: str
    line: int
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.zh} ({self.en})"


class ConfigError(Exception):
    """A config file was refused; `issues` lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass(frozen=True)
class Located:
    """A parsed YAML document plus the line of every value in it."""

    file: str
    value: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, *path: str | int) -> int:
        """Line of the value at `path`, or of its nearest located parent."""
        key: PathKey = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def issue(self, path: PathKey, zh: str, en: str) -> ConfigIssue:
        return ConfigIssue(self.file, self.line_of(*path), zh, en)


def _convert(
    node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str, loader: yaml.SafeLoader
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct_scalar(key_node, file, loader)
            if not isinstance(key, str | int):
                raise ConfigError(
                    [
                        ConfigIssue(
                            file,
                            key_node.start_mark.line + 1,
                            "键必须是字符串或整数",
                            "keys must be strings or integers",
                        )
                    ]
                )
            if key in out:
                raise ConfigError(
                    [
                        ConfigIssue(
                            file,
                            key_node.start_mark.line + 1,
                            f"重复的键: {key}",
                            f"duplicate key: {key}",
                        )
                    ]
                )
            out[key] = _convert(value_node, (*path, key), lines, file, loader)
            # An administrator looks for the key: cite its line, not where its value starts.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(child, (*path, i), lines, file, loader) for i, child in enumerate(node.value)
        ]
    return _construct_scalar(node, file, loader)


def _construct_scalar(node: yaml.Node, file: str, loader: yaml.SafeLoader) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError) as exc:
        # e.g. an impossible date such as 2027-02-30, which PyYAML reports without a line
        line = node.start_mark.line + 1
        if node.tag.endswith(":timestamp"):
            issue = ConfigIssue(
                file, line, f"无效的日期: {node.value}", f"invalid date: {node.value}"
            )
        else:
            issue = ConfigIssue(file, line, f"无法识别的值: {node.value}", f"invalid value: {exc}")
        raise ConfigError([issue]) from exc


def parse_yaml(text: str, file: str) -> Located:
    """Parse YAML text; syntax errors become a ConfigError with the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(
            [
                ConfigIssue(
                    file, line, f"YAML 语法错误: {exc.problem}", f"YAML syntax error: {exc.problem}"
                )
            ]
        ) from exc
    if node is None:
        return Located(file, None, {(): 1})
    lines: dict[PathKey, int] = {}
    # A loader only to construct scalars with YAML's own rules (ints, bools, nulls, dates).
    loader = yaml.SafeLoader("")
    try:
        return Located(file, _convert(node, (), lines, file, loader), lines)
    finally:
        loader.dispose()


def load_yaml(path: Path) -> Located:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError([ConfigIssue(str(path), 0, "文件不存在", "file not found")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), 1, "文件不是 UTF-8 编码", "file is not UTF-8")]
        ) from exc
    return parse_yaml(text, str(path))
