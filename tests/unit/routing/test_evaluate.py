from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotline.settings import Settings
from routing.cli import route_main
from routing.evaluate import evaluate, read_rows
from routing.router import Router
from routing.service import (
    DEV_SET,
    SPLIT,
    SYNTHETIC,
    SYNTHETIC_AUTHORS,
    shares_labelled_calls,
    split_ids,
    synthetic_calls,
    synthetic_heldout,
    synthetic_prefix,
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


def test_a_copy_of_the_dev_set_is_still_scored_without_its_held_out_part(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """../shared/data/utterances-dev.jsonl is the dev set under another path."""
    copy = tmp_path / "utterances-dev.jsonl"
    copy.write_bytes(DEV_SET.read_bytes())
    assert route_main(["eval", str(copy), "--json", "--subset", "heldout"], Settings()) == 0
    result = json.loads(capsys.readouterr().out)
    assert "tune" in result["model"] and result["n"] == len(split_ids("heldout") or ())


def test_calls_new_to_us_are_scored_by_the_service_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = [
        {"id": "new-1", "text": "我 家 楼上 的 空调 外机 滴水 滴 了 一个 夏天 物叶 也 不 管",
         "line": "property", "kind": "complaint", "sla_days": 7, "entities": {}},
        {"id": "new-2", "text": "刚才 有 个 人 拿着 刀 在 菜市场 里 追 人 快 来",
         "line": "police_110", "kind": "help", "sla_days": 1, "entities": {}},
    ]
    path = tmp_path / "review.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in calls),
                    encoding="utf-8")
    assert not shares_labelled_calls(path)
    assert route_main(["eval", str(path), "--json"], Settings()) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 2 and "service" in result["model"]


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
# and amount F1 0.95, address F1 0.85) are met on the dev set's held-out part and overall
# (tenth session); the floors below hold them. On the synthetic authors' held-out fifths they
# are not all met, and those floors only keep each where it was measured.


def _assert_at_least(result: dict[str, Any], floor: Floor) -> None:
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


# Regression floors, just under what was measured on 2026-11-27 (tenth session: thirty-nine
# authors' training parts in the model; figures in issue 5's note): a change that makes
# routing worse on unseen calls fails here. scripts/routing_floors.py measures and prints them.
def test_heldout_does_not_fall_below_what_was_measured(tune_router: Router) -> None:
    """The part of the dev set never used for tuning (measured: line 0.983, police R/P
    1.0/1.0, amount 1.0, address F1 0.938; police recall was 0.857 from syn20's joining
    until the rules of 9bdb774, address 0.839 with thirty-three authors and 0.875 with
    thirty-six, the address tagger moving with each retraining). The police floor lets no
    police call be missed."""
    _assert_at_least(evaluate(tune_router, read_rows(DEV_SET, split_ids("heldout"))),
                     Floor(0.96, 0.98, 0.98, 0.95, 0.98, 0.92))


def test_whole_dev_set_does_not_fall_below_what_was_measured(tune_router: Router) -> None:
    """Overall, the model still trained on the tune part only (measured: line 0.995, police
    R/P 1.0/1.0, amount 1.0, address 0.98)."""
    _assert_at_least(evaluate(tune_router, read_rows(DEV_SET)),
                     Floor(0.98, 0.98, 0.98, 0.95, 0.98, 0.96))


# Each synthetic author's held-out fifth, set aside before any tuning on that author.
# Measured (line, police R/P, phone, amount, address):
#  syn   0.981 1/0.966       1    1     0.778
#  syn2  0.97  0.938/0.938   1    0.938 0.911
#  syn3  0.96  0.95/0.95     0.96 1     0.869
#  syn4  0.95  0.917/1       1    0.8   0.87
#  syn5  0.983 1/0.933       1    0.875 0.986  (rural calls)
#  syn6  0.883 1/0.75        1    0.857 0.857  (city calls)
#  syn7  0.933 1/0.909       1    0.957 0.862  (the 12345/110 border)
#  syn8  0.95  1/0.875       1    0.745 0.78   (money)
#  syn9  0.917 0.889/0.889   1    0.824 0.966  (firms and families)
#  syn10 0.967 1/0.875       1    0.952 0.82   (messy speech)
#  syn11 0.967 1/0.833       1    0.9   0.806  (addresses)
#  syn12 0.983 1/0.9         1    0.947 0.947  (alarming but not police; sums)
#  syn13 0.967 1/1           1    0.875 1      (the dev tune part's own mix)
#  syn14 0.967 1/0.889       1    0.941 0.774  (kinds and the 137 class)
#  syn15 0.95  1/0.905       1    1     0.789  (police calls said every way)
#  syn16 0.95  1/0.833       1    0.905 0.909  (sound like police, belong elsewhere)
#  syn17 0.983 1/1           1    0.896 0.842  (sums among other numbers)
#  syn18 0.967 0.941/1       1    0.957 0.944  (police calls easy to miss, and twins)
#  syn19 0.983 0.833/1       1    1     0.971  (the dev tune part's own mix again)
#  syn20 0.917 1/0.75        1    0.87  0.941  (places cut the dev tune part's way)
#  syn21 0.983 1/1           1    0.706 0.821  (the dev tune part's own mix a third time)
#  syn22 0.983 1/0.933       1    0.667 0.842  (danger told without keywords, and twins)
#  syn23 0.95  1/0.875       1    0.75  0.833  (rural calls in dialect)
#  syn24 0.967 0.889/1       1    1     0.947  (hedging callers)
#  syn25 0.967 1/1           1    0.952 0.9    (an ordinary city day)
#  syn26 0.967 1/1           1    1     0.917  (the dev tune part's own mix a fourth time)
#  syn27 0.933 1/0.857       0    1     0.8    (a county town on market day)
#        (syn27's fifth has no phone and the router finds one: phone F1 0)
#  syn28 0.933 1/0.889       1    0.857 0.903  (calls at night and at weekends)
#  syn29 0.933 1/0.8         1    0.941 0.909  (older callers; small businesses)
#  syn30 0.933 1/0.8         1    1     1      (the dev tune part's own mix a fifth time)
#  syn31 0.983 0.9/1         1    0.947 1      (callers ringing for someone else)
#  syn32 0.967 0.857/1       1    1     0.75   (the dev tune part's own mix a sixth time)
#  syn33 0.917 0.833/0.714   1    1     1      (families and women)
#  syn34 0.95  1/0.857       1    0.833 0.923  (the dev tune part's own mix a seventh time)
#  syn35 0.95  1/1           1    1     0.967  (addresses the tune part's ways)
#  syn36 0.933 0.833/1       1    0.8   0.88   (the 110 border and its twins)
#  syn37 0.95  1/0.833       1    1     0.875  (the dev tune part's own mix an eighth time)
#  syn38 0.95  0.9/1         1    0.75  0.667  (police calls easy to miss)
#  syn39 0.933 1/0.786       1    1     0.833  (families, neighbours, workplaces)
@pytest.mark.parametrize(("author", "size", "floor"), [
    (1, 161, Floor(0.96, 0.98, 0.95, 0.95, 0.98, 0.76)),
    (2, 100, Floor(0.95, 0.92, 0.92, 0.95, 0.92, 0.89)),
    (3, 100, Floor(0.94, 0.93, 0.93, 0.94, 0.98, 0.85)),
    (4, 80, Floor(0.93, 0.90, 0.98, 0.95, 0.78, 0.85)),
    (5, 60, Floor(0.96, 0.98, 0.91, 0.95, 0.86, 0.97)),
    (6, 60, Floor(0.86, 0.98, 0.73, 0.95, 0.84, 0.84)),
    (7, 60, Floor(0.91, 0.98, 0.89, 0.95, 0.94, 0.84)),
    (8, 60, Floor(0.93, 0.98, 0.86, 0.95, 0.73, 0.76)),
    (9, 60, Floor(0.90, 0.87, 0.87, 0.95, 0.80, 0.95)),
    (10, 60, Floor(0.95, 0.98, 0.86, 0.95, 0.93, 0.80)),
    (11, 60, Floor(0.95, 0.98, 0.81, 0.95, 0.88, 0.79)),
    (12, 60, Floor(0.96, 0.98, 0.88, 0.95, 0.93, 0.93)),
    (13, 60, Floor(0.95, 0.98, 0.98, 0.95, 0.86, 0.98)),
    (14, 60, Floor(0.95, 0.98, 0.87, 0.95, 0.92, 0.75)),
    (15, 60, Floor(0.93, 0.98, 0.88, 0.95, 0.98, 0.77)),
    (16, 60, Floor(0.93, 0.98, 0.81, 0.95, 0.88, 0.89)),
    (17, 60, Floor(0.96, 0.98, 0.98, 0.95, 0.88, 0.82)),
    (18, 60, Floor(0.95, 0.92, 0.98, 0.95, 0.94, 0.92)),
    (19, 60, Floor(0.96, 0.81, 0.98, 0.95, 0.98, 0.95)),
    (20, 60, Floor(0.90, 0.98, 0.73, 0.95, 0.85, 0.92)),
    (21, 60, Floor(0.96, 0.98, 0.98, 0.95, 0.69, 0.80)),
    (22, 60, Floor(0.96, 0.98, 0.91, 0.95, 0.65, 0.82)),
    (23, 60, Floor(0.93, 0.98, 0.86, 0.95, 0.73, 0.81)),
    (24, 60, Floor(0.95, 0.87, 0.98, 0.95, 0.98, 0.93)),
    (25, 60, Floor(0.95, 0.98, 0.98, 0.95, 0.93, 0.88)),
    (26, 60, Floor(0.95, 0.98, 0.98, 0.95, 0.98, 0.90)),
    (27, 60, Floor(0.91, 0.98, 0.84, 0.00, 0.98, 0.78)),
    (28, 60, Floor(0.91, 0.98, 0.87, 0.95, 0.84, 0.88)),
    (29, 60, Floor(0.91, 0.98, 0.78, 0.95, 0.92, 0.89)),
    (30, 60, Floor(0.91, 0.98, 0.78, 0.95, 0.98, 0.98)),
    (31, 60, Floor(0.96, 0.88, 0.98, 0.95, 0.93, 0.98)),
    (32, 60, Floor(0.95, 0.84, 0.98, 0.95, 0.98, 0.73)),
    (33, 60, Floor(0.90, 0.81, 0.69, 0.95, 0.98, 0.98)),
    (34, 60, Floor(0.93, 0.98, 0.84, 0.95, 0.81, 0.90)),
    (35, 60, Floor(0.93, 0.98, 0.98, 0.95, 0.98, 0.95)),
    (36, 60, Floor(0.91, 0.81, 0.98, 0.95, 0.78, 0.86)),
    (37, 60, Floor(0.93, 0.98, 0.81, 0.95, 0.98, 0.86)),
    (38, 60, Floor(0.93, 0.88, 0.98, 0.95, 0.73, 0.65)),
    (39, 60, Floor(0.91, 0.98, 0.77, 0.95, 0.98, 0.81)),
], ids=[synthetic_prefix(n) for n in range(1, SYNTHETIC_AUTHORS + 1)])
def test_synthetic_heldout_does_not_fall_below_what_was_measured(
        tune_router: Router, author: int, size: int, floor: Floor) -> None:
    path = synthetic_calls(author)
    rows = read_rows(path, split_ids("heldout", synthetic=path))
    assert len(rows) == size and all(synthetic_heldout(r["id"]) for r in rows)
    _assert_at_least(evaluate(tune_router, rows), floor)


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


# Every author after the first (whose file predates the validator); authors joined later than
# syn4 wrote 300 calls each. Derived from SYNTHETIC_AUTHORS so a joined set is checked too.
@pytest.mark.parametrize(("author", "size"), [
    (n, {2: 500, 3: 500, 4: 400}.get(n, 300)) for n in range(2, SYNTHETIC_AUTHORS + 1)],
    ids=[synthetic_prefix(n) for n in range(2, SYNTHETIC_AUTHORS + 1)])
def test_later_synthetic_sets_pass_their_validator(author: int, size: int) -> None:
    """tests/data/validate_calls.py: keys, labels, the 137 rule, entities backed by the text."""
    from tests.data.validate_calls import validate

    problems, records = validate(synthetic_calls(author), synthetic_prefix(author) + "-")
    assert not problems, problems[:5]
    assert len(records) == size
