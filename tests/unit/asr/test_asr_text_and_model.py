"""Transcript cleaning and model-folder checks (no model loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.model import ModelMissing, inspect_model, layout_problems, sample_rate_of
from asr.settings import AsrSettings, model_path
from asr.text import clean_text, result_text
from hotline.settings import Settings


def test_clean_text() -> None:
    assert clean_text("我 想 投诉 [unk] 噪音") == "我想投诉噪音"
    assert clean_text("관리비 <UNK> 문의") == "관리비 문의"
    assert clean_text("号码 138 0013") == "号码 138 0013"
    assert clean_text("[unk]") == ""
    assert result_text('{"partial": "네 [unk]"}', "partial") == "네"


def make_model(root: Path, graph: tuple[str, ...] = ("HCLr.fst", "Gr.fst"),
               mfcc: str = "--use-energy=false\n") -> Path:
    for name in ("am/final.mdl", *(f"graph/{g}" for g in graph)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    (root / "conf").mkdir(exist_ok=True)
    (root / "conf/mfcc.conf").write_text(mfcc)
    return root


def test_layout_ok_and_grammar(tmp_path: Path) -> None:
    layout = inspect_model(make_model(tmp_path / "m"))
    assert layout.sample_rate == 16000
    assert layout.supports_grammar
    static = inspect_model(make_model(tmp_path / "s", ("HCLG.fst",), "--sample-frequency=8000\n"))
    assert static.sample_rate == 8000
    assert not static.supports_grammar


def test_layout_problems(tmp_path: Path) -> None:
    assert layout_problems(tmp_path / "nope") == ["folder not found"]
    model = make_model(tmp_path / "m", graph=())
    (model / "am/final.mdl").unlink()
    assert layout_problems(model) == [
        "missing am/final.mdl", "missing graph/HCLG.fst or graph/HCLr.fst + graph/Gr.fst"]


def test_missing_model_names_folder_and_command(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as info:
        inspect_model(tmp_path / "vosk-model-small-cn-0.22")
    message = str(info.value)
    assert str(tmp_path / "vosk-model-small-cn-0.22") in message
    assert "hotline asr install-model small-cn" in message
    assert "按键菜单" in info.value.zh


def test_sample_rate_of() -> None:
    assert sample_rate_of("--sample-frequency=8000\n--x=1") == 8000
    assert sample_rate_of("# --sample-frequency=8000") == 16000


def test_default_model_path() -> None:
    path = model_path(Settings(data_dir="/srv/hotline"), AsrSettings())
    assert path == Path("/srv/hotline/models/vosk-model-small-cn-0.22")
