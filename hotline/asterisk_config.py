"""Render the project's Asterisk configuration (config/asterisk) for one installation.

The templates hold `@NAME@` placeholders. The sandbox (`hotline sandbox up`) and the
Asterisk container (docker/asterisk-entrypoint.sh) both call `render_config_set`, so
both run exactly the same configuration; only the values differ.

This module uses the standard library only: the container runs it with Debian's
python3 as `python3 asterisk_config.py TEMPLATE_DIR OUT_DIR`, values from the
environment (see `values_from_env`).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
# Files of the set: Asterisk's own config files. Anything else in the folder (a README,
# the .sandbox-done marker) is not installed.
TEMPLATE_SUFFIXES = (".conf",)

# app_queue reads the [general] section of queues.conf as its global options, so a queue
# cannot be called `general` there. The `general` line is this Asterisk queue.
GENERAL_QUEUE = "general_line"


def queue_of_line(line: str) -> str:
    """The Asterisk queue that serves a line."""
    return GENERAL_QUEUE if line == "general" else line


def line_of_queue(queue: str) -> str:
    """The line an Asterisk queue serves (what agents and tickets call it)."""
    return "general" if queue == GENERAL_QUEUE else queue


class RenderError(ValueError):
    """A template names a placeholder that has no value, or a value is unsafe."""


@dataclass(frozen=True)
class AsteriskValues:
    """Everything that differs between installations; field NAME fills @NAME@."""

    ami_bind: str = "127.0.0.1"
    ami_port: str = "5038"
    ami_user: str = "hotline"
    ami_secret: str = ""
    # Who may log in to AMI (address/mask); loopback only unless configured.
    ami_permit: str = "127.0.0.1/255.255.255.255"
    sip_bind: str = "127.0.0.1"
    sip_port: str = "5060"
    # Source address of the carrier trunk (in tests: sipp on loopback).
    callers_match: str = "127.0.0.1"
    agent_host: str = "127.0.0.1"
    police110_host: str = "127.0.0.1"
    police110_port: str = "5090"
    agi_host: str = "127.0.0.1"
    agi_port: str = "4573"
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: str = "9092"
    rtp_start: str = "10000"
    rtp_end: str = "10999"
    general_queue: str = GENERAL_QUEUE
    # Where Asterisk writes whole-call recordings (MixMonitor); the service reads the same
    # folder (for the sandbox: this path inside the chroot).
    recordings_dir: str = "/var/spool/asterisk/hotline"

    def as_placeholders(self) -> dict[str, str]:
        return {name.upper(): value for name, value in asdict(self).items()}

    def __repr__(self) -> str:
        # The secret must never reach a log through a repr.
        shown = {k: ("***" if k == "ami_secret" else v) for k, v in asdict(self).items()}
        return f"AsteriskValues({shown})"


# Values end up inside Asterisk config lines: a newline, `;` (comment) or `[` could
# smuggle in extra options or sections.
_UNSAFE = re.compile(r"[\r\n;\[\]]")


def render_text(template: str, values: Mapping[str, str], name: str = "<template>") -> str:
    """Replace every @NAME@ in `template`; an unknown name is an error, never left as is."""
    missing: set[str] = set()

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            missing.add(key)
            return match.group(0)
        value = values[key]
        if _UNSAFE.search(value):
            raise RenderError(f"{name}: value for @{key}@ contains a newline, ';' or brackets")
        return value

    out = PLACEHOLDER.sub(substitute, template)
    if missing:
        names = ", ".join(f"@{m}@" for m in sorted(missing))
        raise RenderError(f"{name}: no value for {names}")
    return out


def template_files(template_dir: Path) -> list[Path]:
    return sorted(
        p for p in template_dir.iterdir() if p.is_file() and p.name.endswith(TEMPLATE_SUFFIXES)
    )


def render_config_set(template_dir: Path, values: AsteriskValues) -> dict[str, str]:
    """File name -> rendered text, for every config file in `template_dir`."""
    if not values.ami_secret:
        raise RenderError("no AMI secret given: refusing to render manager.conf without one")
    placeholders = values.as_placeholders()
    return {
        p.name: render_text(p.read_text(encoding="utf-8"), placeholders, p.name)
        for p in template_files(template_dir)
    }


def install_config_set(files: Mapping[str, str], etc_dir: Path) -> None:
    """Make `etc_dir` hold exactly `files` (the package's own configs are removed).

    Files are written to a temporary name and renamed, so a running Asterisk reloading
    at that moment never reads a half-written file. manager.conf holds the secret: 0600.
    """
    etc_dir.mkdir(parents=True, exist_ok=True)
    for old in etc_dir.iterdir():
        if old.name not in files:
            if old.is_dir() and not old.is_symlink():
                _remove_tree(old)
            else:
                old.unlink()
    for name, text in files.items():
        fd, tmp = tempfile.mkstemp(dir=etc_dir, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600 if name == "manager.conf" else 0o644)
        os.replace(tmp, etc_dir / name)


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            _remove_tree(child)
        else:
            child.unlink()
    path.rmdir()


ENV_PREFIX = "HOTLINE_AST_"


def values_from_env(env: Mapping[str, str]) -> AsteriskValues:
    """Values for the container: HOTLINE_AST_<FIELD> overrides, the AMI secret from
    HOTLINE_AMI_SECRET (the same variable the service reads)."""
    defaults = AsteriskValues()
    chosen: dict[str, str] = {}
    for name, default in asdict(defaults).items():
        chosen[name] = env.get(ENV_PREFIX + name.upper(), default)
    chosen["ami_secret"] = env.get("HOTLINE_AMI_SECRET", "")
    return AsteriskValues(**chosen)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: asterisk_config.py TEMPLATE_DIR OUT_DIR", file=sys.stderr)
        return 2
    try:
        files = render_config_set(Path(argv[1]), values_from_env(os.environ))
    except RenderError as exc:
        print(f"asterisk config: {exc}", file=sys.stderr)
        return 1
    install_config_set(files, Path(argv[2]))
    print(f"asterisk config: installed {len(files)} files into {argv[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
