"""Text that remembers where each character came from in the transcript.

Every normalisation step takes a `Traced` and returns a new one; each character keeps
the transcript span it stands for, so an entity found in the normalised text can be
reported with offsets into what the recognizer actually said.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Traced:
    """Normalised text plus, per character, its [start, end) span in the transcript."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, transcript: str) -> Traced:
        n = len(transcript)
        return cls(transcript, tuple(range(n)), tuple(range(1, n + 1)))

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Transcript span covered by normalised characters [start, end)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"bad span {start}:{end} for text of length {len(self.text)}")
        return self.starts[start], self.ends[end - 1]

    def sub(self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> Traced:
        """Replace every match; replacement characters all stand for the whole matched span.

        An empty match is never replaced (it would have no source span).
        """
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for match in pattern.finditer(self.text):
            a, b = match.span()
            if a == b:
                continue
            new = replace(match)
            if new == match.group(0):
                continue
            parts.append(self.text[pos:a])
            starts.extend(self.starts[pos:a])
            ends.extend(self.ends[pos:a])
            if new:
                parts.append(new)
                if len(new) == b - a:
                    # Same length (e.g. a slip 物叶 -> 物业): keep the per-character map.
                    starts.extend(self.starts[a:b])
                    ends.extend(self.ends[a:b])
                else:
                    starts.extend([self.starts[a]] * len(new))
                    ends.extend([self.ends[b - 1]] * len(new))
            pos = b
        if pos == 0 and not parts:
            return self
        parts.append(self.text[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        return Traced("".join(parts), tuple(starts), tuple(ends))
