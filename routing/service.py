"""Building a Router: where the config, the shipped labeled set and the model live.

The composition root calls `build_router(settings)` once. The classifier comes from the
saved model (written by `retrain`) or, when there is none, is trained on the shipped
labeled sets: the dev set and the synthetic calls written from domain knowledge.
Evaluation on the held-out parts must use `train_subset="tune"`, or the model would have
seen the answers. tests/data/routing-cases.txt is never trained on: it tests the result.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hotline.settings import PROJECT_ROOT, Settings
from routing.classifier import Classifier, Example, read_examples
from routing.config import RoutingConfig, load_routing_config
from routing.evaluate import read_rows
from routing.normalise import Normaliser
from routing.router import Router
from routing.span_tagger import Reading, SpanExample, SpanTagger, model_name

log = logging.getLogger(__name__)
T = TypeVar("T")

DEV_SET = PROJECT_ROOT / "tests" / "data" / "utterances-dev.jsonl"
SPLIT = PROJECT_ROOT / "tests" / "data" / "split.json"
# Calls written from domain knowledge (not from the dev set), same format, by separate authors
# who never saw each other's lines nor the dev set's held-out part. In each, every fifth id
# (syn-0005, syn2-0010, ...) was set aside before any tuning: it is never trained on in an
# evaluation and measures the rules and the model on calls like those nobody has seen.
# The first three wrote from domain knowledge alone; the fourth imitated the dev set's tune
# part (length, mix, labelling conventions), and every later one did too, each with its own
# emphasis, listed here by author number (scripts/routing_floors.py labels its table with it).
# An author joins by adding a line here.
SYNTHETIC_EMPHASIS: dict[int, str] = {
    5: "rural calls", 6: "city calls", 7: "the 12345/110 border", 8: "money",
    9: "firms and families", 10: "messy speech", 11: "addresses",
    12: "alarming but not police; sums", 13: "the dev tune part's own mix",
    14: "kinds and the 137 class", 15: "police calls said every way",
    16: "sound like police, belong elsewhere", 17: "sums among other numbers",
    18: "police calls easy to miss, and twins", 19: "the dev tune part's own mix again",
    20: "places cut the dev tune part's way",
    21: "the dev tune part's own mix a third time",
    22: "danger told without keywords, and twins", 23: "rural calls in dialect",
    24: "hedging callers", 25: "an ordinary city day",
    26: "the dev tune part's own mix a fourth time", 27: "a county town on market day",
    28: "calls at night and at weekends", 29: "older callers; small businesses",
    30: "the dev tune part's own mix a fifth time", 31: "callers ringing for someone else",
    32: "the dev tune part's own mix a sixth time", 33: "families and women",
    34: "the dev tune part's own mix a seventh time", 35: "addresses the tune part's ways",
    36: "the 110 border and its twins", 37: "the dev tune part's own mix an eighth time",
    38: "police calls easy to miss", 39: "families, neighbours, workplaces",
}
SYNTHETIC_AUTHORS = max(SYNTHETIC_EMPHASIS)


def synthetic_calls(author: int) -> Path:
    """The labelled calls of the n-th author (1: synthetic-calls.jsonl, 2: -2, ...)."""
    suffix = "" if author == 1 else f"-{author}"
    return PROJECT_ROOT / "tests" / "data" / f"synthetic-calls{suffix}.jsonl"


def synthetic_prefix(author: int) -> str:
    """The id prefix of the n-th author's calls (syn, syn2, ...)."""
    return "syn" if author == 1 else f"syn{author}"


SYNTHETIC_SETS = tuple(synthetic_calls(n) for n in range(1, SYNTHETIC_AUTHORS + 1))
SYNTHETIC = SYNTHETIC_SETS[0]
SYNTHETIC_PREFIXES = tuple(synthetic_prefix(n) for n in range(1, SYNTHETIC_AUTHORS + 1))
SYNTHETIC_HELDOUT_EVERY = 5


def is_synthetic(row_id: str) -> bool:
    prefix, _, number = row_id.partition("-")
    return prefix in SYNTHETIC_PREFIXES and number.isdigit()


def synthetic_heldout(row_id: str) -> bool:
    """Whether a synthetic call belongs to its held-out fifth (fixed by its id)."""
    _, _, number = row_id.partition("-")
    return is_synthetic(row_id) and int(number) % SYNTHETIC_HELDOUT_EVERY == 0


def config_file(settings: Settings) -> Path:
    return settings.config_path / "routing.yaml"


def model_file(settings: Settings) -> Path:
    return settings.data_path / "routing" / "model.pkl"


# Entities whose span a learned tagger refines after the patterns (routing/span_tagger.py).
TAGGED_ENTITIES = ("address", "enterprise")
READINGS = {"address": Reading(wide=True, places=True), "enterprise": Reading()}


def span_model_file(settings: Settings, key: str) -> Path:
    return settings.data_path / "routing" / model_name(key)


def split_ids(subset: str, split_path: Path = SPLIT,
              synthetic: Path | None = None) -> frozenset[str] | None:
    """Ids of a subset: tune, heldout, or None for all.

    The dev-set ids come from the committed split; with `synthetic`, that file's ids are
    added too (its held-out fifth to "heldout", the rest to "tune"), so one subset name
    selects the right rows whichever labeled file is evaluated.
    """
    if subset == "all":
        return None
    data = json.loads(split_path.read_text(encoding="utf-8"))
    if subset not in ("tune", "heldout"):
        raise ValueError(f"unknown subset: {subset}")
    ids = set(data[subset])
    if synthetic is not None and synthetic.exists():
        for example_id in _ids(synthetic):
            if (is_synthetic(example_id)
                    and synthetic_heldout(example_id) == (subset == "heldout")):
                ids.add(example_id)
    return frozenset(ids)


def shares_labelled_calls(path: Path, dev_set: Path = DEV_SET,
                          synthetic: Sequence[Path] = SYNTHETIC_SETS) -> bool:
    """Whether any call in `path` is one of the labelled calls we train on (same id or the
    same words): such a file must be scored by a model that has not seen its held-out part."""
    ours = [dev_set, *synthetic]
    if any(path.resolve() == p.resolve() for p in ours if p.exists()):
        return True
    ids: set[str] = set()
    texts: set[str] = set()
    for labelled in ours:
        if labelled.exists():
            for row in read_rows(labelled):
                ids.add(str(row["id"]))
                texts.add(_compact(str(row["text"])))
    return any(str(row["id"]) in ids or _compact(str(row["text"])) in texts
               for row in read_rows(path))


def _compact(text: str) -> str:
    return "".join(text.split())


def _ids(path: Path) -> list[str]:
    return [str(json.loads(raw)["id"]) for raw in path.read_text(encoding="utf-8").splitlines()
            if raw.strip()]


def _normaliser(config: RoutingConfig) -> Normaliser:
    return Normaliser(config.slips, config.fillers, config.places.all_names())


def training_examples(subset: str = "all", dev_set: Path = DEV_SET,
                      synthetic: Sequence[Path] = SYNTHETIC_SETS) -> list[Example]:
    """The dev set (or its tune part) plus the synthetic calls (or their training parts).

    With subset "tune" no held-out part is included; with "all" (the shipped model)
    everything labeled is.
    """
    return _by_subset(read_examples, subset, dev_set, synthetic)


def train_on_dev_set(config: RoutingConfig, subset: str = "all", dev_set: Path = DEV_SET,
                     synthetic: Sequence[Path] = SYNTHETIC_SETS) -> Classifier:
    examples = training_examples(subset, dev_set, synthetic)
    normalise = _normaliser(config)
    return Classifier.train(examples, lambda t: normalise(t).text)


def _by_subset(read: Callable[[Path, frozenset[str] | None], list[T]], subset: str,
               dev_set: Path, synthetic: Sequence[Path]) -> list[T]:
    """What `read` makes of the `subset` part of the dev set and of each synthetic set."""
    items = read(dev_set, split_ids(subset))
    for path in synthetic:
        if path.exists():
            items += read(path, split_ids(subset, synthetic=path))
    return items


def _labelled_rows(subset: str, dev_set: Path, synthetic: Sequence[Path]) -> list[dict[str, Any]]:
    """The labelled rows of `subset` in the dev set and the synthetic sets."""
    return _by_subset(read_rows, subset, dev_set, synthetic)


def train_span_taggers(rules: Router, subset: str = "all", dev_set: Path = DEV_SET,
                       synthetic: Sequence[Path] = SYNTHETIC_SETS,
                       keys: Sequence[str] = TAGGED_ENTITIES) -> dict[str, SpanTagger]:
    """A CRF tagger per entity key, trained on the labelled values of `subset` with the
    patterns of `rules` (a Router without taggers) as one of its features."""
    examples: dict[str, list[SpanExample]] = {key: [] for key in keys}
    for row in _labelled_rows(subset, dev_set, synthetic):
        text = str(row["text"])
        decision = rules.route(text)
        labels = row.get("entities")
        for key in keys:
            found = decision.entity(key)
            label = labels.get(key) if isinstance(labels, dict) else None
            examples[key].append(SpanExample(
                text, None if found is None else (found.start, found.end),
                None if label is None else str(label)))
    places = rules.config.places.all_names()
    return {key: SpanTagger.train(examples[key], rules.segmenter.cut, places,
                                  READINGS.get(key, Reading()))
            for key in keys}


def load_span_taggers(rules: Router, settings: Settings,
                      cache: Path | None = None) -> dict[str, SpanTagger]:
    """The saved span models if there are all of them, else the ones cached in `cache`,
    else ones trained now on every labelled call (and then cached there)."""
    saved = {key: span_model_file(settings, key) for key in TAGGED_ENTITIES}
    cached = {key: cache / model_name(key) for key in TAGGED_ENTITIES} if cache else {}
    for paths in (saved, cached):
        if paths and all(path.exists() for path in paths.values()):
            try:
                return {key: SpanTagger.load(path, rules.segmenter.cut,
                                             rules.config.places.all_names(),
                                             READINGS.get(key, Reading()))
                        for key, path in paths.items()}
            except (OSError, ValueError) as exc:
                log.warning("span models unusable (%s); training on the labelled calls", exc)
    taggers = train_span_taggers(rules, "all")
    if cache is not None:
        for key, tagger in taggers.items():
            tagger.save(cache / model_name(key))
    return taggers


def retrain(examples: Iterable[tuple[str, str, str]], out_path: Path,
            config: RoutingConfig | None = None,
            base: Sequence[Example] | None = None) -> Classifier:
    """Train on the shipped labeled set plus agent-corrected (text, line, kind) and save.

    `base` defaults to the whole shipped dev set and the synthetic calls; corrected
    examples are appended after it.
    `config` (for the normaliser) defaults to the shipped config/routing.yaml.
    """
    config = config or load_routing_config(config_file(Settings()))
    labeled = list(base) if base is not None else training_examples("all")
    corrected = [Example(text, line, kind) for text, line, kind in examples]
    normalise = _normaliser(config)
    model = Classifier.train(labeled + corrected, lambda t: normalise(t).text)
    model.save(out_path)
    log.info("routing model retrained on %d examples (%d corrected) -> %s",
             model.trained_on, len(corrected), out_path)
    return model


def load_classifier(config: RoutingConfig, model_path: Path | None,
                    cache_path: Path | None = None) -> Classifier:
    """The saved model if there is one, else the cached one, else a model trained now on
    every labelled call (and then cached at `cache_path`)."""
    for path in (model_path, cache_path):
        if path is not None and path.exists():
            try:
                return Classifier.load(path)
            except (OSError, ValueError, EOFError) as exc:
                log.warning("routing model %s unusable (%s); training on the labelled calls",
                            path, exc)
    model = train_on_dev_set(config, "all")
    if cache_path is not None:
        model.save(cache_path)
    return model


# What the models trained at start depend on, besides the config files and labelled calls.
_LEARNING_LIBRARIES = ("scikit-learn", "python-crfsuite", "jieba", "numpy")


def training_fingerprint(settings: Settings,
                         labelled: Sequence[Path] = (DEV_SET, *SYNTHETIC_SETS)) -> str:
    """A digest of everything the models trained at start are made from: the routing
    config files, the labelled calls, this package's code and the learning libraries."""
    config = config_file(settings)
    files = [config, *sorted(p for p in (config.parent / "routing").rglob("*") if p.is_file()),
             *labelled, *sorted(Path(__file__).parent.glob("*.py"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    for library in _LEARNING_LIBRARIES:
        digest.update(f"{library}={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


def trained_cache(settings: Settings) -> Path:
    """Where the models trained at start are kept for the next start, by fingerprint: a
    change to the rules, the labelled calls, the code or a library trains them anew, and
    older folders are removed."""
    root = settings.data_path / "routing" / "trained"
    current = root / training_fingerprint(settings)
    if root.is_dir():
        for stale in root.iterdir():
            if stale != current:
                shutil.rmtree(stale, ignore_errors=True)
    return current


def build_router(settings: Settings, *, config: RoutingConfig | None = None,
                 train_subset: str | None = None) -> Router:
    """The Router for the service (saved models) or for an evaluation (`train_subset`)."""
    cfg = config or load_routing_config(config_file(settings))
    rules = Router(cfg, None)
    if train_subset is not None:
        classifier = train_on_dev_set(cfg, train_subset)
        taggers = train_span_taggers(rules, train_subset)
    else:
        # Training everything takes most of a minute; a restart with unchanged inputs reuses
        # what the previous start trained.
        cache = trained_cache(settings)
        classifier = load_classifier(cfg, model_file(settings), cache / "model.pkl")
        taggers = load_span_taggers(rules, settings, cache)
    return Router(cfg, classifier, rules.segmenter, taggers)
