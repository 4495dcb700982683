"""Fixtures of the speech tests: the real (Korean, dither-off) Vosk test model and speech.

The model is prepared by `scripts/test-model.sh` (CI runs it first). A missing model
or missing espeak-ng makes the tests FAIL with the command that fixes it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from asr.engine import SpeechEngine, load_model
from asr.loopback import synthesize
from asr.model import ModelLayout, ModelMissing
from tests.integration.asr.speech_kit import model_path_for_tests


@pytest.fixture(scope="session")
def vosk_model() -> tuple[Any, ModelLayout]:
    try:
        return load_model(model_path_for_tests())
    except ModelMissing as exc:
        pytest.fail(f"{exc.en}; run scripts/test-model.sh", pytrace=False)


@pytest.fixture(scope="session")
def speak() -> Callable[[str, int], bytes]:
    """espeak-ng speech as signed linear at a rate, cached per (text, rate)."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: apt-get install espeak-ng", pytrace=False)
    cache: dict[tuple[str, int], bytes] = {}

    def make(text: str, rate: int) -> bytes:
        if (text, rate) not in cache:
            cache[(text, rate)] = synthesize(text, rate)
        return cache[(text, rate)]

    return make


@pytest.fixture
async def make_engine(
    vosk_model: tuple[Any, ModelLayout],
) -> AsyncIterator[Callable[..., Any]]:
    engines: list[SpeechEngine] = []

    async def build(max_streams: int = 2, reuse: bool = True) -> SpeechEngine:
        model, layout = vosk_model
        engine = SpeechEngine(model, layout, max_streams=max_streams, reuse=reuse)
        if reuse:
            await engine.prewarm()
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        await engine.close()
