"""The Router: normalise, find entities, score lines and kinds, decide.

Built once by the composition root from a validated RoutingConfig and a trained
Classifier; `route(text)` is pure CPU work of about a millisecond, safe to call from
an executor thread (the jieba tokenizer is loaded once, behind a lock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from routing.classifier import Classifier
from routing.config import GENERAL, LINES, POLICE, RoutingConfig, Rule, Scorer, Weighted
from routing.decision import Decision, Explanation, FiredRule, Hit
from routing.entities import Entity, EntityFinder
from routing.normalise import Normaliser
from routing.segment import Segmenter
from routing.span_tagger import SpanTagger
from routing.text import Traced

PRIORITY_CONFIDENCE = 0.95
POLICE_KINDS = ("help", "report")


@dataclass(frozen=True)
class _Scored:
    score: float
    hits: tuple[Hit, ...]


def _literal_spans(phrase: str, text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = text.find(phrase)
    while start >= 0:
        spans.append((start, start + len(phrase)))
        start = text.find(phrase, start + 1)
    return spans


def _inside_longer(span: tuple[int, int], covering: list[tuple[int, int]]) -> bool:
    s, e = span
    return any(a <= s and e <= b and (b - a) > (e - s) for a, b in covering)


def score(scorer: Scorer, text: str) -> _Scored:
    """Sum the weights of matching phrases and patterns; a phrase found only inside a longer
    matching phrase (物业 inside 物业费) does not count twice."""
    found: list[tuple[Weighted, list[tuple[int, int]]]] = []
    for w in scorer.positive:
        if w.literal:
            # Most phrases are absent: a substring test is far cheaper than a regex scan.
            if w.label not in text:
                continue
            spans = _literal_spans(w.label, text)
        else:
            spans = [m.span() for m in w.regex.finditer(text) if m.end() > m.start()]
        if spans:
            found.append((w, spans))
    covering = [span for w, spans in found if w.literal for span in spans]
    hits: list[Hit] = []
    for w, spans in found:
        if not w.literal or any(not _inside_longer(span, covering) for span in spans):
            hits.append(Hit(w.label, w.weight, w.source))
    for w in scorer.against:
        if (w.label in text) if w.literal else w.regex.search(text):
            hits.append(Hit(w.label, -w.weight, w.source))
    return _Scored(sum(h.weight for h in hits), tuple(hits))


def rule_fires(rule: Rule, text: str) -> bool:
    return (all(group.search(text) for group in rule.all)
            and not any(group.search(text) for group in rule.none))


def softmax(scores: Mapping[str, float], temperature: float) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp((v - top) / temperature) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


class Router:
    def __init__(self, config: RoutingConfig, classifier: Classifier | None,
                 segmenter: Segmenter | None = None,
                 taggers: Mapping[str, SpanTagger] | None = None) -> None:
        self.config = config
        self.classifier = classifier
        self.normaliser = Normaliser(config.slips, config.fillers, config.places.all_names())
        self.segmenter = segmenter or Segmenter(config.user_dict, config.places.all_names())
        # The taggers read words as this router's splitter cuts them, and mark its place
        # names: after a reload that added a place, its name must come out whole and marked.
        cut, places = self.segmenter.cut, config.places.all_names()
        self.taggers: Mapping[str, SpanTagger] = {  # entity key -> tagger
            key: t if t.reads_like(cut, places) else t.reading_with(cut, places)
            for key, t in (taggers or {}).items()}
        self.entities = EntityFinder(config.places, config.enterprise, self.segmenter.tag,
                                     config.fillers)

    def with_config(self, config: RoutingConfig) -> Router:
        """A Router for edited rules (after a live reload), keeping the trained model and,
        when the place names and user dictionary did not change, the loaded jieba."""
        same_words = (config.places == self.config.places
                      and config.user_dict == self.config.user_dict)
        return Router(config, self.classifier, self.segmenter if same_words else None,
                      self.taggers)

    def warm(self) -> None:
        self.segmenter.warm()
        self.route("我想问一下物业费怎么交")

    def normalise(self, transcript: str) -> Traced:
        return self.normaliser(transcript)

    def route(self, transcript: str) -> Decision:
        cfg = self.config
        norm = self.normaliser(transcript)
        text = norm.text
        tokens = tuple(self.segmenter.cut(text))
        entities = tuple(self.entities.find(norm, transcript, tokens))
        for key, tagger in self.taggers.items():
            entities = self._tagged(key, transcript, entities, tagger)

        fired = [r for r in cfg.rules if rule_fires(r, text)]
        fired_rules = tuple(FiredRule(r.name, r.line, r.kind, r.priority, r.source) for r in fired)

        line_scored = {name: score(s, text) for name, s in cfg.lines.items()}
        rule_scores = {name: line_scored[name].score if name in line_scored else 0.0
                       for name in LINES}
        predicted = self.classifier.predict(text) if self.classifier else None
        line_probs = predicted.line if predicted else dict.fromkeys(LINES, 0.0)
        combined = {n: rule_scores[n] + cfg.classifier_weight * line_probs.get(n, 0.0)
                    for n in LINES}
        confidences = softmax(combined, cfg.temperature)
        best = max(LINES, key=lambda n: combined[n])
        confidence = confidences[best]
        decided_by = "scores"
        if best == POLICE and cfg.police_past_only.applies(text):
            best = max((n for n in LINES if n != POLICE), key=lambda n: combined[n])
            confidence = confidences[best]
            decided_by = "scores (只讲过去的事, 不转110 / past only, not police)"
        line_rules = sorted((r for r in fired if r.line), key=lambda r: -r.priority)
        if line_rules and line_rules[0].priority > 0:
            best = str(line_rules[0].line)
            confidence = max(confidences[best], PRIORITY_CONFIDENCE)
            decided_by = f"rule:{line_rules[0].name}"
        low = confidence < cfg.low_confidence
        # A police match is never sent to the general queue, however unsure.
        routed = best if best == POLICE or not low else GENERAL

        kind_probs = predicted.kind if predicted else {}
        kind, kind_scores = self._kind(text, fired, routed, kind_probs)
        complex_scored = score(cfg.sla.complex_consultation, text)
        complex_p = predicted.complex if predicted else 0.5
        sla = self._sla(routed, kind, complex_scored.score, complex_p)

        explanation = Explanation(
            rules=fired_rules,
            line_hits={n: s.hits for n, s in line_scored.items() if s.hits},
            line_rule_scores=rule_scores, line_classifier=line_probs,
            line_scores=combined, kind_scores=kind_scores, kind_classifier=kind_probs,
            complex_score=complex_scored.score, complex_probability=complex_p,
            decided_by=decided_by,
        )
        return Decision(routed, best, kind, sla, round(confidence, 4), low, entities, text,
                        tokens, explanation)

    @staticmethod
    def _tagged(key: str, transcript: str, entities: tuple[Entity, ...],
                tagger: SpanTagger) -> tuple[Entity, ...]:
        """The patterns' entity `key`, with its edges (or its presence) as the learned
        tagger reads them; the other entities are left alone."""
        found = next((e for e in entities if e.key == key), None)
        tagged = tagger.tag(transcript, None if found is None else (found.start, found.end))
        others = tuple(e for e in entities if e.key != key)
        if tagged is None:
            return others
        return (*others, Entity(key, tagged.value, tagged.start, tagged.end))

    def _kind(self, text: str, fired: list[Rule], line: str,
              probs: dict[str, float]) -> tuple[str, dict[str, float]]:
        cfg = self.config
        scores = {name: score(s, text).score + cfg.classifier_weight * probs.get(name, 0.0)
                  for name, s in cfg.kinds.items()}
        for name, p in probs.items():
            scores.setdefault(name, cfg.classifier_weight * p)
        allowed = POLICE_KINDS if line == POLICE else tuple(scores)
        kind_rules = sorted((r for r in fired if r.kind and r.kind in allowed),
                            key=lambda r: -r.priority)
        if kind_rules:
            return str(kind_rules[0].kind), scores
        candidates = {k: v for k, v in scores.items() if k in allowed}
        if not candidates or max(candidates.values()) <= 0:
            default = cfg.default_kind if cfg.default_kind in allowed else allowed[0]
            return default, scores
        return max(candidates, key=lambda k: candidates[k]), scores

    def _sla(self, line: str, kind: str, complex_score: float, complex_p: float) -> int:
        sla = self.config.sla
        if line == POLICE:
            return sla.police
        if kind == "consultation":
            adjusted = complex_score + self.config.classifier_weight * (complex_p - 0.5)
            return 3 if adjusted >= sla.complex_threshold else sla.by_kind.get(kind, 1)
        return sla.by_kind.get(kind, 7)
