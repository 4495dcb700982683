from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.settings import Settings
from routing.cli import route_main
from routing.evaluate import evaluate, read_rows
from routing.router import Router
from routing.service import (
    DEV_SET,
    SPLIT,
    SYNTHETIC,
    SYNTHETIC_2,
    SYNTHETIC_3,
    SYNTHETIC_4,
    split_ids,
    synthetic_heldout,
)


def test_split_is_fixed_stratified_and_disjoint() -> None:
    from collections import Counter

    from routing.split import make_split

    rows = read_rows(DEV_SET)
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    assert split["tune"] == make_split(rows)["tune"]  # re-derivable from the seed
    tune, held = set(split["tune"]), set(split["heldout"])
    assert not tune & held and len(tune | held) == len(rows)
    per_line = Counter(r["line"] for r in rows)
    held_per_line = Counter(r["line"] for r in rows if r["id"] in held)
    for line, n in per_line.items():
        assert abs(held_per_line[line] - 0.3 * n) <= 1


def test_eval_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert route_main(["eval", str(DEV_SET), "--json", "--subset", "heldout"], Settings()) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == len(split_ids("heldout") or ())
    for key in ("line_accuracy", "kind_accuracy", "sla_accuracy"):
        assert 0 <= result[key] <= 1
    assert set(result["police_110"]) >= {"recall", "precision"}
    for key in ("phone", "address", "enterprise", "amount", "date"):
        assert set(result["entities"][key]) >= {"precision", "recall", "f1"}
    total = sum(c for row in result["confusion"].values() for c in row.values())
    assert total == result["n"]
    assert "tune" in result["model"]


def test_eval_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert route_main(["eval", str(DEV_SET), "--subset", "tune"], Settings()) == 0
    out = capsys.readouterr().out
    assert "line accuracy" in out and "confusion" in out


def test_route_one_utterance_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert route_main(["物叶 不 修 电梯 我 电话 一三九零五五八一二三四", "--json"], Settings()) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["line"] == "property"
    assert d["entities"][0]["key"] == "phone"
    assert d["explanation"]["line_hits"]["property"]


@dataclass(frozen=True)
class Floor:
    line: float
    police_recall: float
    police_precision: float
    phone: float
    amount: float
    address: float


# The "Done when" figures (line 0.95, police recall 1.0 and precision 0.90, phone
# and amount F1 0.95, address F1 0.85) are NOT met yet on the held-out sets: issue 5 stays
# open. `hotline route eval ... --json` shows where the router stands.


def _assert_at_least(result: dict[str, object], floor: Floor) -> None:
    assert isinstance(result, dict)
    police = result["police_110"]
    entities = result["entities"]
    assert isinstance(police, dict) and isinstance(entities, dict)
    assert result["line_accuracy"] >= floor.line
    assert police["recall"] >= floor.police_recall
    assert police["precision"] >= floor.police_precision
    assert entities["phone"]["f1"] >= floor.phone
    assert entities["amount"]["f1"] >= floor.amount
    assert entities["address"]["f1"] >= floor.address


# Regression floors, just under what was measured on 2026-11-26 (third session, with the
# CRF address tagger; figures in issue 5's note): a change that makes routing worse on
# unseen calls fails here.
def test_heldout_does_not_fall_below_what_was_measured(tune_router: Router) -> None:
    """The part of the dev set never used for tuning (measured: line 0.933, police R/P
    0.857/0.857, address F1 0.686; 0.629 with the patterns alone)."""
    _assert_at_least(evaluate(tune_router, read_rows(DEV_SET, split_ids("heldout"))),
                     Floor(0.91, 0.85, 0.80, 0.95, 0.90, 0.66))


def test_whole_dev_set_does_not_fall_below_what_was_measured(tune_router: Router) -> None:
    """Overall, the model still trained on the tune part only (measured: line 0.98, police
    R/P 0.958/0.958, amount 0.97, address 0.895)."""
    _assert_at_least(evaluate(tune_router, read_rows(DEV_SET)),
                     Floor(0.96, 0.95, 0.93, 0.95, 0.95, 0.87))


def test_synthetic_heldout_does_not_fall_below_what_was_measured(tune_router: Router) -> None:
    """The fifth of the synthetic calls set aside before tuning (measured: line 0.963,
    police R/P 1.0/0.933, amount 1.0, address 0.778; 0.80 with the patterns alone)."""
    rows = read_rows(SYNTHETIC, split_ids("heldout", synthetic=SYNTHETIC))
    assert rows and all(synthetic_heldout(r["id"]) for r in rows)
    _assert_at_least(evaluate(tune_router, rows), Floor(0.94, 0.96, 0.90, 0.95, 0.90, 0.75))


def test_second_synthetic_heldout_does_not_fall_below_what_was_measured(
        tune_router: Router) -> None:
    """The held-out fifth of the second author's calls (measured: line 0.93, police R/P
    0.9375/0.9375, amount 0.9375, address 0.957). Police recall was 1.0 until the fourth
    author's training part joined the classifier's data (third session): one call of 16."""
    rows = read_rows(SYNTHETIC_2, split_ids("heldout", synthetic=SYNTHETIC_2))
    assert len(rows) == 100 and all(synthetic_heldout(r["id"]) for r in rows)
    _assert_at_least(evaluate(tune_router, rows), Floor(0.91, 0.93, 0.90, 0.95, 0.90, 0.93))


def test_third_synthetic_heldout_does_not_fall_below_what_was_measured(
        tune_router: Router) -> None:
    """The held-out fifth of the third author's calls (measured: line 0.91, police R/P
    0.90/0.818, phone 0.96, amount 1.0, address 0.808)."""
    rows = read_rows(SYNTHETIC_3, split_ids("heldout", synthetic=SYNTHETIC_3))
    assert len(rows) == 100 and all(synthetic_heldout(r["id"]) for r in rows)
    _assert_at_least(evaluate(tune_router, rows), Floor(0.89, 0.88, 0.78, 0.93, 0.95, 0.78))


def test_fourth_synthetic_heldout_does_not_fall_below_what_was_measured(
        tune_router: Router) -> None:
    """The held-out fifth of the fourth author's calls, who imitated the dev set's tune part
    (measured before tuning on its training part: line 0.8625, police R/P 0.917/0.786,
    address 0.657, amount 0.839; after: line 0.85, police 1.0/0.75, address 0.694 with
    the patterns alone and 0.75 with the tagger, amount 0.867)."""
    rows = read_rows(SYNTHETIC_4, split_ids("heldout", synthetic=SYNTHETIC_4))
    assert len(rows) == 80 and all(synthetic_heldout(r["id"]) for r in rows)
    _assert_at_least(evaluate(tune_router, rows), Floor(0.83, 0.95, 0.70, 0.95, 0.85, 0.72))


def test_synthetic_calls_follow_the_dev_set_conventions() -> None:
    from routing.config import LINES, POLICE

    rows = read_rows(SYNTHETIC)
    assert len(rows) >= 600
    assert [r["id"] for r in rows] == [f"syn-{i:04d}" for i in range(1, len(rows) + 1)]
    dev_texts = {r["text"].replace(" ", "") for r in read_rows(DEV_SET)}
    kinds = {"consultation", "complaint", "report", "help", "suggestion", "praise"}
    for r in rows:
        assert r["line"] in LINES and r["kind"] in kinds, r["id"]
        assert r["text"].replace(" ", "") not in dev_texts, r["id"]
        # The 137 rule: police and urgent help 1 day, consultations 1 or 3, the rest 7.
        if r["line"] == POLICE or r["kind"] == "help":
            assert r["sla_days"] == 1, r["id"]
        elif r["kind"] == "consultation":
            assert r["sla_days"] in (1, 3), r["id"]
        else:
            assert r["sla_days"] == 7, r["id"]
        ents = r["entities"]
        compact = r["text"].replace(" ", "")
        for key in ("address", "enterprise"):
            assert key not in ents or ents[key] in compact, (r["id"], key)
        assert "phone" not in ents or (len(ents["phone"]) == 11 and ents["phone"].isdigit())
        assert "amount" not in ents or isinstance(ents["amount"], int)
    assert {r["line"] for r in rows} == set(LINES)
    assert {r["kind"] for r in rows} == kinds


@pytest.mark.parametrize(("path", "prefix", "size"), [
    (SYNTHETIC_2, "syn2-", 500), (SYNTHETIC_3, "syn3-", 500), (SYNTHETIC_4, "syn4-", 400)])
def test_later_synthetic_sets_pass_their_validator(path: Path, prefix: str, size: int) -> None:
    """tests/data/validate_calls.py: keys, labels, the 137 rule, entities backed by the text."""
    from tests.data.validate_calls import validate

    problems, records = validate(path, prefix)
    assert not problems, problems[:5]
    assert len(records) == size
