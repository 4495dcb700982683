"""Where recordings live: paths built only from our own ids, never leaving the root.

Layout under the recordings root (one folder per day keeps folders small and makes
retention cheap):

    2026-11-26/<call_id>/speech-<uuid>.wav   the caller's speech in one speech step
    2026-11-26/<call_id>/call.wav           the whole call (MixMonitor)

Ids are checked against a strict pattern before they touch a path, and every
resolved path is checked to stay inside the root: nothing a caller says or keys in
can steer a file elsewhere.
"""

from __future__ import annotations

import re
import wave
from datetime import date
from pathlib import Path, PurePosixPath

# Asterisk uniqueids (1700000000.42), linkedids, UUIDs and our ticket ids all fit.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


class UnsafePath(ValueError):
    """An id or relative path that would not stay inside the recordings folder."""


def check_id(value: str, what: str = "call id") -> str:
    if not _ID.fullmatch(value) or ".." in value:
        raise UnsafePath(f"recordings: {what} {value!r} is not a safe identifier")
    return value


class RecordingStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _relative(self, call_id: str, day: date, name: str) -> PurePosixPath:
        return PurePosixPath(day.isoformat(), check_id(call_id), name)

    def speech_name(self, call_id: str, session_id: str, day: date) -> PurePosixPath:
        """Relative name of the caller's speech in one speech step (our session uuid)."""
        return self._relative(call_id, day, f"speech-{check_id(session_id, 'session id')}.wav")

    def mixmonitor_name(self, call_id: str, day: date) -> PurePosixPath:
        """Relative name for MixMonitor's whole-call file (its format from the .wav suffix)."""
        return self._relative(call_id, day, "call.wav")

    def resolve(self, relative: PurePosixPath | str) -> Path:
        """Absolute path of a relative name, refused if it would leave the root."""
        rel = PurePosixPath(relative)
        if rel.is_absolute() or any(part in ("..", "") for part in rel.parts):
            raise UnsafePath(f"recordings: {str(relative)!r} is not a relative path in the root")
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root):
            raise UnsafePath(f"recordings: {str(relative)!r} leaves {self.root}")
        return path

    def relative(self, path: Path | str) -> PurePosixPath:
        """The name under the root of a file inside it (what tickets keep), refused if outside."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise UnsafePath(f"recordings: {str(path)!r} is not a file in {self.root}")
        return PurePosixPath(resolved.relative_to(self.root).as_posix())

    def write_wav(self, relative: PurePosixPath, pcm: bytes, rate: int) -> Path:
        """Save 16-bit mono signed-linear audio as a WAV file (blocking: run off the loop)."""
        path = self.resolve(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm)
        tmp.replace(path)
        return path
