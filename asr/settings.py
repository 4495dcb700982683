"""Speech settings, with the product defaults.

`hotline.settings.Settings` is owned by the service; until it carries an `asr`
field of this type, `asr_settings()` falls back to these defaults, so the speech
code can be wired without a config change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from asr.model import SearchSettings

if TYPE_CHECKING:  # hotline.settings will hold these settings: no import cycle
    from hotline.settings import Settings

DEFAULT_MODEL = "vosk-model-small-cn-0.22"


@dataclass(frozen=True)
class AsrSettings:
    # Folder holding installed models, relative to the data dir unless absolute.
    models_dir: str = "models"
    # The model folder's name inside models_dir (or an absolute path).
    model: str = DEFAULT_MODEL
    # Simultaneous recognitions admitted; beyond it callers get the key menu.
    # `python -m bench.asr --max-calls 12` on this 2-core machine (AMD EPYC), sandbox Asterisk
    # idle beside it, fake Asterisk clients in their own process, load average 0.7-1.2
    # (warm pool, median of 3 rounds): 10 calls at p95 decoding lag 111 ms, 12 calls 221 ms
    # (rounds 89/221/512 ms), server 1.31 and 1.50 cores; a second run (load 0.9-1.4):
    # 10 calls 169 ms, 12 calls 398 ms. 10, not 12: 12 is at the knee, and a real Asterisk
    # carrying the calls uses CPU the idle sandbox does not. The earlier 10 calls at 734 ms
    # did not reproduce on a quiet machine (clients in the server's process, as then, gave
    # 164 ms); while other work loads it (load average 2-4) the same command gives 2-6
    # calls. Re-run the benchmark on the production host, quiet; put its figure here.
    max_streams: int = 10
    # Recognition threads; 0 means "number of cores". The BLAS inside vosk starts no threads
    # of its own (measured: one thread per process while decoding, same speed with
    # OPENBLAS/OMP/MKL_NUM_THREADS=1), so these are the only decoding threads.
    threads: int = 0
    # Decoder beam search; 0 keeps the model's own conf/model.conf values (the default:
    # the model's authors tuned them). Smaller values decode faster but change the text:
    # on the benchmark's 12 sentences (test model, whose own values are max-active 3000,
    # beam 10) max-active 2000 cut steady-state CPU per stream by about a quarter and
    # changed 3 of 12 transcripts (about 6% of characters); beam 8 roughly halved it and
    # changed 10 of 12 (about 29%). espeak-ng speech cannot say whether that is worse,
    # so lower them only after measuring accuracy on real recordings of your callers
    # (`python -m bench.asr --max-active N --beam B` prints speed and the text change).
    max_active: int = 0
    beam: float = 0.0
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

    def search(self) -> SearchSettings:
        return SearchSettings(self.max_active, self.beam)


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


def search_overlays_path(settings: Settings) -> Path:
    """Where model folders with overridden search settings are linked (see asr.model)."""
    return settings.data_path / "asr-search"
