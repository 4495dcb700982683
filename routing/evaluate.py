"""Accuracy of a Router on labeled utterances (the format of utterances-dev.jsonl)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from routing.config import LINES, POLICE
from routing.router import Router

ENTITY_KEYS = ("phone", "address", "enterprise", "amount", "date")


def read_rows(path: Path, ids: frozenset[str] | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if ids is None or r["id"] in ids]


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = _ratio(tp, tp + fp)
    r = _ratio(tp, tp + fn)
    f1 = round(2 * p * r / (p + r), 4) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "support": tp + fn}


def _same(key: str, gold: Any, got: Any) -> bool:
    if key == "amount":
        return int(gold) == int(got)
    return str(gold).replace(" ", "") == str(got).replace(" ", "")


def evaluate(router: Router, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Line, police, kind, 137 and entity figures; entities compared exactly, one per key."""
    n = line_ok = kind_ok = sla_ok = 0
    police = Counter[str]()
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    ent = {k: Counter[str]() for k in ENTITY_KEYS}
    misses: list[dict[str, Any]] = []
    low = 0
    for row in rows:
        n += 1
        d = router.route(row["text"])
        gold_line = row["line"]
        confusion[gold_line][d.line] += 1
        line_ok += d.line == gold_line
        kind_ok += d.kind == row["kind"]
        sla_ok += d.sla_days == row["sla_days"]
        low += d.low_confidence
        if gold_line == POLICE or d.line == POLICE:
            police["tp" if gold_line == d.line else ("fn" if gold_line == POLICE else "fp")] += 1
        gold_ents = row.get("entities", {})
        for key in ENTITY_KEYS:
            got = d.entity(key)
            gold = gold_ents.get(key)
            if got is not None and gold is not None and _same(key, gold, got.value):
                ent[key]["tp"] += 1
            else:
                if got is not None:
                    ent[key]["fp"] += 1
                if gold is not None:
                    ent[key]["fn"] += 1
        if d.line != gold_line:
            misses.append({"id": row.get("id"), "gold": gold_line, "got": d.line,
                           "confidence": d.confidence})
    return {
        "n": n,
        "line_accuracy": _ratio(line_ok, n),
        "police_110": {"recall": _ratio(police["tp"], police["tp"] + police["fn"]),
                       "precision": _ratio(police["tp"], police["tp"] + police["fp"]),
                       "support": police["tp"] + police["fn"]},
        "kind_accuracy": _ratio(kind_ok, n),
        "sla_accuracy": _ratio(sla_ok, n),
        "low_confidence": low,
        "entities": {k: _prf(c["tp"], c["fp"], c["fn"]) for k, c in ent.items()},
        "confusion": {g: {p: confusion[g][p] for p in LINES if confusion[g][p]}
                      for g in LINES if g in confusion},
        "line_misses": misses,
    }
