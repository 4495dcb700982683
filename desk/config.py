"""Desk options from `config/desk.yaml`: departments, transfer targets, wrap-up, dialplan hooks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline.yamlconf import ConfigError, ConfigIssue, Located, load_yaml


@dataclass(frozen=True)
class TransferTarget:
    id: str
    name: str  # Chinese, shown on the button
    context: str
    exten: str


@dataclass(frozen=True)
class DeskConfig:
    departments: tuple[str, ...] = (
        "市住房和城乡建设局",
        "市人力资源和社会保障局",
        "市市场监督管理局",
        "市妇女联合会",
        "市数据资源管理局",
        "市城市管理局",
        "区县人民政府",
    )
    specialists: tuple[TransferTarget, ...] = ()
    wrapup_s: float = 30.0
    # Dialplan the lead installs for call control (see desk/callcontrol.py).
    transfer_context: str = "desk-transfer"
    hold_context: str = "desk-hold"
    kb_suggestions: int = 3
    history_limit: int = 10
    cookie_secure: bool = False  # True behind TLS in production


def _str_list(doc: Located, key: str, issues: list[ConfigIssue]) -> tuple[str, ...] | None:
    value = doc.value.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        issues.append(doc.issue((key,), f"{key} 应为文本列表", f"{key}: expected a list of text"))
        return None
    return tuple(value)


def parse_desk_config(doc: Located) -> DeskConfig:
    base = DeskConfig()
    if doc.value is None:
        return base
    if not isinstance(doc.value, Mapping):
        raise ConfigError([doc.issue((), "应为映射", "expected a mapping")])
    issues: list[ConfigIssue] = []
    known = {
        "departments",
        "specialists",
        "wrapup_s",
        "transfer_context",
        "hold_context",
        "kb_suggestions",
        "history_limit",
        "cookie_secure",
    }
    for key in doc.value:
        if key not in known:
            issues.append(doc.issue((key,), f"未知的设置项: {key}", f"unknown setting: {key}"))
    changes: dict[str, object] = {}
    departments = _str_list(doc, "departments", issues)
    if departments is not None:
        changes["departments"] = departments
    specialists: list[TransferTarget] = []
    for i, raw in enumerate(doc.value.get("specialists") or []):
        if not isinstance(raw, Mapping) or not all(
            isinstance(raw.get(k), str | int) for k in ("id", "name", "exten")
        ):
            issues.append(
                doc.issue(
                    ("specialists", i),
                    "专席应包含 id, name, exten",
                    "a specialist needs id, name and exten",
                )
            )
            continue
        specialists.append(
            TransferTarget(
                str(raw["id"]),
                str(raw["name"]),
                str(raw.get("context", base.transfer_context)),
                str(raw["exten"]),
            )
        )
    changes["specialists"] = tuple(specialists)
    for key, kind in (
        ("wrapup_s", (int, float)),
        ("kb_suggestions", (int,)),
        ("history_limit", (int,)),
        ("transfer_context", (str,)),
        ("hold_context", (str,)),
        ("cookie_secure", (bool,)),
    ):
        if key not in doc.value:
            continue
        value = doc.value[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kind):
            issues.append(doc.issue((key,), f"{key} 类型不对", f"{key}: wrong type"))
            continue
        changes[key] = float(value) if key == "wrapup_s" else value
    if issues:
        raise ConfigError(issues)
    return DeskConfig(**changes)  # type: ignore[arg-type]


def load_desk_config(path: Path) -> DeskConfig:
    return parse_desk_config(load_yaml(path))
