"""`hotline check-config [DIR]`: validate every YAML file the service reads.

Each file is loaded by the same function the service uses, so a file that passes
here is a file the service accepts. Partner keys are deployment secrets, not file
content: a missing key is reported, but only `--require-keys` makes it an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from desk.config import load_desk_config
from desk.kb import load_kb
from desk.users import load_users
from hotline.yamlconf import ConfigError, load_yaml
from ivr.config import load_ivr_config
from police110.partners import parse_partners
from routing.config import load_routing_config
from tickets.holidays import load_holidays

_PLACEHOLDER_KEY = "x" * 64


def _partners_structure(path: Path) -> Any:
    """partners.yaml with every key present, so only the file itself is judged."""
    doc = load_yaml(path)
    return parse_partners(doc, _AnyKey(), path.parent)


class _AnyKey(Mapping[str, str]):
    """An environment in which every key variable is set."""

    def __getitem__(self, key: str) -> str:
        return _PLACEHOLDER_KEY

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def checks(config_dir: Path, require_keys: bool) -> list[tuple[str, Path, Callable[[Path], Any]]]:
    from police110.partners import load_partners

    partners: Callable[[Path], Any] = (
        (lambda p: load_partners(p, base_dir=config_dir.parent))
        if require_keys
        else _partners_structure
    )
    return [
        ("ivr.yaml", config_dir / "ivr.yaml", load_ivr_config),
        ("routing.yaml", config_dir / "routing.yaml", load_routing_config),
        ("holidays.yaml", config_dir / "holidays.yaml", load_holidays),
        ("users.yaml", config_dir / "users.yaml", load_users),
        ("desk.yaml", config_dir / "desk.yaml", load_desk_config),
        ("kb/", config_dir / "kb", load_kb),
        ("partners.yaml", config_dir / "partners.yaml", partners),
    ]


def check_config(config_dir: Path, out: TextIO, require_keys: bool = False) -> int:
    failed = 0
    for name, path, load in checks(config_dir, require_keys):
        try:
            load(path)
        except ConfigError as exc:
            failed += 1
            out.write(f"✗ {name}: 有错误 / refused\n")
            for issue in exc.issues:
                out.write(f"  {issue}\n")
        else:
            out.write(f"✓ {name}: 通过 / ok\n")
    out.write(
        f"{'全部通过' if not failed else f'{failed} 个文件有错误'} "
        f"({'all files ok' if not failed else f'{failed} file(s) refused'})\n"
    )
    return 1 if failed else 0
