"""In-process publish/subscribe of frozen event objects.

The AMI bridge, the IVR and the speech engine publish; the desk's websockets and
the metrics subscribe. Publishing never blocks the publisher: a subscriber that
falls behind loses its oldest events (counted), because a slow browser must not
stall call handling.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(eq=False)
class Subscription:
    """One subscriber's bounded queue; iterate it with `async for`."""

    bus: EventBus
    maxsize: int = 1000
    dropped: int = 0
    _queue: asyncio.Queue[object] = field(init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.maxsize)

    def offer(self, event: object) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> object:
        return await self._queue.get()

    def drain(self) -> list[object]:
        """Everything waiting, without waiting for more."""
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    def close(self) -> None:
        self.bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[object]:
        while True:
            yield await self._queue.get()


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, maxsize)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def publish(self, event: object) -> None:
        for sub in tuple(self._subscribers):
            sub.offer(event)
