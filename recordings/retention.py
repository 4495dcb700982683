"""Deleting recordings older than the retention period."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

RECORDING_SUFFIXES = frozenset({".wav", ".sln", ".sln16", ".gsm", ".ogg", ".mp3"})


def cleanup(root: Path, retention_days: int, now: float | None = None) -> list[Path]:
    """Remove recording files last modified more than `retention_days` ago.

    Returns the removed files. Emptied folders are removed too. Only files with a
    recording suffix are touched, and symlinks are never followed, so a stray link
    cannot make this delete anything outside `root`. 0 days keeps everything.
    """
    if retention_days <= 0 or not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    removed: list[Path] = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.suffix not in RECORDING_SUFFIXES:
            continue
        if path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    # Deepest first, so a day folder empties after its call folders.
    for folder in sorted((p for p in root.rglob("*") if p.is_dir() and not p.is_symlink()),
                         key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


async def retention_loop(root: Path, retention_days: int, interval: float = 3600.0) -> None:
    """Run `cleanup` now and then every `interval` seconds, off the event loop.

    Meant as a background task of the service (cancel it on shutdown).
    """
    log = logging.getLogger(__name__)
    while True:
        try:
            removed = await asyncio.to_thread(cleanup, root, retention_days)
            if removed:
                log.info("retention: removed %d recordings older than %d days",
                         len(removed), retention_days)
        except OSError:
            log.exception("retention cleanup failed")
        await asyncio.sleep(interval)
