"""Recording settings, with the product defaults.

Until `hotline.settings.Settings` carries a `recordings` field of this type,
`recording_settings()` returns the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # hotline.settings will hold these settings: no import cycle
    from hotline.settings import Settings


@dataclass(frozen=True)
class RecordingSettings:
    # Folder for all recordings (the service's speech files and Asterisk's MixMonitor files,
    # so both must see it), relative to the data dir unless absolute. Empty: the sandbox
    # Asterisk's folder (/var/spool/asterisk/hotline inside its chroot).
    dir: str = ""
    # Days a recording is kept; 0 keeps them forever.
    retention_days: int = 180


def recording_settings(settings: Settings) -> RecordingSettings:
    value = getattr(settings, "recordings", None)
    return value if isinstance(value, RecordingSettings) else RecordingSettings()


SANDBOX_RECORDINGS = "var/spool/asterisk/hotline"


def recordings_path(settings: Settings) -> Path:
    configured = recording_settings(settings).dir
    if not configured:
        return Path(settings.sandbox.root) / SANDBOX_RECORDINGS
    base = Path(configured)
    return base if base.is_absolute() else settings.data_path / base
