"""Validate a labeled caller-utterance file (the format of utterances-dev.jsonl).

Usage: python tests/data/validate_calls.py FILE.jsonl [--prefix syn2-] [--against OTHER.jsonl ...]

Checks every line: JSON parses, exactly the expected keys, ids unique (and numbered
PREFIX0001... when --prefix is given), line/kind/sla_days in the allowed sets, sla_days
consistent with the kind ("137": police and help 1, consultation 1 or 3, the rest 7),
no punctuation or Latin letters in the text, and every entity backed by the transcript:
address/enterprise as spoken (a substring once spaces are removed), phone digit by digit
(幺 = 1), amount as a spoken Chinese amount (三千五 -> 3500, 两万一 -> 21000), date as a
spoken full date (二零二四年十月五号). --against warns on texts that repeat or nearly repeat
another file (character-bigram Jaccard >= 0.6). Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from routing.config import KINDS as ROUTING_KINDS
from routing.config import LINES as ROUTING_LINES
from routing.evaluate import ENTITY_KEYS as EVALUATED_ENTITIES

KEYS = frozenset({"id", "text", "line", "kind", "sla_days", "entities"})
LINES = frozenset(ROUTING_LINES)  # the router's lines: a label it cannot give is a typo
KINDS = frozenset(ROUTING_KINDS)
ENTITY_KEYS = frozenset(EVALUATED_ENTITIES)
DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"幺": 1, "两": 2, "〇": 0}
DIGITS |= {str(i): i for i in range(10)}
UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九幺十百千万亿0-9]+")
PHONE_RUN = re.compile(r"[零〇一二三四五六七八九幺0-9]+")
SPOKEN_DATE = re.compile(
    r"([零〇一二三四五六七八九0-9]{4})年([一二三四五六七八九十0-9]{1,3})月"
    r"([一二三四五六七八九十0-9]{1,3})[号日]"
)
PUNCTUATION = re.compile(r"[，。、！？；：,.!?;:\"'“”‘’（）()《》【】\[\]—-]")
LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Problem:
    line_no: int
    message: str


def small_amount(text: str) -> int | None:
    """A spoken number below 10000, with the colloquial tail: 三千五 = 3500, 三百八 = 380."""
    if not text:
        return 0
    total = 0
    digit: int | None = None
    last_unit = 0
    zero_after_unit = False
    for ch in text:
        if ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            last_unit = UNITS[ch]
            digit = None
            zero_after_unit = False
        elif ch in DIGITS:
            zero_after_unit = zero_after_unit or DIGITS[ch] == 0
            if digit is not None and DIGITS[ch] != 0 and digit != 0:
                return None  # two digits in a row: not an amount (一二三 is a sequence)
            digit = DIGITS[ch] if DIGITS[ch] != 0 or digit is None else digit
        else:
            return None
    if digit is not None:
        # a trailing digit right after a unit means one unit lower: 三千五 -> 3000 + 500
        tail_unit = last_unit // 10 if last_unit >= 10 and not zero_after_unit else 1
        total += digit * tail_unit
    return total


def spoken_amount(text: str) -> int | None:
    """A spoken Chinese amount: 二十六万 = 260000, 四十七万八 = 478000, 八百 = 800."""
    if text.isdigit():
        return int(text)
    if "万" in text:
        high, _, low = text.partition("万")
        high_value = small_amount(high) if high else 1
        if high_value is None or "万" in low:
            return None
        if len(low) == 1 and low in DIGITS:
            return high_value * 10000 + DIGITS[low] * 1000  # 两万一 -> 21000
        low_value = small_amount(low)
        return None if low_value is None else high_value * 10000 + low_value
    return small_amount(text)


def amounts_in(text: str) -> set[int]:
    """Every value a run of numerals in the text (or part of one) can be read as."""
    values: set[int] = set()
    for run in NUMERAL_RUN.findall(text):
        for start in range(len(run)):
            for end in range(start + 1, len(run) + 1):
                value = spoken_amount(run[start:end])
                if value is not None:
                    values.add(value)
    return values


def digit_runs(text: str) -> Iterator[str]:
    for run in PHONE_RUN.findall(text):
        yield "".join(str(DIGITS[c]) for c in run)


def dates_in(text: str) -> set[str]:
    found: set[str] = set()
    for year, month, day in SPOKEN_DATE.findall(text):
        month_value = small_amount(month)
        day_value = small_amount(day)
        if month_value and day_value:
            digits = "".join(str(DIGITS[c]) for c in year)
            found.add(f"{digits}-{month_value:02d}-{day_value:02d}")
    return found


def expected_sla(line: str, kind: str) -> frozenset[int]:
    if line == "police_110" or kind == "help":
        return frozenset({1})
    if kind == "consultation":
        return frozenset({1, 3})
    return frozenset({7})


def check_entities(entities: object, compact: str) -> Iterator[str]:
    if not isinstance(entities, dict):
        yield "entities is not an object"
        return
    for key, value in entities.items():
        if key not in ENTITY_KEYS:
            yield f"unknown entity key {key!r}"
        elif key in ("address", "enterprise"):
            if not isinstance(value, str) or not value or " " in value:
                yield f"{key} must be a non-empty string without spaces"
            elif value not in compact:
                yield f"{key} {value!r} not in the text"
        elif key == "phone":
            if not isinstance(value, str) or not value.isdigit():
                yield "phone must be a string of digits"
            elif not any(value in run for run in digit_runs(compact)):
                yield f"phone {value} not spoken in the text"
        elif key == "amount":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                yield "amount must be a positive integer"
            elif value not in amounts_in(compact):
                yield f"amount {value} not spoken in the text"
        elif key == "date":
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                yield "date must be ISO YYYY-MM-DD"
            elif value not in dates_in(compact):
                yield f"date {value} not spoken in the text"


def check_record(record: object, line_no: int) -> Iterator[Problem]:
    if not isinstance(record, dict):
        yield Problem(line_no, "not a JSON object")
        return
    if set(record) != KEYS:
        yield Problem(line_no, f"keys {sorted(record)} != {sorted(KEYS)}")
        return
    text, line, kind, sla = record["text"], record["line"], record["kind"], record["sla_days"]
    if not isinstance(text, str) or not text.strip():
        yield Problem(line_no, "empty text")
        return
    if PUNCTUATION.search(text) or LATIN.search(text):
        yield Problem(line_no, "punctuation or Latin letters in the text")
    if line not in LINES:
        yield Problem(line_no, f"line {line!r} not allowed")
    if kind not in KINDS:
        yield Problem(line_no, f"kind {kind!r} not allowed")
    elif line in LINES and sla not in expected_sla(line, kind):
        yield Problem(line_no, f"sla_days {sla!r} does not fit {line}/{kind}")
    compact = text.replace(" ", "")
    for message in check_entities(record["entities"], compact):
        yield Problem(line_no, message)


def bigrams(text: str) -> set[str]:
    compact = text.replace(" ", "")
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def near_duplicates(
    texts: list[str], others: Iterable[str], threshold: float = 0.6
) -> Iterator[tuple[int, str]]:
    other_grams = [(o, bigrams(o)) for o in others]
    for index, text in enumerate(texts):
        grams = bigrams(text)
        for other, o_grams in other_grams:
            union = grams | o_grams
            if union and len(grams & o_grams) / len(union) >= threshold:
                yield index, other
                break


def validate(path: Path, prefix: str | None) -> tuple[list[Problem], list[dict[str, object]]]:
    problems: list[Problem] = []
    records: list[dict[str, object]] = []
    seen_ids: set[object] = set()
    seen_texts: set[str] = set()
    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            problems.append(Problem(line_no, f"invalid JSON: {err}"))
            continue
        found = list(check_record(record, line_no))
        problems.extend(found)
        if not isinstance(record, dict):
            continue
        records.append(record)
        record_id = record.get("id")
        if record_id in seen_ids:
            problems.append(Problem(line_no, f"duplicate id {record_id}"))
        seen_ids.add(record_id)
        if prefix is not None and record_id != f"{prefix}{line_no:04d}":
            problems.append(Problem(line_no, f"id {record_id} should be {prefix}{line_no:04d}"))
        compact = str(record.get("text", "")).replace(" ", "")
        if compact in seen_texts:
            problems.append(Problem(line_no, "duplicate text"))
        seen_texts.add(compact)
    return problems, records


def summary(records: list[dict[str, object]]) -> str:
    def count(values: Iterable[str]) -> str:
        tally: dict[str, int] = {}
        for value in values:
            tally[value] = tally.get(value, 0) + 1
        return " ".join(f"{k}={v}" for k, v in sorted(tally.items()))

    entity_keys: list[str] = []
    for record in records:
        entities = record.get("entities")
        if isinstance(entities, dict):
            entity_keys.extend(str(k) for k in entities)
    spaced = sum(1 for r in records if " " in str(r.get("text", "")))
    return "\n".join(
        [
            f"records: {len(records)} (with spaces: {spaced})",
            "line: " + count(str(r.get("line")) for r in records),
            "kind: " + count(str(r.get("kind")) for r in records),
            "sla_days: " + count(str(r.get("sla_days")) for r in records),
            "entities: " + count(entity_keys),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--prefix", help="expected id prefix, ids numbered from 0001")
    parser.add_argument("--against", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    problems, records = validate(args.file, args.prefix)
    for problem in problems:
        print(f"{args.file}:{problem.line_no}: {problem.message}")
    texts = [str(r.get("text", "")) for r in records]
    for other_path in args.against:
        others = [
            str(json.loads(raw).get("text", ""))
            for raw in other_path.read_text(encoding="utf-8").splitlines()
            if raw.strip()
        ]
        for index, other in near_duplicates(texts, others):
            print(f"warning: {records[index].get('id')} close to {other_path.name}: {other}")
    print(summary(records))
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
