"""Speech settings, with the product defaults.

`hotline.settings.Settings` is owned by the service; until it carries an `asr`
field of this type, `asr_settings()` falls back to these defaults, so the speech
code can be wired without a config change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # hotline.settings will hold these settings: no import cycle
    from hotline.settings import Settings

DEFAULT_MODEL = "vosk-model-small-cn-0.22"


@dataclass(frozen=True)
class AsrSettings:
    # Folder holding installed models, relative to the data dir unless absolute.
    models_dir: str = "models"
    # The model folder's name inside models_dir (or an absolute path).
    model: str = DEFAULT_MODEL
    # Simultaneous recognitions admitted; beyond it callers get the key menu. 2 is what
    # `python -m bench.asr` on a quiet 2-core machine with the sandbox Asterisk idle beside it
    # (warm pool, median of 3 rounds): 8 calls at p95 decoding lag 214 ms, 10 calls 734 ms.
    # Re-run the benchmark on the production host and put its figure here or in config.
    max_streams: int = 8
    # Recognition threads; 0 means "number of cores".
    threads: int = 0
    # Host the AGI command tells Asterisk to dial for AudioSocket.
    advertise_host: str = "127.0.0.1"
    # Sample rate requested from Asterisk: 16000 gives c(slin16), else c(slin) 8 kHz.
    leg_rate: int = 16000
    # Seconds of silence after speech that end the caller's turn.
    end_silence: float = 1.0
    # Seconds the caller gets to start talking before the turn ends empty.
    no_input_timeout: float = 6.0
    # Hard cap on one turn: a monologue is cut here.
    max_duration: float = 60.0
    # Seconds Asterisk gets to connect after the IVR sent the Dial command.
    connect_timeout: float = 5.0
    # RMS (16-bit scale) above which a 20 ms frame counts as voice.
    voice_rms: int = 500


def asr_settings(settings: Settings) -> AsrSettings:
    """The speech settings carried by the service settings, or the defaults."""
    value = getattr(settings, "asr", None)
    return value if isinstance(value, AsrSettings) else AsrSettings()


def model_path(settings: Settings, asr: AsrSettings | None = None) -> Path:
    """Absolute folder of the configured model."""
    asr = asr or asr_settings(settings)
    model = Path(asr.model)
    if model.is_absolute():
        return model
    return models_path(settings, asr) / model


def models_path(settings: Settings, asr: AsrSettings | None = None) -> Path:
    asr = asr or asr_settings(settings)
    base = Path(asr.models_dir)
    return base if base.is_absolute() else settings.data_path / base
