"""The statistical half of routing: linear models over character n-grams.

Trained on labeled utterances and on tickets agents corrected. Three models: the line,
the kind, and (for consultations only) simple (1 day) versus complex (3 days).
Texts are normalised before training and prediction, so the models see what the rules see.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

MODEL_FORMAT = 2


@dataclass(frozen=True)
class Example:
    """One labeled utterance: raw transcript, line, kind and (if known) the 137 class."""

    text: str
    line: str
    kind: str
    sla_days: int | None = None


@dataclass(frozen=True)
class Prediction:
    line: dict[str, float]
    kind: dict[str, float]
    complex: float  # probability that a consultation is complex (3 days)


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1)


def _linear() -> LogisticRegression:
    return LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")


@dataclass(frozen=True)
class _Head:
    """One fitted linear model, kept as plain arrays for a fast single-text prediction."""

    classes: tuple[str, ...]
    coef: np.ndarray[Any, np.dtype[np.float64]]  # (n_classes or 1, n_features)
    intercept: np.ndarray[Any, np.dtype[np.float64]]

    @classmethod
    def of(cls, model: LogisticRegression) -> _Head:
        return cls(tuple(str(c) for c in model.classes_), np.asarray(model.coef_, dtype=np.float64),
                   np.asarray(model.intercept_, dtype=np.float64))

    def probabilities(self, index: list[int], values: np.ndarray[Any, np.dtype[np.float64]]
                      ) -> dict[str, float]:
        z = self.coef[:, index] @ values + self.intercept
        if len(self.classes) == 2 and z.shape[0] == 1:
            p1 = 1.0 / (1.0 + math.exp(-float(z[0])))
            return {self.classes[0]: 1.0 - p1, self.classes[1]: p1}
        z = z - z.max()
        e = np.exp(z)
        e /= e.sum()
        return {c: float(p) for c, p in zip(self.classes, e, strict=True)}


class Classifier:
    """Line, kind and consultation-complexity probabilities for a normalised text.

    The three heads share one character n-gram vocabulary. Prediction re-implements the
    TF-IDF transform and the linear model's probabilities over plain arrays: sklearn's
    per-call input validation costs several milliseconds, our budget is 10 ms in all.
    `test_classifier.py` checks the result equals sklearn's own predict_proba.
    """

    def __init__(self, vectorizer: TfidfVectorizer, line: LogisticRegression,
                 kind: LogisticRegression, complexity: LogisticRegression | None,
                 trained_on: int) -> None:
        self.vectorizer = vectorizer
        self.line_model = line
        self.kind_model = kind
        self.complexity_model = complexity
        self.trained_on = trained_on
        self._vocabulary: dict[str, int] = {str(k): int(v)
                                            for k, v in vectorizer.vocabulary_.items()}
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._line = _Head.of(line)
        self._kind = _Head.of(kind)
        self._complexity = None if complexity is None else _Head.of(complexity)

    @classmethod
    def train(cls, examples: Sequence[Example], normalise: Callable[[str], str]) -> Classifier:
        if len({e.line for e in examples}) < 2 or len({e.kind for e in examples}) < 2:
            raise ValueError("training needs at least two lines and two kinds")
        texts = [normalise(e.text) for e in examples]
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(texts)
        line = _linear().fit(features, [e.line for e in examples])
        kind = _linear().fit(features, [e.kind for e in examples])
        rows = [i for i, e in enumerate(examples)
                if e.kind == "consultation" and e.sla_days in (1, 3)]
        labels = [str(examples[i].sla_days) for i in rows]
        complexity = None
        if len(set(labels)) == 2:
            complexity = _linear().fit(features[rows], labels)
        return cls(vectorizer, line, kind, complexity, len(examples))

    def features(self, text: str) -> tuple[list[int], np.ndarray[Any, np.dtype[np.float64]]]:
        """The TF-IDF vector of `text` as (indexes, values), like vectorizer.transform."""
        counts: dict[int, int] = {}
        vocabulary = self._vocabulary
        n = len(text)
        for size in (1, 2, 3):
            for i in range(n - size + 1):
                j = vocabulary.get(text[i:i + size])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        index = list(counts)
        values = np.array([1.0 + math.log(counts[j]) for j in index], dtype=np.float64)
        if index:
            values *= self._idf[index]
            norm = float(np.sqrt(values @ values))
            if norm > 0:
                values /= norm
        return index, values

    def predict(self, text: str) -> Prediction:
        """All three heads at once, sharing one feature vector."""
        index, values = self.features(text)
        complex_p = 0.5
        if self._complexity is not None:
            complex_p = self._complexity.probabilities(index, values).get("3", 0.5)
        return Prediction(self._line.probabilities(index, values),
                          self._kind.probabilities(index, values), complex_p)

    def line_probabilities(self, text: str) -> dict[str, float]:
        return self._line.probabilities(*self.features(text))

    def kind_probabilities(self, text: str) -> dict[str, float]:
        return self._kind.probabilities(*self.features(text))

    def complex_probability(self, text: str) -> float:
        """Probability that a consultation is complex (3 days); 0.5 when untrained."""
        if self._complexity is None:
            return 0.5
        return self._complexity.probabilities(*self.features(text)).get("3", 0.5)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        payload: dict[str, Any] = {
            "format": MODEL_FORMAT, "vectorizer": self.vectorizer, "line": self.line_model,
            "kind": self.kind_model, "complexity": self.complexity_model,
            "trained_on": self.trained_on,
        }
        with tmp.open("wb") as fh:
            pickle.dump(payload, fh)
        tmp.replace(path)  # atomic: a reader never sees half a model

    @classmethod
    def load(cls, path: Path) -> Classifier:
        # The model file is written only by `retrain` into our own data folder.
        try:
            with path.open("rb") as fh:
                payload = pickle.load(fh)  # noqa: S301
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ValueError(f"{path}: unreadable routing model ({exc})") from exc
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: not a routing model of format {MODEL_FORMAT}")
        return cls(payload["vectorizer"], payload["line"], payload["kind"],
                   payload["complexity"], int(payload["trained_on"]))


def read_examples(path: Path, ids: Iterable[str] | None = None) -> list[Example]:
    """Examples from a JSONL file in the format of utterances-dev.jsonl (optionally some ids)."""
    wanted = None if ids is None else set(ids)
    out: list[Example] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        row = json.loads(raw)
        if wanted is not None and row["id"] not in wanted:
            continue
        out.append(Example(row["text"], row["line"], row["kind"], row.get("sla_days")))
    return out
