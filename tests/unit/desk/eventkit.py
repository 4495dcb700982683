"""AMI events as the bridge publishes them, for desk tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientWebSocketResponse

from ami_bridge import events as ev


def agent_event(
    kind: type[ev.AgentEvent],
    interface: str,
    linkedid: str = "1764122400.10",
    ticket_id: str | None = "20261126-0001",
    queue: str = "property",
    caller: str = "13800138000",
    **extra: Any,
) -> Any:
    n = interface.rsplit("/", 1)[-1]
    return kind(
        channel=f"PJSIP/trunk-0000{n}",
        uniqueid=linkedid,
        linkedid=linkedid,
        caller_num=caller,
        caller_name="",
        state="Up",
        context="hotline",
        exten="12345",
        vars={"TICKET_ID": ticket_id} if ticket_id else {},
        queue=queue,
        interface=interface,
        member_name=interface,
        dest_channel=f"{interface}-0000{n}a",
        dest_uniqueid=f"{linkedid}{n}",
        **extra,
    )


async def next_message(
    ws: ClientWebSocketResponse, kind: str, timeout: float = 2.0
) -> dict[str, Any]:
    """The next message of type `kind` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            data = json.loads(msg.data)
            if data.get("type") == kind:
                return dict(data)


async def no_message(ws: ClientWebSocketResponse, kind: str, wait: float = 0.3) -> None:
    try:
        data = await next_message(ws, kind, wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected {kind}: {data}")
