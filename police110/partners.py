"""config/partners.yaml: who we exchange referrals with, their keys and the outbox policy.

Keys are never in the YAML itself: each entry names an environment variable (`key_env`)
and/or a file (`key_file`, read when the variable is unset). Keys are wrapped in `Secret`
at once so they cannot reach a log line. Every problem is reported with file:line, in
Chinese and English, all at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hotline.settings import Secret
from hotline.yamlconf import ConfigError, ConfigIssue, Located, PathKey, load_yaml

MIN_KEY_LENGTH = 32
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 65536
    max_clock_skew_s: int = 300
    # Nonces are kept a little longer than the accepted clock skew either way, so a
    # replay is refused for as long as its timestamp could still pass.
    nonce_ttl_s: int = 900


@dataclass(frozen=True)
class OutboxPolicy:
    max_attempts: int = 12
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 600.0
    request_timeout_s: float = 10.0
    batch_size: int = 20
    concurrency: int = 4
    poll_interval_s: float = 1.0


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    base_url: str  # where their side of the exchange lives; "" when they only call us
    key: Secret


@dataclass(frozen=True)
class ExchangeConfig:
    self_id: str
    self_key: Secret
    partners: Mapping[str, Partner]
    limits: Limits = field(default_factory=Limits)
    outbox: OutboxPolicy = field(default_factory=OutboxPolicy)

    def partner(self, partner_id: str) -> Partner | None:
        return self.partners.get(partner_id)


class _Reader:
    """Collects issues while reading typed values out of the located document."""

    def __init__(self, doc: Located, env: Mapping[str, str], base_dir: Path) -> None:
        self.doc = doc
        self.env = env
        self.base_dir = base_dir
        self.issues: list[ConfigIssue] = []

    def fail(self, path: PathKey, zh: str, en: str) -> None:
        self.issues.append(self.doc.issue(path, zh, en))

    def mapping(self, value: Any, path: PathKey, known: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "应为映射 (key: value)", "expected a mapping")
            return {}
        for key in value:
            if key not in known:
                self.fail((*path, key), f"未知的设置项: {key}", f"unknown setting: {key}")
        return value

    def text(self, data: dict[str, Any], key: str, path: PathKey, *, required: bool,
             pattern: re.Pattern[str] | None = None) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(path, f"缺少必填项: {key}", f"missing required setting: {key}")
            return ""
        if not isinstance(value, str) or not value:
            self.fail((*path, key), f"{key} 应为非空字符串", f"{key}: expected a non-empty string")
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            self.fail((*path, key), f"{key} 只能包含字母、数字、. _ - (最多 64 位)",
                      f"{key}: only letters, digits, . _ - allowed (max 64)")
        return value

    def numbers(self, cls: type[Any], value: Any, path: PathKey) -> Any:
        """A Limits/OutboxPolicy from a mapping of positive numbers."""
        defaults = cls()
        data = self.mapping(value, path, {f.name for f in fields(cls)})
        out: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            raw = data[f.name]
            want_int = isinstance(getattr(defaults, f.name), int)
            ok = isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0
            if ok and want_int and not isinstance(raw, int):
                ok = False
            if not ok:
                kind = "正整数" if want_int else "正数"
                self.fail((*path, f.name), f"{f.name} 应为{kind}",
                          f"{f.name}: expected a positive {'integer' if want_int else 'number'}")
                continue
            out[f.name] = raw if want_int else float(raw)
        return cls(**out)

    def key(self, data: dict[str, Any], path: PathKey) -> Secret:
        env_name = self.text(data, "key_env", path, required=False)
        file_name = self.text(data, "key_file", path, required=False)
        if not env_name and not file_name:
            self.fail(path, "缺少密钥来源: 请设置 key_env 或 key_file",
                      "no key source: set key_env or key_file")
            return Secret("")
        value = self.env.get(env_name, "") if env_name else ""
        if not value and file_name:
            key_path = Path(file_name)
            key_path = key_path if key_path.is_absolute() else self.base_dir / key_path
            try:
                value = key_path.read_text(encoding="utf-8").strip()
            except OSError:
                value = ""
        where = (*path, "key_env") if env_name else (*path, "key_file")
        env_shown, file_shown = env_name or "-", file_name or "-"
        if not value:
            self.fail(where,
                      f"密钥未找到: 环境变量 {env_shown} 未设置, 密钥文件 {file_shown} 不可读",
                      f"key not found: env {env_shown} unset, key file {file_shown} unreadable")
        elif len(value) < MIN_KEY_LENGTH:
            self.fail(where,
                      f"密钥太短: 至少 {MIN_KEY_LENGTH} 个字符",
                      f"key too short: at least {MIN_KEY_LENGTH} characters")
        return Secret(value)

    def base_url(self, data: dict[str, Any], path: PathKey) -> str:
        url = self.text(data, "base_url", path, required=False)
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
                self.fail((*path, "base_url"), "base_url 应为 http(s):// 开头且不带查询串的地址",
                          "base_url: expected an http(s) URL without a query string")
        return url.rstrip("/")


def parse_partners(doc: Located, env: Mapping[str, str], base_dir: Path) -> ExchangeConfig:
    """Validate a parsed partners document; raise ConfigError listing every issue."""
    reader = _Reader(doc, env, base_dir)
    root = reader.mapping(doc.value, (), {"self", "limits", "outbox", "partners"})
    own = reader.mapping(root.get("self"), ("self",), {"id", "key_env", "key_file"})
    self_id = reader.text(own, "id", ("self",), required=True, pattern=_ID) if own else ""
    self_key = reader.key(own, ("self",)) if own else Secret("")
    limits = reader.numbers(Limits, root.get("limits", {}), ("limits",))
    outbox = reader.numbers(OutboxPolicy, root.get("outbox", {}), ("outbox",))
    partners: dict[str, Partner] = {}
    raw_partners = root.get("partners")
    if not isinstance(raw_partners, list) or not raw_partners:
        reader.fail(("partners",), "partners 应为非空列表", "partners: expected a non-empty list")
        raw_partners = []
    for index, raw in enumerate(raw_partners):
        path: PathKey = ("partners", index)
        data = reader.mapping(raw, path, {"id", "name", "base_url", "key_env", "key_file"})
        if not data:
            continue
        partner_id = reader.text(data, "id", path, required=True, pattern=_ID)
        if partner_id in partners or (partner_id and partner_id == self_id):
            reader.fail((*path, "id"), f"重复的合作方编号: {partner_id}",
                        f"duplicate partner id: {partner_id}")
        partners[partner_id] = Partner(
            id=partner_id,
            name=reader.text(data, "name", path, required=False) or partner_id,
            base_url=reader.base_url(data, path),
            key=reader.key(data, path),
        )
    if reader.issues:
        raise ConfigError(reader.issues)
    return ExchangeConfig(self_id, self_key, partners, limits, outbox)


def load_partners(path: Path, env: Mapping[str, str] | None = None,
                  base_dir: Path | None = None) -> ExchangeConfig:
    """Read config/partners.yaml; relative key files resolve against `base_dir`.

    The default `base_dir` is the parent of the file's folder (the project root for
    config/partners.yaml).
    """
    return parse_partners(load_yaml(path), os.environ if env is None else env,
                          base_dir if base_dir is not None else path.resolve().parent.parent)
