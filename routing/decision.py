"""What routing decides about one utterance, with the reasons, as frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from routing.entities import Entity


@dataclass(frozen=True)
class Hit:
    """A phrase or pattern that matched, with the weight it added (negative: counted against)."""

    label: str
    weight: float
    source: str


@dataclass(frozen=True)
class FiredRule:
    name: str
    line: str | None
    kind: str | None
    priority: int
    source: str


@dataclass(frozen=True)
class Explanation:
    rules: tuple[FiredRule, ...]
    line_hits: Mapping[str, tuple[Hit, ...]]
    line_rule_scores: Mapping[str, float]
    line_classifier: Mapping[str, float]
    line_scores: Mapping[str, float]  # rule score + weighted classifier probability
    kind_scores: Mapping[str, float]
    kind_classifier: Mapping[str, float]
    complex_score: float
    complex_probability: float
    decided_by: str  # "rule:<name>", "scores" or "scores (past only ...)"


@dataclass(frozen=True)
class Decision:
    line: str  # the queue the call goes to (general when confidence is low, never for police)
    suggested_line: str  # the best-scoring line, shown to the agent to confirm
    kind: str
    sla_days: int
    confidence: float
    low_confidence: bool
    entities: tuple[Entity, ...]
    normalised: str
    tokens: tuple[str, ...]
    explanation: Explanation

    def entity(self, key: str) -> Entity | None:
        return next((e for e in self.entities if e.key == key), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["entities"] = [asdict(e) for e in self.entities]
        return data
