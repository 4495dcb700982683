"""The models the service trains at start are cached by fingerprint for the next start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import routing.service as service
from hotline.settings import Settings
from routing.classifier import Classifier, read_examples
from routing.config import RoutingConfig
from routing.evaluate import read_rows
from routing.router import Router
from routing.span_tagger import SpanTagger, model_name


@pytest.fixture
def quick_training(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Training on 60 labelled calls instead of all of them (~45 s): the caching is what is
    tested here; test_classifier.py and test_span_tagger.py test the training itself."""
    trained: list[str] = []
    few_rows = read_rows(service.DEV_SET)[:60]
    real_taggers = service.train_span_taggers

    def classifier(config: RoutingConfig, subset: str = "all") -> Classifier:
        trained.append("classifier")
        return Classifier.train(read_examples(service.DEV_SET)[:60], str)

    def taggers(rules: Router, subset: str = "all") -> dict[str, SpanTagger]:
        trained.append("taggers")
        monkeypatch.setattr(service, "_labelled_rows", lambda *_: few_rows)
        return real_taggers(rules, subset, synthetic=())

    monkeypatch.setattr(service, "train_on_dev_set", classifier)
    monkeypatch.setattr(service, "train_span_taggers", taggers)
    return trained


def test_a_restart_with_the_same_inputs_reuses_the_trained_models(
        tmp_path: Path, config_dir: Path, quick_training: list[str]) -> None:
    settings = replace(Settings(), data_dir=str(tmp_path / "var"), config_dir=str(config_dir))
    first = service.build_router(settings)
    assert quick_training == ["classifier", "taggers"]
    cached = service.trained_cache(settings)
    assert {p.name for p in cached.iterdir()} == {"model.pkl", model_name("address"),
                                                  model_name("enterprise")}
    second = service.build_router(settings)
    assert quick_training == ["classifier", "taggers"]  # nothing trained again
    text = "我 在 药都路 三 号 的 鑫达 超市 买 了 过期 的 牛奶"
    assert second.route(text).line == first.route(text).line
    assert second.route(text).entities == first.route(text).entities


def test_an_edited_rule_file_trains_anew_and_drops_the_old_cache(
        tmp_path: Path, config_dir: Path, quick_training: list[str]) -> None:
    settings = replace(Settings(), data_dir=str(tmp_path / "var"), config_dir=str(config_dir))
    service.build_router(settings)
    old = service.trained_cache(settings)
    slips = config_dir / "routing" / "slips.yaml"
    slips.write_text(slips.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    service.build_router(settings)
    assert quick_training == ["classifier", "taggers"] * 2
    assert service.trained_cache(settings) != old and not old.exists()


def test_an_unreadable_cached_model_is_trained_again(
        tmp_path: Path, config_dir: Path, quick_training: list[str]) -> None:
    settings = replace(Settings(), data_dir=str(tmp_path / "var"), config_dir=str(config_dir))
    service.build_router(settings)
    (service.trained_cache(settings) / "model.pkl").write_bytes(b"not a model")
    service.build_router(settings)
    assert quick_training == ["classifier", "taggers", "classifier"]


def test_the_fingerprint_follows_the_labelled_calls(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text('{"id": "a"}\n', encoding="utf-8")
    before = service.training_fingerprint(Settings(), labelled=(calls,))
    assert service.training_fingerprint(Settings(), labelled=(calls,)) == before
    calls.write_text('{"id": "b"}\n', encoding="utf-8")
    assert service.training_fingerprint(Settings(), labelled=(calls,)) != before
