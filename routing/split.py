"""A fixed, seeded split of the labeled set into a tune part and a held-out part.

Stratified by line so every line keeps about 30% of its examples aside. The split is
made once, written to tests/data/split.json and committed before any rule is tuned;
this module only exists so the split can be re-derived and checked, never re-rolled.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

SEED = 12345
HELDOUT_FRACTION = 0.3


def make_split(rows: Iterable[Mapping[str, object]], seed: int = SEED,
               heldout_fraction: float = HELDOUT_FRACTION) -> dict[str, list[str]]:
    """Return {"tune": [...ids], "heldout": [...ids]}, stratified by the `line` label."""
    by_line: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_line[str(row["line"])].append(str(row["id"]))
    rng = random.Random(seed)
    tune: list[str] = []
    heldout: list[str] = []
    for line in sorted(by_line):
        ids = sorted(by_line[line])
        rng.shuffle(ids)
        n_heldout = round(len(ids) * heldout_fraction)
        heldout.extend(ids[:n_heldout])
        tune.extend(ids[n_heldout:])
    return {"seed": [str(seed)], "tune": sorted(tune), "heldout": sorted(heldout)}


def load_split(path: Path) -> dict[str, frozenset[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"tune": frozenset(data["tune"]), "heldout": frozenset(data["heldout"])}


if __name__ == "__main__":
    import sys

    source = Path(sys.argv[1])
    target = Path(sys.argv[2])
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line]
    target.write_text(json.dumps(make_split(rows), ensure_ascii=False, indent=1) + "\n",
                      encoding="utf-8")
