"""Audio conversion with pydub (PCM WAV and raw signed linear need no ffmpeg)."""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pydub imports the deprecated audioop and warns when ffmpeg is absent; PCM WAV and
    # raw signed linear, all this code converts, need neither warning.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment


def load_pcm(path: Path, rate: int) -> bytes:
    """Any PCM WAV (or a format ffmpeg knows) as 16-bit mono signed linear at `rate`."""
    if path.suffix in (".sln", ".raw"):
        segment = AudioSegment.from_raw(str(path), sample_width=2, frame_rate=8000, channels=1)
    elif path.suffix == ".sln16":
        segment = AudioSegment.from_raw(str(path), sample_width=2, frame_rate=16000, channels=1)
    else:
        segment = AudioSegment.from_file(str(path))
    segment = segment.set_channels(1).set_sample_width(2).set_frame_rate(rate)
    return bytes(segment.raw_data)


def to_wav(source: Path, target: Path, rate: int = 8000) -> Path:
    """Convert a recording to 16-bit mono WAV at `rate` (8 kHz suits telephone playback)."""
    pcm = load_pcm(source, rate)
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
    target.parent.mkdir(parents=True, exist_ok=True)
    segment.export(str(target), format="wav")
    return target
