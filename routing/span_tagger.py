"""A learned second opinion on where an address or a firm's name is: a CRF over characters.

The YAML-driven patterns (routing/entities.py) find addresses from place names and suffixes
and firms from trade words and suffixes; where one ends (门口 in or out? 里面? the county
before a firm? 亳州市 in the firm's name?) is a convention the labelled calls teach better
than more patterns do. A tagger reads each character with its neighbours, the jieba word it
sits in, and the patterns' own B/I/O guess for its entity, and labels it B/I/O. Trained on
the labelled calls (never on a held-out part in an evaluation), it keeps the patterns' span
where the labels agree with it and moves the edges, or drops the span, where they do not.
One tagger per entity key (address, enterprise).

python-crfsuite wraps CRFsuite; its hazards: the trainer only writes a file and the tagger
is not thread-safe, so training goes through a temporary file and tagging holds a lock.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pycrfsuite

# Characters that end or mark a place or a firm: features of their own so rare names light up.
_PLACE_CHARS = frozenset("路街道镇乡村县区号楼栋单元门口旁边对面附近段"
                         "园苑府城湾庄集寨社广场院校医站桥河")
_FIRM_CHARS = frozenset("公司厂店超市馆行社部所院坊堂城中心集团业")
_NUMERAL_CHARS = frozenset("0123456789零一二三四五六七八九十幺两百")
# Chosen by 5-fold cross-validation on the tune and training parts (0.1/0.05 best of four).
_TRAINING = {"c1": 0.1, "c2": 0.05, "max_iterations": 150}


@dataclass(frozen=True)
class TaggedSpan:
    start: int  # in the transcript as given (with its spaces)
    end: int
    value: str  # the caller's words without spaces


def _compact(transcript: str) -> tuple[str, list[int]]:
    """The transcript without spaces, and where each kept character was."""
    where = [i for i, ch in enumerate(transcript) if not ch.isspace()]
    return "".join(transcript[i] for i in where), where


def pattern_labels(transcript: str, span: tuple[int, int] | None) -> list[str]:
    """The patterns' span as B/I/O over the compact characters."""
    compact, where = _compact(transcript)
    labels = ["O"] * len(compact)
    if span is not None:
        inside = [k for k, i in enumerate(where) if span[0] <= i < span[1]]
        for n, k in enumerate(inside):
            labels[k] = "B" if n == 0 else "I"
    return labels


def gold_labels(transcript: str, value: str | None) -> list[str] | None:
    """B/I/O for a labelled span; None when the label is not found in the text."""
    compact, _ = _compact(transcript)
    labels = ["O"] * len(compact)
    if not value:
        return labels
    k = compact.find(value)
    if k < 0:
        return None
    labels[k] = "B"
    for j in range(k + 1, k + len(value)):
        labels[j] = "I"
    return labels


def features(compact: str, guess: Sequence[str],
             words: Sequence[str]) -> list[dict[str, str | bool]]:
    """One feature dict per character (pure: the same input gives the same features)."""
    word_of: list[str] = []
    word_starts: set[int] = set()
    pos = 0
    for word in words:
        word_starts.add(pos)
        word_of.extend([word if len(word) <= 4 else "LONG"] * len(word))
        pos += len(word)
    n = len(compact)

    def at(i: int) -> str:
        return compact[i] if 0 <= i < n else ("^" if i < 0 else "$")

    def guess_at(i: int) -> str:
        return guess[i] if 0 <= i < n else ("^" if i < 0 else "$")

    out: list[dict[str, str | bool]] = []
    for i, ch in enumerate(compact):
        out.append({
            "c": ch, "c-1": at(i - 1), "c+1": at(i + 1), "c-2": at(i - 2), "c+2": at(i + 2),
            "b-": at(i - 1) + ch, "b+": ch + at(i + 1),
            "rx": guess_at(i), "rx-1": guess_at(i - 1), "rx+1": guess_at(i + 1),
            "word": word_of[i] if i < len(word_of) else "?", "word_start": i in word_starts,
            "place_char": ch in _PLACE_CHARS, "firm_char": ch in _FIRM_CHARS,
            "numeral": ch in _NUMERAL_CHARS,
            "near_end": n - i <= 5,
        })
    return out


def _longest_span(labels: Sequence[str]) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    i = 0
    while i < len(labels):
        if labels[i] == "O":
            i += 1
            continue
        j = i + 1
        while j < len(labels) and labels[j] == "I":
            j += 1
        if best is None or j - i > best[1] - best[0]:
            best = (i, j)
        i = j
    return best


@dataclass(frozen=True)
class SpanExample:
    transcript: str
    pattern_span: tuple[int, int] | None  # the patterns' guess, in transcript positions
    label: str | None  # the labelled value (the caller's words without spaces)


class SpanTagger:
    """Tags one entity (an address, a firm) in a transcript, given the patterns' guess and a
    word splitter."""

    def __init__(self, model: bytes, cut: Callable[[str], Sequence[str]], trained_on: int) -> None:
        self.model = model
        self.trained_on = trained_on
        self._cut = cut
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open_inmemory(model)
        self._lock = threading.Lock()  # a CRFsuite tagger holds per-call state

    @classmethod
    def train(cls, examples: Iterable[SpanExample],
              cut: Callable[[str], Sequence[str]]) -> SpanTagger:
        trainer = pycrfsuite.Trainer(verbose=False)
        count = 0
        for ex in examples:
            gold = gold_labels(ex.transcript, ex.label)
            if gold is None:
                continue  # a label the text does not hold teaches nothing
            compact, _ = _compact(ex.transcript)
            words = list(cut(compact))
            trainer.append(features(compact, pattern_labels(ex.transcript, ex.pattern_span),
                                    words), gold)
            # Once more without the patterns' guess: the patterns were tuned on these very
            # calls, so with their guess alone the tagger would learn to copy it; on calls
            # nobody tuned on it must read the words too (chosen on syn5/syn6's training parts).
            if ex.pattern_span is not None:
                trainer.append(features(compact, pattern_labels(ex.transcript, None), words),
                               gold)
            count += 1
        if count == 0:
            raise ValueError("no labelled transcripts to train the span tagger on")
        trainer.set_params(_TRAINING)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "span.crfsuite"
            trainer.train(str(path))
            return cls(path.read_bytes(), cut, count)

    @property
    def cut(self) -> Callable[[str], Sequence[str]]:
        """The word splitter this tagger reads transcripts with."""
        return self._cut

    def with_cut(self, cut: Callable[[str], Sequence[str]]) -> SpanTagger:
        """The same model reading words split by another splitter."""
        return SpanTagger(self.model, cut, self.trained_on)

    def tag(self, transcript: str, pattern_span: tuple[int, int] | None) -> TaggedSpan | None:
        compact, where = _compact(transcript)
        if not compact:
            return None
        feats = features(compact, pattern_labels(transcript, pattern_span),
                         list(self._cut(compact)))
        with self._lock:
            labels = self._tagger.tag(feats)
        span = _longest_span(labels)
        if span is None:
            return None
        a, b = span
        return TaggedSpan(where[a], where[b - 1] + 1, compact[a:b])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.model)
        tmp.replace(path)  # atomic: a reader never sees half a model

    @classmethod
    def load(cls, path: Path, cut: Callable[[str], Sequence[str]]) -> SpanTagger:
        data = path.read_bytes()
        try:
            return cls(data, cut, trained_on=0)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: unreadable span model ({exc})") from exc
