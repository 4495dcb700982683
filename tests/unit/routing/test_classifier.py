from __future__ import annotations

from pathlib import Path

from routing.classifier import Classifier, read_examples
from routing.config import RoutingConfig
from routing.service import (
    DEV_SET,
    SYNTHETIC_SETS,
    load_classifier,
    retrain,
    split_ids,
    synthetic_heldout,
    training_examples,
)


def test_retrain_saves_a_model_that_loads_and_learns_corrections(
        tmp_path: Path, routing_config: RoutingConfig) -> None:
    out = tmp_path / "model.pkl"
    base = read_examples(DEV_SET, split_ids("tune"))
    text = "扑克 电玩 城 的 积分 兑换 不 了"
    corrected = [(text, "market_regulation", "complaint")] * 5
    model = retrain(corrected, out, routing_config, base=base)
    assert out.exists() and model.trained_on == len(base) + 5
    loaded = Classifier.load(out)
    probs = loaded.line_probabilities("扑克电玩城的积分兑换不了")
    assert max(probs, key=lambda k: probs[k]) == "market_regulation"


def test_without_a_saved_model_it_trains_on_everything_labeled(
        tmp_path: Path, routing_config: RoutingConfig) -> None:
    model = load_classifier(routing_config, tmp_path / "missing.pkl")
    assert model.trained_on == len(read_examples(DEV_SET)) + sum(
        len(read_examples(path)) for path in SYNTHETIC_SETS)


def test_evaluation_training_leaves_both_heldout_parts_out() -> None:
    """The tune-only model sees neither the dev held-out part nor the synthetic fifth."""
    import json

    tune = training_examples("tune")
    dev_held = split_ids("heldout") or frozenset()
    rows = [json.loads(raw) for path in SYNTHETIC_SETS
            for raw in path.read_text(encoding="utf-8").splitlines() if raw]
    syn_held = [r for r in rows if synthetic_heldout(r["id"])]
    assert len(syn_held) == sum(len(path.read_text(encoding="utf-8").splitlines()) // 5
                                for path in SYNTHETIC_SETS)
    held_texts = ({r["text"] for r in syn_held}
                  | {e.text for e in read_examples(DEV_SET, dev_held)})
    assert not held_texts & {e.text for e in tune}
    assert len(tune) == len(read_examples(DEV_SET)) - len(dev_held) + len(rows) - len(syn_held)


def test_a_broken_model_file_falls_back(tmp_path: Path, routing_config: RoutingConfig) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(b"not a pickle")
    model = load_classifier(routing_config, bad)
    assert model.trained_on == len(training_examples("all"))


def test_fast_prediction_equals_sklearn(routing_config: RoutingConfig) -> None:
    from routing.normalise import Normaliser

    normalise = Normaliser(routing_config.slips, routing_config.fillers)
    model = Classifier.train(read_examples(DEV_SET, split_ids("tune")),
                             lambda t: normalise(t).text)
    for example in read_examples(DEV_SET, split_ids("tune"))[:40]:
        text = normalise(example.text).text
        features = model.vectorizer.transform([text])
        for head, fast in ((model.line_model, model.line_probabilities),
                           (model.kind_model, model.kind_probabilities)):
            expected = dict(zip(head.classes_, head.predict_proba(features)[0], strict=True))
            got = fast(text)
            assert all(abs(got[str(c)] - p) < 1e-9 for c, p in expected.items())
        assert model.complexity_model is not None
        p3 = dict(zip(model.complexity_model.classes_,
                      model.complexity_model.predict_proba(features)[0], strict=True))["3"]
        assert abs(model.complex_probability(text) - p3) < 1e-9
