"""The composition root's helpers: desk files load, AMI replies become plain headers."""

from __future__ import annotations

from typing import Any

from ami_bridge.parser import AmiMessage
from desk.wiring import BridgeActions, load_desk_files
from tests.unit.desk.conftest import PROJECT


def test_load_desk_files() -> None:
    files = load_desk_files(PROJECT / "config")
    assert files.users.by_endpoint("PJSIP/1001") is not None
    assert files.config.wrapup_s == 30
    assert len(files.kb.articles) >= 15


class _Reply:
    def __init__(self, *headers: tuple[str, str]) -> None:
        self.raw = AmiMessage(headers)


async def test_bridge_actions_adapts_replies() -> None:
    sent: list[dict[str, str]] = []
    replies: list[Any] = [
        _Reply(("Response", "Success"), ("Message", "Added interface to queue")),
        [_Reply(("Response", "Error"), ("Message", "Interface not found"))],
        {"Response": "Success"},
    ]

    async def send(action: dict[str, str]) -> Any:
        sent.append(action)
        return replies.pop(0)

    port = BridgeActions(send)
    assert (await port.send_action({"Action": "QueueAdd"}))["Message"] == "Added interface to queue"
    assert (await port.send_action({"Action": "QueueRemove"}))["Response"] == "Error"
    assert (await port.send_action({"Action": "Ping"})) == {"Response": "Success"}
    assert [a["Action"] for a in sent] == ["QueueAdd", "QueueRemove", "Ping"]
