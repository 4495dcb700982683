"""Decoder search overrides through an overlay model folder (no model loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.engine import load_model
from asr.model import SearchSettings, inspect_model, search_overlay, with_search
from asr.settings import AsrSettings, search_overlays_path
from hotline.settings import Settings

MODEL_CONF = "--min-active=200\n--max-active=3000\n--beam=10.0\n--lattice-beam=2.0\n"


def make_model(root: Path) -> Path:
    for name in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "ivector/final.ie"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    (root / "conf").mkdir()
    (root / "conf/mfcc.conf").write_text("--sample-frequency=8000\n")
    (root / "conf/model.conf").write_text(MODEL_CONF)
    return root


def test_overrides_replace_the_models_values_and_keep_the_rest() -> None:
    text = with_search(MODEL_CONF, SearchSettings(max_active=2000, beam=8.5))
    lines = text.splitlines()
    assert "--max-active=2000" in lines and "--beam=8.5" in lines
    assert "--max-active=3000" not in lines and "--beam=10.0" not in lines
    assert "--min-active=200" in lines and "--lattice-beam=2.0" in lines  # not --beam
    assert with_search(MODEL_CONF, SearchSettings(beam=9)).count("--max-active=3000") == 1


def test_no_override_uses_the_installed_folder(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m")
    assert SearchSettings().overrides() == {}
    assert search_overlay(model, SearchSettings(), tmp_path / "overlays") == model
    assert not (tmp_path / "overlays").exists()


def test_overlay_links_the_model_and_carries_its_own_model_conf(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m")
    overlays = tmp_path / "overlays"
    folder = search_overlay(model, SearchSettings(max_active=1500), overlays)
    assert folder.parent == overlays
    assert (folder / "graph").resolve() == (model / "graph").resolve()
    assert (folder / "conf/mfcc.conf").read_text() == "--sample-frequency=8000\n"
    assert "--max-active=1500" in (folder / "conf/model.conf").read_text().splitlines()
    assert (model / "conf/model.conf").read_text() == MODEL_CONF  # installed model untouched
    layout = inspect_model(folder)
    assert layout.sample_rate == 8000 and layout.supports_grammar
    # Kept while it matches; rebuilt (not appended to) when the model changed.
    stamp = (folder / "conf/model.conf").stat().st_mtime_ns
    assert search_overlay(model, SearchSettings(max_active=1500), overlays) == folder
    assert (folder / "conf/model.conf").stat().st_mtime_ns == stamp
    (model / "conf/model.conf").write_text(MODEL_CONF.replace("--beam=10.0", "--beam=11.0"))
    (model / "extra").mkdir()
    assert search_overlay(model, SearchSettings(max_active=1500), overlays) == folder
    rebuilt = (folder / "conf/model.conf").read_text().splitlines()
    assert "--beam=11.0" in rebuilt and rebuilt.count("--max-active=1500") == 1
    assert (folder / "extra").resolve() == (model / "extra").resolve()
    assert search_overlay(model, SearchSettings(max_active=1000), overlays) != folder
    assert sorted(p.name for p in overlays.iterdir() if p.name.startswith(".")) == []


def test_load_model_wants_a_folder_for_overrides(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m")
    with pytest.raises(ValueError, match="overlay"):
        load_model(model, SearchSettings(beam=8.0))


def test_settings_default_to_the_models_own_search(tmp_path: Path) -> None:
    assert AsrSettings().search().overrides() == {}
    assert AsrSettings(max_active=2000).search() == SearchSettings(2000, 0.0)
    settings = Settings(data_dir=str(tmp_path))
    assert search_overlays_path(settings) == settings.data_path / "asr-search"
