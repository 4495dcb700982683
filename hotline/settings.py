"""Service settings: embedded defaults, optionally overridden by `hotline.yaml`.

`hotline run` works with no file at all (the defaults talk to the sandbox Asterisk
on loopback and keep data in ./var). A file, when given, is validated once and
errors cite file:line.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from asr.settings import AsrSettings
from hotline.yamlconf import ConfigError, ConfigIssue, Located, load_yaml
from recordings.settings import RecordingSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(Secret)


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "hotline"
    # Where the secret comes from: env var first, then this file (created with a random
    # secret by `hotline sandbox up` when missing).
    secret_env: str = "HOTLINE_AMI_SECRET"  # noqa: S105 (a variable name)
    secret_file: str = "var/ami.secret"  # noqa: S105 (a path)
    connect_timeout: float = 5.0
    backoff_initial: float = 0.2
    backoff_max: float = 3.0
    ping_interval: float = 5.0


@dataclass(frozen=True)
class ListenSettings:
    host: str = "127.0.0.1"
    port: int = 0


@dataclass(frozen=True)
class SandboxSettings:
    root: str = "/var/lib/hotline12345/sandbox"
    mirror: str = "http://deb.debian.org/debian"
    suite: str = "sid"


@dataclass(frozen=True)
class Settings:
    data_dir: str = "var"
    config_dir: str = "config"
    database_url: str = ""  # empty: sqlite file in data_dir
    ami: AmiSettings = field(default_factory=AmiSettings)
    http: ListenSettings = field(default_factory=lambda: ListenSettings(port=8080))
    agi: ListenSettings = field(default_factory=lambda: ListenSettings(port=4573))
    audiosocket: ListenSettings = field(default_factory=lambda: ListenSettings(port=9092))
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    recordings: RecordingSettings = field(default_factory=RecordingSettings)

    def path(self, relative: str) -> Path:
        """Resolve a settings path against the project root when it is relative."""
        p = Path(relative)
        return p if p.is_absolute() else PROJECT_ROOT / p

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def config_path(self) -> Path:
        return self.path(self.config_dir)

    @property
    def effective_database_url(self) -> str:
        """HOTLINE_DATABASE_URL (keeps passwords out of files), the setting, or SQLite."""
        from_env = os.environ.get("HOTLINE_DATABASE_URL", "")
        return from_env or self.database_url or f"sqlite:///{self.data_path / 'hotline.db'}"

    def ami_secret(self, create: bool = False) -> Secret:
        """The AMI secret from the environment or the secret file.

        With `create`, a missing file gets a fresh random secret (mode 0600): the
        sandbox and the service then share it without it ever being typed or logged.
        """
        from_env = os.environ.get(self.ami.secret_env, "")
        if from_env:
            return Secret(from_env)
        path = self.path(self.ami.secret_file)
        if not path.exists():
            if not create:
                raise ConfigError(
                    [
                        ConfigIssue(
                            str(path),
                            0,
                            f"缺少 AMI 密码: 设置环境变量 {self.ami.secret_env}"
                            " 或运行 hotline sandbox up",
                            f"no AMI secret: set {self.ami.secret_env} or run 'hotline sandbox up'",
                        )
                    ]
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(16))
        return Secret(path.read_text().strip())


def _merge(
    obj: Any, data: Any, doc: Located, where: tuple[str | int, ...], issues: list[ConfigIssue]
) -> Any:
    """Return `obj` (a settings dataclass) with values from `data`, checking types."""
    if not isinstance(data, dict):
        issues.append(doc.issue(where, "应为映射 (key: value)", "expected a mapping"))
        return obj
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        path = (*where, key)
        if key not in known:
            issues.append(doc.issue(path, f"未知的设置项: {key}", f"unknown setting: {key}"))
            continue
        current = getattr(obj, str(key))
        if is_dataclass(current):
            changes[str(key)] = _merge(current, value, doc, path, issues)
        elif isinstance(current, bool) or not isinstance(current, int | float | str):
            issues.append(doc.issue(path, "不支持的设置项类型", "unsupported setting type"))
        elif (
            isinstance(current, float)
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            changes[str(key)] = float(value)
        elif type(value) is not type(current):
            kind_zh = {int: "整数", str: "字符串", float: "数字"}[type(current)]
            issues.append(
                doc.issue(path, f"{key} 应为{kind_zh}", f"{key}: expected {type(current).__name__}")
            )
        else:
            changes[str(key)] = value
    return replace(obj, **changes)


def load_settings(path: Path | None) -> Settings:
    """Embedded defaults, overridden by the YAML file at `path` when given."""
    settings = Settings()
    if path is None:
        return settings
    doc = load_yaml(path)
    if doc.value is None:
        return settings
    issues: list[ConfigIssue] = []
    merged = _merge(settings, doc.value, doc, (), issues)
    if issues:
        raise ConfigError(issues)
    assert isinstance(merged, Settings)
    return merged
