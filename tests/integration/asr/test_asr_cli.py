"""`hotline transcribe` and the service bootstrap with the real test model."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from asr.bootstrap import build_speech_service
from asr.cli import transcribe_main
from asr.engine import transcribe_pcm
from asr.model import ModelLayout
from asr.settings import DEFAULT_MODEL
from hotline.bus import EventBus
from hotline.settings import Settings
from recordings.store import RecordingStore
from tests.integration.asr.speech_kit import LONG_SENTENCE, SENTENCE, model_path_for_tests

pytestmark = pytest.mark.integration


def settings_with_test_model(tmp_path: Path) -> Settings:
    """A data dir whose default model folder is the test model (a symlink)."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / DEFAULT_MODEL).symlink_to(model_path_for_tests())
    return Settings(data_dir=str(tmp_path))


def test_transcribe_files_json(tmp_path: Path, vosk_model: tuple[Any, ModelLayout],
                               speak: Callable[[str, int], bytes]) -> None:
    settings = settings_with_test_model(tmp_path)
    store = RecordingStore(tmp_path / "in")
    files = []
    expected = []
    for index, (sentence, rate) in enumerate(((SENTENCE, 16000), (LONG_SENTENCE, 16000))):
        pcm = speak(sentence, rate)
        files.append(store.write_wav(PurePosixPath(f"f{index}.wav"), pcm, rate))
        expected.append(transcribe_pcm(vosk_model[0], pcm, 16000))
    files.append(tmp_path / "missing.wav")
    out = io.StringIO()
    assert transcribe_main([*map(str, files), "--json"], settings, out) == 1
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in records[:2]] == expected
    assert all(r["error"] is None for r in records[:2])
    assert records[2]["text"] is None and "cannot read" in records[2]["error"]


async def test_bootstrap_loads_model_and_serves(tmp_path: Path) -> None:
    settings = settings_with_test_model(tmp_path)
    service = await build_speech_service(settings, EventBus())
    try:
        assert service.status.ready and service.engine is not None
        await service.start("127.0.0.1", 0)
        session = service.open_session("1764145000.30")
        assert session is not None
        session.cancel()
        assert (await session.result(timeout=30)).ended_by == "hangup"
    finally:
        await service.close()


async def test_bootstrap_without_model_runs_key_menus_only(tmp_path: Path) -> None:
    service = await build_speech_service(Settings(data_dir=str(tmp_path)), EventBus())
    try:
        await service.start("127.0.0.1", 0)
        assert service.open_session("1764145000.31") is None
        assert not service.status.ready
        assert "hotline asr install-model small-cn" in service.status.zh
        assert str(tmp_path / "models" / DEFAULT_MODEL) in service.status.en
    finally:
        await service.close()
