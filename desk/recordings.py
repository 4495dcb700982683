"""Recordings played or downloaded from the desk: every access is logged (who, when, which)."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from desk.ports import Clock, RecordingAccess

log = logging.getLogger(__name__)


class RecordingLibrary:
    def __init__(self, folder: Path, clock: Clock) -> None:
        self._folder = folder.resolve()
        self._clock = clock
        self.accesses: list[RecordingAccess] = []  # also the audit log the admin page shows

    def open(self, who: str, ticket_number: str, name: str, action: str) -> Path | None:
        """The file, after logging the access; None if it does not exist or escapes the folder.

        `name` is relative to the folder and may have sub-folders (the recordings
        layout is `<day>/<call id>/<file>`); it never leaves the folder.
        """
        relative = PurePosixPath(name)
        if relative.is_absolute() or any(part in ("", "..") for part in relative.parts):
            return None
        path = (self._folder / relative).resolve()
        if not path.is_relative_to(self._folder) or not path.is_file():
            return None
        access = RecordingAccess(who, self._clock.now(), ticket_number, name, action)
        self.accesses.append(access)
        log.info("recording %s of ticket %s: %s by %s", name, ticket_number, action, who)
        return path
