"""Helpers for the composition root (`hotline run`): the desk's files and the AMI adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ami_bridge.parser import AmiMessage
from desk.config import DeskConfig, load_desk_config
from desk.kb import KnowledgeBase, load_kb
from desk.users import UserDirectory, load_users


@dataclass(frozen=True)
class DeskFiles:
    users: UserDirectory
    config: DeskConfig
    kb: KnowledgeBase


def load_desk_files(config_dir: Path) -> DeskFiles:
    """users.yaml, desk.yaml (optional) and kb/*.yaml; ConfigError lists every problem.

    Blocking (file reads, jieba's dictionary, one argon2 hash): call it in an executor.
    """
    desk_yaml = config_dir / "desk.yaml"
    config = load_desk_config(desk_yaml) if desk_yaml.exists() else DeskConfig()
    return DeskFiles(load_users(config_dir / "users.yaml"), config, load_kb(config_dir / "kb"))


def _headers(reply: Any) -> dict[str, str]:
    raw = getattr(reply, "raw", None)
    if isinstance(raw, AmiMessage):
        return {k: v for k, v in reversed(raw.headers)}  # first value wins, as AMI means it
    if isinstance(reply, Mapping):
        return {str(k): str(v) for k, v in reply.items()}
    return {"Response": "Error", "Message": "unexpected AMI reply"}


class BridgeActions:
    """The desk's AmiActionPort over `AmiBridge.send_action` (replies made plain dicts)."""

    def __init__(self, send: Callable[[dict[str, str]], Awaitable[Any]]) -> None:
        self._send = send

    async def send_action(self, action: Mapping[str, str]) -> Mapping[str, str]:
        reply = await self._send(dict(action))
        if isinstance(reply, list):  # an event list: its first message is the response
            reply = reply[0] if reply else None
        return _headers(reply)
