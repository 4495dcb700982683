"""Reload a config file when it changes, keeping the last good object on a bad edit.

Generic: `load` turns a path into any config object (raising ConfigError when the file
is refused); `on_change` receives each new good object; `on_error` each refusal, whose
issues cite file:line. Cancel the task to stop watching.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import watchfiles

from hotline.yamlconf import ConfigError

T = TypeVar("T")
log = logging.getLogger(__name__)


async def watch_config(
    path: Path,
    load: Callable[[Path], T],
    on_change: Callable[[T], Awaitable[None] | None],
    on_error: Callable[[ConfigError], Awaitable[None] | None],
    *,
    watch: Path | None = None,
    debounce_ms: int = 200,
    stop_event: asyncio.Event | None = None,
) -> None:
    """Watch `path` (or the folder `watch`, for configs made of several files) forever.

    Editors often save by writing a new file and renaming it, so the parent folder is
    watched and any change under it triggers a reload of `path`.
    """
    target = watch or path.parent
    async for _changes in watchfiles.awatch(target, debounce=debounce_ms, recursive=True,
                                            stop_event=stop_event):
        try:
            value = load(path)
        except ConfigError as exc:
            log.warning("config %s refused, keeping the previous one:\n%s", path, exc)
            result = on_error(exc)
        else:
            log.info("config %s reloaded", path)
            result = on_change(value)
        if result is not None:
            await result
