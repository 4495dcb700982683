"""Cleaning recognizer output into the text people read."""

from __future__ import annotations

import itertools
import json
import re

# Unknown-word tokens: `[unk]` in most Vosk models, `<UNK>` in the Korean test model.
UNKNOWN_TOKENS = frozenset({"[unk]", "<unk>", "<UNK>"})
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def clean_text(raw: str) -> str:
    """Drop unknown-word tokens; join Chinese words without the recognizer's spaces."""
    words = [w for w in raw.split() if w not in UNKNOWN_TOKENS]
    if not words:
        return ""
    out = words[0]
    for prev, word in itertools.pairwise(words):
        # Chinese is written without spaces; keep them for anything else (Korean, digits).
        joiner = "" if _CJK.search(prev[-1]) and _CJK.search(word[0]) else " "
        out += joiner + word
    return out


def result_text(result_json: str, key: str = "text") -> str:
    """The text of a Vosk JSON result (`text` for results, `partial` for partials)."""
    value = json.loads(result_json).get(key, "")
    return clean_text(value) if isinstance(value, str) else ""


def join_segments(segments: list[str]) -> str:
    return clean_text(" ".join(s for s in segments if s))
