from __future__ import annotations

from pathlib import Path

import pytest

from routing.router import Router
from routing.service import training_examples
from routing.span_tagger import (
    FEATURES_VERSION,
    PlaceMarks,
    Reading,
    SpanExample,
    SpanTagger,
    features,
    gold_labels,
    model_name,
    pattern_labels,
    surest_span,
)


def chars(text: str) -> list[str]:
    return list(text)


def test_labels_are_over_the_characters_without_spaces() -> None:
    transcript = "我 在 药都路 门口"
    # The patterns' span is in transcript positions (with spaces): 药都路 is 4..7.
    assert pattern_labels(transcript, (4, 7)) == ["O", "O", "B", "I", "I", "O", "O"]
    assert gold_labels(transcript, "药都路门口") == ["O", "O", "B", "I", "I", "I", "I"]
    assert gold_labels(transcript, None) == ["O"] * 7
    assert gold_labels(transcript, "芍花路") is None  # a label the text does not hold


def test_features_are_a_pure_function_of_the_text() -> None:
    first = features("在药都路", ["O", "B", "I", "I"], ["在", "药都路"])
    again = features("在药都路", ["O", "B", "I", "I"], ["在", "药都路"])
    assert first == again and len(first) == 4
    assert first[1]["rx"] == "B" and first[1]["word_start"] is True
    assert first[3]["place_char"] is True and first[0]["c-1"] == "^"
    assert "t+" not in first[0] and "pl" not in first[0]  # the narrow reading (firms)
    wide = features("在药都路", ["O", "B", "I", "I"], ["在", "药都路"], wide=True)
    assert wide[0]["t+"] == "在药都" and wide[3]["c+3"] == "$"


def test_place_marks_take_the_longest_known_name() -> None:
    marks = PlaceMarks(["高新区", "亳州高新区", "药都路", ""])
    assert marks.names[0] == "亳州高新区"
    assert marks("在亳州高新区药都路口") == ["O", "B", "I", "I", "I", "I",
                                            "B", "I", "I", "O"]
    assert PlaceMarks([])("药都路") == ["O", "O", "O"]
    feats = features("在药都路", ["O"] * 4, ["在", "药都路"], marks("在药都路"))
    assert [f["pl"] for f in feats] == ["O", "B", "I", "I"] and feats[0]["pl+1"] == "B"


def test_a_tagger_reads_as_it_was_trained_after_a_reload() -> None:
    reading = Reading(wide=True, places=True)
    tagger = SpanTagger.train(_convention_examples(), chars, ["药都路"], reading)
    again = tagger.reading_with(chars, ["药都路", "汤王路"])
    assert again.reading == reading and set(again.place_names) == {"药都路", "汤王路"}
    assert tagger.reads_like(chars, ["药都路"]) and not tagger.reads_like(chars, ["汤王路"])


def test_a_saved_model_names_its_feature_version() -> None:
    # A model saved with other features is not found rather than read wrongly.
    assert model_name("address") == f"address.f{FEATURES_VERSION}.crfsuite"


def _convention_examples() -> list[SpanExample]:
    """Calls whose labels take the spot word (门口) into the address, while the 'patterns'
    given as a feature stop at the road: the tagger has to learn the convention."""
    roads = ["药都路", "芍花路", "魏武路", "光明路", "人民路", "文帝路", "仁和路", "紫苑路",
             "健康路", "南京路", "谯陵路", "希夷路"]
    examples = []
    for i, road in enumerate(roads):
        head = ["有 人 在", "我 看见", "快 来"][i % 3]
        text = f"{head} {road} 门口 打架"
        start = text.index(road)
        examples.append(SpanExample(text, (start, start + len(road)), road + "门口"))
        quiet = f"{head} 家里 停水 了"
        examples.append(SpanExample(quiet, None, None))
    return examples


def test_the_tagger_learns_a_labelling_convention_the_patterns_miss() -> None:
    tagger = SpanTagger.train(_convention_examples(), chars)
    text = "有 人 在 汤王路 门口 打架"
    start = text.index("汤王路")
    tagged = tagger.tag(text, (start, start + 3))
    assert tagged is not None
    assert tagged.value == "汤王路门口"
    assert text[tagged.start:tagged.end].replace(" ", "") == "汤王路门口"
    assert tagger.tag("我 看见 家里 停水 了", None) is None


def test_of_two_places_the_surer_is_kept_not_the_longer() -> None:
    # The firm's county and name (long, unsure) and the spot of the matter (short, sure).
    assert surest_span([(2, 10), (13, 18)], [0.62, 0.91]) == (13, 18)
    assert surest_span([(2, 5), (13, 18)], [0.9, 0.9]) == (13, 18)  # a tie: the longer
    assert surest_span([(2, 5), (13, 16)], [0.9, 0.9]) == (2, 5)  # then the earlier
    assert surest_span([], []) is None


def test_saved_model_loads_and_garbage_is_refused(tmp_path: Path) -> None:
    tagger = SpanTagger.train(_convention_examples(), chars)
    path = tmp_path / "routing" / "address.crfsuite"
    tagger.save(path)
    loaded = SpanTagger.load(path, chars)
    text = "快 来 光明路 门口 打架"
    start = text.index("光明路")
    assert loaded.tag(text, (start, start + 3)) == tagger.tag(text, (start, start + 3))
    bad = tmp_path / "bad.crfsuite"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="span model"):
        SpanTagger.load(bad, chars)


def test_no_examples_is_an_error() -> None:
    with pytest.raises(ValueError):
        SpanTagger.train([SpanExample("药都路", (0, 3), "芍花路")], chars)


def test_the_evaluated_router_carries_taggers_trained_without_the_held_out_part(
        tune_router: Router) -> None:
    assert set(tune_router.taggers) == {"address", "enterprise"}
    tune_part = len(training_examples("tune"))  # dev tune + 4/5 of each synthetic set
    assert tune_part < len(training_examples("all"))
    for tagger in tune_router.taggers.values():
        # A label the text does not hold is skipped; nothing beyond the tune part is added.
        assert tune_part - 10 <= tagger.trained_on <= tune_part
    again = tune_router.with_config(tune_router.config)
    assert again.taggers == tune_router.taggers


def test_retrain_saves_the_span_models_the_service_then_loads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import replace

    from hotline.settings import Settings
    from routing.cli import route_main
    from routing.service import build_router, model_file, span_model_file

    settings = replace(Settings(), data_dir=str(tmp_path))
    assert route_main(["retrain"], settings) == 0
    assert capsys.readouterr().out.count("span model saved") == 2
    assert model_file(settings).exists()
    router = build_router(settings)
    for key in ("address", "enterprise"):
        saved = span_model_file(settings, key)
        assert router.taggers[key].model == saved.read_bytes()  # loaded, not trained again
    decision = router.route("我 是 利辛县 金穗 面粉厂 的 我们 芍花苑 十二 号楼 停水 了")
    assert decision.entity("address") is not None
    assert decision.entity("enterprise") is not None
