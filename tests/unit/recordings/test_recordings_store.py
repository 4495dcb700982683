"""Recording paths never leave the root; WAV writing; retention; conversion."""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import wave
from datetime import date
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recordings.convert import load_pcm, to_wav
from recordings.retention import cleanup, retention_loop
from recordings.store import RecordingStore, UnsafePath, check_id

DAY = date(2026, 11, 26)


def test_names_from_our_ids(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    assert store.speech_name("1700000000.42", "ab12-cd", DAY) == PurePosixPath(
        "2026-11-26/1700000000.42/speech-ab12-cd.wav")
    assert store.mixmonitor_name("1700000000.42", DAY) == PurePosixPath(
        "2026-11-26/1700000000.42/call.wav")
    assert store.resolve(store.mixmonitor_name("c1", DAY)) == (
        tmp_path.resolve() / "2026-11-26/c1/call.wav")


@pytest.mark.parametrize("bad", ["../etc", "..", "a/b", "/abs", "", "a b", ".hidden", "a..b",
                                 "x" * 81, "呼叫", "a\x00b"])
def test_unsafe_ids_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UnsafePath):
        check_id(bad)
    with pytest.raises(UnsafePath):
        RecordingStore(tmp_path).mixmonitor_name(bad, DAY)


@pytest.mark.parametrize("bad", ["../x.wav", "/etc/passwd", "a/../../x", "link/x.wav"])
def test_resolve_refuses_escapes(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "rec"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafePath):
        RecordingStore(root).resolve(bad)


@given(value=st.text(max_size=100))
def test_any_caller_value_stays_inside(value: str) -> None:
    root = Path("/srv/recordings")
    store = RecordingStore(root)
    try:
        path = store.resolve(store.speech_name(value, "s1", DAY))
    except UnsafePath:
        return
    assert path.is_relative_to(root)
    assert path.parent.name == value


def test_write_wav(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    pcm = struct.pack("<4h", 1, -1, 300, -300) * 400
    path = store.write_wav(store.speech_name("c1", "s1", DAY), pcm, 16000)
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.readframes(10**6) == pcm
    assert not list(tmp_path.rglob("*.part"))


def test_retention(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    old = tmp_path / "2026-01-01/c1/call.wav"
    new = tmp_path / "2026-11-25/c2/call.wav"
    other = tmp_path / "2026-01-01/notes.txt"
    for path, age_days in ((old, 200), (new, 1), (other, 400)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    assert cleanup(tmp_path, 180, now) == [old]
    assert not old.parent.exists()
    assert new.exists() and other.exists()
    assert cleanup(tmp_path, 0, now + 10**9) == []
    assert new.exists()


def test_convert_to_8k(tmp_path: Path) -> None:
    pcm = struct.pack("<2h", 1000, -1000) * 8000  # 1 s at 16 kHz
    source = RecordingStore(tmp_path).write_wav(PurePosixPath("a/in.wav"), pcm, 16000)
    target = to_wav(source, tmp_path / "out.wav", rate=8000)
    with wave.open(str(target)) as wav:
        assert wav.getframerate() == 8000
        assert wav.getnframes() == 8000
    assert abs(len(load_pcm(target, 16000)) - 32000) <= 4  # resampler edge sample


async def test_retention_loop_runs_and_cancels(tmp_path: Path) -> None:
    old = tmp_path / "2020-01-01/c1/call.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x")
    os.utime(old, (0, 0))
    task = asyncio.create_task(retention_loop(tmp_path, 30, interval=0.05))
    for _ in range(100):
        if not old.exists():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not old.exists()
