"""Measure the held-out parts with the tune model and print the regression floors for
tests/unit/routing/test_evaluate.py (the per-author comment table and parametrize list, and the
dev set's figures), to paste after a change the floors must follow.

    .venv/bin/python scripts/routing_floors.py      # about three minutes

A floor is the measured figure less 0.015, rounded down to two decimals, at most 0.98 (so a
perfect figure leaves room for one more call's noise); phone at most 0.95. Only held-out
aggregates are printed, never a row.
"""

from __future__ import annotations

import math
from typing import Any

from hotline.settings import Settings
from routing import service
from routing.evaluate import evaluate, read_rows

# Why a row's figure looks odd, printed under it.
NOTES = {27: "syn27's fifth has no phone and the router finds one: phone F1 0"}
FIGURES = ("line", "police_recall", "police_precision", "phone", "amount", "address")


def figures(result: dict[str, Any]) -> dict[str, float]:
    entities = result["entities"]
    return {"line": result["line_accuracy"], "police_recall": result["police_110"]["recall"],
            "police_precision": result["police_110"]["precision"],
            "phone": entities["phone"]["f1"], "amount": entities["amount"]["f1"],
            "address": entities["address"]["f1"]}


def floor(key: str, measured: float) -> float:
    top = 0.95 if key == "phone" else 0.98
    return max(0.0, min(top, math.floor((measured - 0.015) * 100) / 100))


def main() -> None:
    router = service.build_router(Settings(), train_subset="tune")
    for name, subset in (("dev held-out", "heldout"), ("whole dev set", "all")):
        got = figures(evaluate(router, read_rows(service.DEV_SET, service.split_ids(subset))))
        print(f"# {name}: " + " ".join(f"{k}={got[k]:.3g}" for k in FIGURES))
    table, params = [], []
    for author, path in enumerate(service.SYNTHETIC_SETS, 1):
        # split_ids adds this author's held-out fifth to the dev set's held-out ids.
        rows = read_rows(path, service.split_ids("heldout", synthetic=path))
        got = figures(evaluate(router, rows))
        prefix = service.synthetic_prefix(author)
        emphasis = service.SYNTHETIC_EMPHASIS.get(author)
        label = f" ({emphasis})" if emphasis else ""
        police = f"{got['police_recall']:.3g}/{got['police_precision']:.3g}"
        table.append(f"#  {prefix:<5} {got['line']:<6.3g}{police:<14}{got['phone']:<5.3g}"
                     f"{got['amount']:<6.3g}{got['address']:<6.3g}{label}")
        if author in NOTES:
            table.append(f"#        ({NOTES[author]})")
        bounds = ", ".join(f"{floor(k, got[k]):.2f}" for k in FIGURES)
        params.append(f"    ({author}, {len(rows)}, Floor({bounds})),")
    print("\n".join(t.rstrip() for t in table))
    print("\n".join(params))


if __name__ == "__main__":
    main()
