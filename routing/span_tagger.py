"""A learned second opinion on where an address or a firm's name is: a CRF over characters.

The YAML-driven patterns (routing/entities.py) find addresses from place names and suffixes
and firms from trade words and suffixes; where one ends (门口 in or out? 里面? the county
before a firm? 亳州市 in the firm's name?) is a convention the labelled calls teach better
than more patterns do. A tagger reads each character with its neighbours, the jieba word it
sits in, the patterns' own B/I/O guess for its entity and (for addresses) the known place
names it is part of, and labels it B/I/O. Trained on
the labelled calls (never on a held-out part in an evaluation), it keeps the patterns' span
where the labels agree with it and moves the edges, or drops the span, where they do not.
One tagger per entity key (address, enterprise).

python-crfsuite wraps CRFsuite; its hazards: the trainer only writes a file and the tagger
is not thread-safe, so training goes through a temporary file and tagging holds a lock.
"""

from __future__ import annotations

import re
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
# Bumped whenever `features` changes: a model saved by another version would read features
# it never saw, so its file name carries the version and an old file is simply not found.
FEATURES_VERSION = 2


def model_name(key: str) -> str:
    """The file name of a saved span model for entity `key` with these features."""
    return f"{key}.f{FEATURES_VERSION}.crfsuite"


def _in_match_order(names: Iterable[str]) -> tuple[str, ...]:
    """Distinct names, longest first (ties in a fixed order)."""
    return tuple(sorted({n for n in names if n}, key=lambda n: (-len(n), n)))


class PlaceMarks:
    """Where known place names (the config's counties, towns, roads, compounds) stand in a
    text, as B/I/O. Longest names first, so 亳州高新区 wins over 高新区."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = _in_match_order(names)
        self._pattern = (re.compile("|".join(map(re.escape, self.names))) if self.names
                         else None)

    def __call__(self, compact: str) -> list[str]:
        marks = ["O"] * len(compact)
        if self._pattern is not None:
            for m in self._pattern.finditer(compact):
                marks[m.start()] = "B"
                for j in range(m.start() + 1, m.end()):
                    marks[j] = "I"
        return marks


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


@dataclass(frozen=True)
class Reading:
    """What a tagger reads beside each character and its near neighbours. Chosen per entity
    by out-of-fold F1 on the training parts: both help addresses; both cost firms' names
    some recall (a county starts many a firm's name)."""

    wide: bool = False  # three characters either side and three-character windows
    places: bool = False  # the known place names, marked B/I/O


def features(compact: str, guess: Sequence[str], words: Sequence[str],
             places: Sequence[str] | None = None,
             wide: bool = False) -> list[dict[str, str | bool]]:
    """One feature dict per character (pure: the same input gives the same features).
    `places` is PlaceMarks' B/I/O for the text (no place features when None); `wide` adds
    the three-character context."""
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

    marks: Sequence[str] = places or ()

    def place_at(i: int) -> str:
        return marks[i] if 0 <= i < n else ("^" if i < 0 else "$")

    out: list[dict[str, str | bool]] = []
    for i, ch in enumerate(compact):
        feats: dict[str, str | bool] = {
            "c": ch, "c-1": at(i - 1), "c+1": at(i + 1), "c-2": at(i - 2), "c+2": at(i + 2),
            "b-": at(i - 1) + ch, "b+": ch + at(i + 1),
            "rx": guess_at(i), "rx-1": guess_at(i - 1), "rx+1": guess_at(i + 1),
            "word": word_of[i] if i < len(word_of) else "?", "word_start": i in word_starts,
            "place_char": ch in _PLACE_CHARS, "firm_char": ch in _FIRM_CHARS,
            "numeral": ch in _NUMERAL_CHARS,
            "near_end": n - i <= 5,
        }
        if wide:
            # Where an address ends is often told by what follows it (那边, 门口的, 里面有)
            # rather than by one neighbour.
            feats.update({"c-3": at(i - 3), "c+3": at(i + 3),
                          "t-": at(i - 2) + at(i - 1) + ch, "t+": ch + at(i + 1) + at(i + 2)})
        if places is not None:
            feats.update({"pl": place_at(i), "pl-1": place_at(i - 1), "pl+1": place_at(i + 1)})
        out.append(feats)
    return out


def _spans(labels: Sequence[str]) -> list[tuple[int, int]]:
    """Each B I I... run (an I with no B before it starts a run too)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(labels):
        if labels[i] == "O":
            i += 1
            continue
        j = i + 1
        while j < len(labels) and labels[j] == "I":
            j += 1
        out.append((i, j))
        i = j
    return out


def surest_span(spans: Sequence[tuple[int, int]],
                sureness: Sequence[float]) -> tuple[int, int] | None:
    """The span with the highest sureness; on a tie the longer, then the earlier one."""
    if not spans:
        return None
    best = max(range(len(spans)), key=lambda k: (sureness[k], spans[k][1] - spans[k][0], -k))
    return spans[best]


@dataclass(frozen=True)
class SpanExample:
    transcript: str
    pattern_span: tuple[int, int] | None  # the patterns' guess, in transcript positions
    label: str | None  # the labelled value (the caller's words without spaces)


Cut = Callable[[str], Sequence[str]]


class SpanTagger:
    """Tags one entity (an address, a firm) in a transcript, given the patterns' guess, a
    word splitter and the known place names."""

    def __init__(self, model: bytes, cut: Cut, trained_on: int,
                 place_names: Sequence[str] = (), reading: Reading = Reading()) -> None:
        self.model = model
        self.trained_on = trained_on
        self.reading = reading
        self._cut = cut
        self._places = PlaceMarks(place_names)
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open_inmemory(model)
        self._lock = threading.Lock()  # a CRFsuite tagger holds per-call state

    @classmethod
    def train(cls, examples: Iterable[SpanExample], cut: Cut,
              place_names: Sequence[str] = (), reading: Reading = Reading()) -> SpanTagger:
        places = PlaceMarks(place_names)
        trainer = pycrfsuite.Trainer(verbose=False)
        count = 0
        for ex in examples:
            gold = gold_labels(ex.transcript, ex.label)
            if gold is None:
                continue  # a label the text does not hold teaches nothing
            compact, _ = _compact(ex.transcript)
            words = list(cut(compact))
            marks = places(compact) if reading.places else None
            trainer.append(features(compact, pattern_labels(ex.transcript, ex.pattern_span),
                                    words, marks, reading.wide), gold)
            # Once more without the patterns' guess: the patterns were tuned on these very
            # calls, so with their guess alone the tagger would learn to copy it; on calls
            # nobody tuned on it must read the words too (chosen on syn5/syn6's training parts).
            if ex.pattern_span is not None:
                trainer.append(features(compact, pattern_labels(ex.transcript, None), words,
                                        marks, reading.wide), gold)
            count += 1
        if count == 0:
            raise ValueError("no labelled transcripts to train the span tagger on")
        trainer.set_params(_TRAINING)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "span.crfsuite"
            trainer.train(str(path))
            return cls(path.read_bytes(), cut, count, place_names, reading)

    @property
    def cut(self) -> Cut:
        """The word splitter this tagger reads transcripts with."""
        return self._cut

    @property
    def place_names(self) -> tuple[str, ...]:
        """The known place names this tagger marks in a transcript (longest first)."""
        return self._places.names

    def reading_with(self, cut: Cut, place_names: Sequence[str]) -> SpanTagger:
        """The same model reading words split by another splitter, with other place names
        (after a reload that changed them)."""
        return SpanTagger(self.model, cut, self.trained_on, place_names, self.reading)

    def reads_like(self, cut: Cut, place_names: Sequence[str]) -> bool:
        # Compared without compiling a matcher: a Router asks this at every reload.
        return self._cut == cut and self._places.names == _in_match_order(place_names)

    def tag(self, transcript: str, pattern_span: tuple[int, int] | None) -> TaggedSpan | None:
        compact, where = _compact(transcript)
        if not compact:
            return None
        feats = features(compact, pattern_labels(transcript, pattern_span),
                         list(self._cut(compact)),
                         self._places(compact) if self.reading.places else None,
                         self.reading.wide)
        with self._lock:
            labels = self._tagger.tag(feats)
            spans = _spans(labels)
            # Two places said (the firm's county and the spot): keep the one the model is
            # surest of, by its mean marginal probability, not the longer one (chosen on
            # the training parts' out-of-fold errors).
            sureness = [sum(self._tagger.marginal(labels[i], i) for i in range(a, b)) / (b - a)
                        for a, b in spans] if len(spans) > 1 else [1.0] * len(spans)
        chosen = surest_span(spans, sureness)
        if chosen is None:
            return None
        a, b = chosen
        return TaggedSpan(where[a], where[b - 1] + 1, compact[a:b])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.model)
        tmp.replace(path)  # atomic: a reader never sees half a model

    @classmethod
    def load(cls, path: Path, cut: Cut, place_names: Sequence[str] = (),
             reading: Reading = Reading()) -> SpanTagger:
        data = path.read_bytes()
        try:
            return cls(data, cut, trained_on=0, place_names=place_names, reading=reading)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: unreadable span model ({exc})") from exc
