"""The menus in service, swapped only for a newer file that validates.

Every call takes one snapshot when it starts, so an edit never changes the menus
under a caller's feet; a broken edit is refused (file:line logged and returned)
and the previous snapshot keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchfiles import awatch

from hotline.yamlconf import ConfigError, ConfigIssue
from ivr.config import IvrConfig, load_ivr_config
from ivr.prompts import PromptCatalog

log = logging.getLogger(__name__)

# Makes the sounds for a freshly validated config and returns where they are.
PreparePrompts = Callable[[IvrConfig], PromptCatalog]


@dataclass(frozen=True)
class IvrSnapshot:
    config: IvrConfig
    catalog: PromptCatalog


class IvrStore:
    def __init__(self, path: Path, prepare: PreparePrompts) -> None:
        self.path = path
        self._prepare = prepare
        self._current: IvrSnapshot | None = None
        self.last_issues: list[ConfigIssue] = []

    @property
    def current(self) -> IvrSnapshot:
        if self._current is None:
            raise RuntimeError("IvrStore.load() has not succeeded yet")
        return self._current

    def load(self) -> list[ConfigIssue]:
        """(Re)load the file; [] when accepted, else the issues (old menus kept)."""
        try:
            config = load_ivr_config(self.path)
            catalog = self._prepare(config)
        except ConfigError as exc:
            self.last_issues = exc.issues
            for issue in exc.issues:
                log.error("ivr.yaml refused, previous menus kept: %s", issue)
            return exc.issues
        self._current = IvrSnapshot(config, catalog)
        self.last_issues = []
        log.info("IVR menus loaded from %s (%d menus)", self.path, len(config.menus))
        return []

    async def watch(self, stop: asyncio.Event | None = None) -> None:
        """Reload on every change of the file until `stop` is set (or cancelled)."""
        target = self.path.resolve()
        async for changes in awatch(target.parent, stop_event=stop, debounce=200,
                                    recursive=False):
            if any(Path(p).name == target.name for _, p in changes):
                # Validation and synthesis are file and CPU work: keep them off the loop.
                await asyncio.to_thread(self.load)
