from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from hotline.settings import Settings
from ivr.config import VoiceConfig, parse_ivr_config
from ivr.prompts import build_prompts, build_queue_sounds, catalog_for
from ivr.service import prompts_main
from ivr.speakable import speakable

from .fakes import default_config

MINI = """\
lines: {general: {queue: general, name: 综合}}
greeting: {default: 您好，欢迎致电12345。}
menus:
  main:
    prompt: 人工服务请按0。
    options: {"0": {action: queue, line: general}}
"""


@pytest.mark.parametrize(("text", "spoken"), [
    ("欢迎致电12345热线", "欢迎致电幺二三四五热线"),
    ("报警请拨110", "报警请拨幺幺零"),
    ("请按1，重听请按*号键，结束请按#", "请按一，重听请按星号键，结束请按井号"),
    ("第12位", "第十二位"),
    ("区号0558", "区号零五五八"),
    ("人社、 社保", "人社、社保"),
])
def test_speakable(text: str, spoken: str) -> None:
    assert speakable(text) == spoken


def _format(path: Path) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(path.read_bytes())) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth()


def test_build_caches_by_content_and_override_wins(tmp_path: Path) -> None:
    config = parse_ivr_config(MINI)
    lang = tmp_path / "zh"
    overrides = tmp_path / "prompts"
    overrides.mkdir()
    catalog, report = build_prompts(config, lang, overrides)
    assert sorted(report.built) == sorted(p.key for p in config.prompts())
    greeting = lang / f"{catalog.sound('greeting')}.wav"
    assert _format(greeting) == (8000, 1, 2)
    assert (lang / "hotline12345" / "recording-notice.wav").exists()
    # nothing changed: nothing synthesised
    _, again = build_prompts(config, lang, overrides)
    assert again.built == [] and len(again.cached) == len(report.built)
    # an administrator's recording replaces the synthetic greeting under a new name
    with wave.open(str(overrides / "greeting.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\x01\x00" * 2 * 44100)
    catalog2, report2 = build_prompts(config, lang, overrides)
    assert report2.overridden == ["greeting"]
    assert catalog2.sound("greeting") != catalog.sound("greeting")
    recorded = lang / f"{catalog2.sound('greeting')}.wav"
    assert _format(recorded) == (8000, 1, 2)
    with wave.open(str(recorded)) as w:
        assert w.getnframes() == 8000  # one second, resampled


def test_changed_text_gets_a_new_file(tmp_path: Path) -> None:
    a = catalog_for(parse_ivr_config(MINI), None)
    b = catalog_for(parse_ivr_config(MINI.replace("您好，", "您好！")), None)
    assert a.sound("greeting") != b.sound("greeting")
    assert a.sound("menu-main") == b.sound("menu-main")


def test_queue_and_digit_sounds(tmp_path: Path) -> None:
    lang = tmp_path / "zh"
    report = build_queue_sounds(lang, VoiceConfig("cmn-latn-pinyin", 165), None)
    for name in ("queue-thereare", "queue-callswaiting", "queue-youarenext", "queue-holdtime",
                 "digits/0", "digits/9", "digits/10", "digits/hundred"):
        assert _format(lang / f"{name}.wav") == (8000, 1, 2), name
    assert build_queue_sounds(lang, VoiceConfig("cmn-latn-pinyin", 165), None).built == []
    assert len(report.built) > 30


def test_prompts_cli_builds_into_a_sounds_folder(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    assert prompts_main(["build", "--sounds", str(sounds)], Settings()) == 0
    out = capsys.readouterr().out
    assert "synthesised" in out
    catalog = catalog_for(default_config(), Settings().config_path / "prompts")
    expected = {f"{s}.wav" for s in catalog.sounds.values()}
    found = {str(p.relative_to(sounds / "zh")) for p in (sounds / "zh").rglob("*.wav")}
    assert expected <= found
    assert prompts_main(["build", "--sounds", str(tmp_path / "missing")], Settings()) == 1
