"""`hotline route ...`: route one utterance, evaluate on a labeled file, retrain.

    hotline route "TEXT" [--json]
    hotline route eval FILE.jsonl [--json] [--subset all|tune|heldout]
    hotline route retrain [--out PATH]

A file that shares any call with our labelled sets (the dev set, the synthetic sets) is
scored by a model trained on the tune part of the shipped split and the training parts of
the synthetic calls only, so their held-out parts stay unseen; a file of calls that are all
new to us is scored by the service's own model (trained on every labelled call). --model
names a saved model to use instead. `--subset heldout` on tests/data/synthetic-calls.jsonl
scores the synthetic fifth set aside before tuning.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from hotline.settings import Settings
from hotline.yamlconf import ConfigError
from routing.classifier import Classifier
from routing.config import load_routing_config
from routing.decision import Decision
from routing.evaluate import evaluate, read_rows
from routing.router import Router
from routing.service import (
    DEV_SET,
    SPLIT,
    SYNTHETIC_SETS,
    build_router,
    config_file,
    model_file,
    retrain,
    shares_labelled_calls,
    span_model_file,
    split_ids,
    train_span_taggers,
)
from routing.span_tagger import model_name


def _print_decision(d: Decision, out: TextIO) -> None:
    flag = " (低置信度, 待人工确认)" if d.low_confidence else ""
    print(f"线路 line: {d.line}{flag}   建议 suggested: {d.suggested_line}", file=out)
    print(f"类型 kind: {d.kind}   137: {d.sla_days} 天   置信度 confidence: {d.confidence:.2f}",
          file=out)
    print(f"归一化 normalised: {d.normalised}", file=out)
    for e in d.entities:
        print(f"  实体 {e.key}: {e.value}  [{e.start}:{e.end}]", file=out)
    ex = d.explanation
    print(f"决定 decided by: {ex.decided_by}", file=out)
    for r in ex.rules:
        print(f"  规则 {r.name} -> {r.line or r.kind} (优先级 {r.priority}, {r.source})", file=out)
    for line in sorted(ex.line_scores, key=lambda n: -ex.line_scores[n]):
        hits = ", ".join(f"{h.label}{h.weight:+g}" for h in ex.line_hits.get(line, ()))
        print(f"  {line:20s} 合计 {ex.line_scores[line]:6.2f}"
              f"  规则 {ex.line_rule_scores[line]:5.1f}"
              f"  模型 {ex.line_classifier.get(line, 0.0):.2f}  {hits}", file=out)


def _print_eval(result: dict[str, Any], out: TextIO) -> None:
    print(f"样本数 n: {result['n']}   ({result['model']})", file=out)
    print(f"线路准确率 line accuracy: {result['line_accuracy']:.2%}", file=out)
    police = result["police_110"]
    print(f"110 召回 recall: {police['recall']:.2%}   精确 precision: {police['precision']:.2%}",
          file=out)
    print(f"类型准确率 kind accuracy: {result['kind_accuracy']:.2%}   "
          f"137 准确率 sla accuracy: {result['sla_accuracy']:.2%}", file=out)
    print("实体 entities:            precision  recall   f1   support", file=out)
    for key, v in result["entities"].items():
        print(f"  {key:12s} {v['precision']:16.2f} {v['recall']:7.2f} {v['f1']:6.2f} "
              f"{v['support']:6d}", file=out)
    print("混淆矩阵 confusion (gold -> predicted):", file=out)
    for gold, row in result["confusion"].items():
        cells = ", ".join(f"{p}={c}" for p, c in row.items())
        print(f"  {gold:20s} {cells}", file=out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline route",
                                     description="分流与工单预填 (routing and ticket pre-fill)")
    parser.add_argument("--config", type=Path, help="routing.yaml (默认: 配置目录下)")
    return parser


def _eval_main(argv: list[str], settings: Settings, out: TextIO) -> int:
    parser = _parser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--subset", choices=("all", "tune", "heldout"), default="all",
                        help="part to score: dev-set ids from tests/data/split.json,"
                             " synthetic calls by id (every fifth is held out)")
    parser.add_argument("--model", type=Path,
                        help="use this saved model instead of one trained on the tune part")
    args = parser.parse_args(argv)
    config = load_routing_config(args.config or config_file(settings))
    if args.model is not None:
        router = Router(config, Classifier.load(args.model))
        model = f"saved model {args.model}"
    elif shares_labelled_calls(args.file):
        router = build_router(settings, config=config, train_subset="tune")
        model = (f"classifier trained on the tune part of {SPLIT.name} and the training parts"
                 f" of {', '.join(p.name for p in SYNTHETIC_SETS)} only")
    else:
        # None of these calls is ours: score them as the service would route them.
        router = build_router(settings, config=config)
        model = ("the service's model, trained on every labelled call (none of this file's"
                 " calls is among them)")
    rows = read_rows(args.file, split_ids(args.subset, synthetic=args.file))
    result = evaluate(router, rows)
    result = {"subset": args.subset, "model": model, **result}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1), file=out)
    else:
        _print_eval(result, out)
    return 0


def _retrain_main(argv: list[str], settings: Settings, out: TextIO) -> int:
    parser = _parser()
    parser.add_argument("--out", type=Path, help="where to save the model")
    parser.add_argument("--corrections", type=Path,
                        help="JSONL of agent-corrected tickets: text, line, kind")
    args = parser.parse_args(argv)
    config = load_routing_config(args.config or config_file(settings))
    corrected: list[tuple[str, str, str]] = []
    if args.corrections is not None:
        for row in read_rows(args.corrections):
            corrected.append((row["text"], row["line"], row["kind"]))
    target = args.out or model_file(settings)
    model = retrain(corrected, target, config)
    print(f"已保存模型 model saved: {target} ({model.trained_on} 条样本 examples, "
          f"{DEV_SET.name} + {' + '.join(p.name for p in SYNTHETIC_SETS)}"
          f" + {len(corrected)} corrected)", file=out)
    # Agents correct lines and kinds, not entity spans: the span models learn from the
    # shipped labelled calls only, and are saved so the service need not train them at start.
    for key, tagger in train_span_taggers(Router(config, None), "all").items():
        span_target = (args.out.with_name(model_name(key)) if args.out
                       else span_model_file(settings, key))
        tagger.save(span_target)
        print(f"已保存实体模型 span model saved: {span_target} "
              f"({key}, {tagger.trained_on} 条样本 examples)", file=out)
    return 0


def route_main(argv: list[str], settings: Settings) -> int:
    """Entry point for `hotline route ...`; returns the process exit code."""
    out = sys.stdout
    try:
        if argv[:1] == ["eval"]:
            return _eval_main(argv[1:], settings, out)
        if argv[:1] == ["retrain"]:
            return _retrain_main(argv[1:], settings, out)
        parser = _parser()
        parser.add_argument("text")
        parser.add_argument("--json", action="store_true")
        args = parser.parse_args(argv)
        router = build_router(settings, config=load_routing_config(
            args.config or config_file(settings)))
        decision = router.route(args.text)
        if args.json:
            print(json.dumps(decision.to_json(), ensure_ascii=False, indent=1), file=out)
        else:
            _print_decision(decision, out)
        return 0
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 1
