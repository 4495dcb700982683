"""Building the speech service for the composition root."""

from __future__ import annotations

import logging

from asr.engine import SpeechEngine
from asr.model import ModelMissing, ModelStatus, inspect_model, status_missing, status_ok
from asr.service import SpeechService
from asr.settings import asr_settings, model_path, search_overlays_path
from hotline.bus import EventBus
from hotline.settings import Settings
from recordings.settings import recordings_path
from recordings.store import RecordingStore

log = logging.getLogger(__name__)


def speech_status(settings: Settings) -> ModelStatus:
    """Whether the configured model is installed (no loading: cheap enough for /status)."""
    path = model_path(settings)
    try:
        inspect_model(path)
    except ModelMissing as exc:
        return status_missing(exc)
    return status_ok(path)


async def build_speech_service(settings: Settings, bus: EventBus) -> SpeechService:
    """The speech service, with the model loaded off the event loop.

    A missing or broken model is logged with the folder and the install command, and
    the service still comes up: every `open_session` returns None (key menus only),
    and `service.status` says why for /status.
    """
    asr = asr_settings(settings)
    store = RecordingStore(recordings_path(settings))
    try:
        engine = await SpeechEngine.open(model_path(settings, asr), max_streams=asr.max_streams,
                                         threads=asr.threads, search=asr.search(),
                                         overlays=search_overlays_path(settings))
    except ModelMissing as exc:
        log.error("%s", exc)
        return SpeechService(None, bus, asr, store, status_missing(exc))
    return SpeechService(engine, bus, asr, store, owns_engine=True)
