"""Building a Router: where the config, the shipped labeled set and the model live.

The composition root calls `build_router(settings)` once. The classifier comes from the
saved model (written by `retrain`) or, when there is none, is trained on the shipped
labeled set. Evaluation on the held-out part must use `train_subset="tune"`, or the
model would have seen the answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from hotline.settings import PROJECT_ROOT, Settings
from routing.classifier import Classifier, Example, read_examples
from routing.config import RoutingConfig, load_routing_config
from routing.normalise import Normaliser
from routing.router import Router

log = logging.getLogger(__name__)

DEV_SET = PROJECT_ROOT / "tests" / "data" / "utterances-dev.jsonl"
SPLIT = PROJECT_ROOT / "tests" / "data" / "split.json"


def config_file(settings: Settings) -> Path:
    return settings.config_path / "routing.yaml"


def model_file(settings: Settings) -> Path:
    return settings.data_path / "routing" / "model.pkl"


def split_ids(subset: str, split_path: Path = SPLIT) -> frozenset[str] | None:
    """Ids of a subset of the dev set: tune, heldout, or None for all."""
    if subset == "all":
        return None
    data = json.loads(split_path.read_text(encoding="utf-8"))
    if subset not in ("tune", "heldout"):
        raise ValueError(f"unknown subset: {subset}")
    return frozenset(data[subset])


def _normaliser(config: RoutingConfig) -> Normaliser:
    return Normaliser(config.slips, config.fillers, config.places.all_names())


def train_on_dev_set(config: RoutingConfig, subset: str = "all",
                     dev_set: Path = DEV_SET) -> Classifier:
    examples = read_examples(dev_set, split_ids(subset))
    normalise = _normaliser(config)
    return Classifier.train(examples, lambda t: normalise(t).text)


def retrain(examples: Iterable[tuple[str, str, str]], out_path: Path,
            config: RoutingConfig | None = None,
            base: Sequence[Example] | None = None) -> Classifier:
    """Train on the shipped labeled set plus agent-corrected (text, line, kind) and save.

    `base` defaults to the whole shipped dev set; corrected examples are appended after it.
    `config` (for the normaliser) defaults to the shipped config/routing.yaml.
    """
    config = config or load_routing_config(config_file(Settings()))
    labeled = list(base) if base is not None else read_examples(DEV_SET)
    corrected = [Example(text, line, kind) for text, line, kind in examples]
    normalise = _normaliser(config)
    model = Classifier.train(labeled + corrected, lambda t: normalise(t).text)
    model.save(out_path)
    log.info("routing model retrained on %d examples (%d corrected) -> %s",
             model.trained_on, len(corrected), out_path)
    return model


def load_classifier(config: RoutingConfig, model_path: Path | None) -> Classifier:
    """The saved model if there is one, else a model trained now on the whole dev set."""
    if model_path is not None and model_path.exists():
        try:
            return Classifier.load(model_path)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("routing model %s unusable (%s); training on the dev set", model_path, exc)
    return train_on_dev_set(config, "all")


def build_router(settings: Settings, *, config: RoutingConfig | None = None,
                 train_subset: str | None = None) -> Router:
    """The Router for the service (saved model) or for an evaluation (`train_subset`)."""
    cfg = config or load_routing_config(config_file(settings))
    if train_subset is not None:
        classifier = train_on_dev_set(cfg, train_subset)
    else:
        classifier = load_classifier(cfg, model_file(settings))
    return Router(cfg, classifier)
