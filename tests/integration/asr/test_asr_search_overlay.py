"""Search overrides reach the real decoder through the overlay folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asr.engine import load_model, transcribe_pcm
from asr.model import ModelLayout, SearchSettings
from tests.integration.asr.speech_kit import LONG_SENTENCE, SENTENCE, model_path_for_tests

pytestmark = pytest.mark.integration


def test_narrow_beam_through_overlay_changes_the_search(
        vosk_model: tuple[Any, ModelLayout], speak: Callable[[str, int], bytes],
        tmp_path: Path) -> None:
    model, layout = vosk_model
    speech = [speak(text, layout.sample_rate) for text in (SENTENCE, LONG_SENTENCE)]
    own = [transcribe_pcm(model, pcm, layout.sample_rate) for pcm in speech]
    # A beam this narrow changed nearly every benchmark sentence: if the overlay's
    # model.conf were not read, the text would stay the same.
    narrow, narrow_layout = load_model(model_path_for_tests(), SearchSettings(beam=5.0),
                                       tmp_path)
    assert narrow_layout.path == model_path_for_tests()  # the installed folder is named
    texts = [transcribe_pcm(narrow, pcm, layout.sample_rate) for pcm in speech]
    assert all(texts) and texts != own
