"""The recognition engine: one Vosk model, a pool of warm recognizers, a bounded executor.

A recognizer reused after `FinalResult()` decodes about 2.5x faster than a new one
(its graph cache is warm), so free-speech recognizers are created once at start and
handed out again and again. Every Vosk call runs on the engine's thread pool,
sized to the cores: the event loop only awaits. Admission is decided without
waiting: `try_acquire()` returns None when the limit is reached, and the IVR then
offers the key menu instead of making the caller wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vosk

from asr.model import ModelLayout, SearchSettings, inspect_model, search_overlay
from asr.pcm import strip_leading_zeros
from asr.text import join_segments, result_text

log = logging.getLogger(__name__)

# Audio is handed to Vosk in slices of this many milliseconds, always the same, so a
# stream gives the same text whether it came over AudioSocket or from a file.
CHUNK_MS = 20


def chunk_bytes(rate: int) -> int:
    return rate * CHUNK_MS // 1000 * 2


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def load_model(path: Path, search: SearchSettings | None = None,
               overlays: Path | None = None) -> tuple[Any, ModelLayout]:
    """Load a model by path (blocking, 1-3 s): never call on the event loop.

    `search` overrides the model's beam-search settings through an overlay folder
    made in `overlays` (required then); the layout still names the installed folder.
    """
    layout = inspect_model(path)
    folder = path
    if search is not None and search.overrides():
        if overlays is None:
            raise ValueError("search overrides need a folder for the overlay")
        folder = search_overlay(path, search, overlays)
    vosk.SetLogLevel(-1)
    return vosk.Model(str(folder)), layout


@dataclass
class Decoder:
    """One Vosk recognizer plus the text of the segments it has finished.

    Only ever used by one thread at a time (the owning Recognition serializes calls).
    """

    recognizer: Any
    segments: list[str]
    grammar: bool = False

    def accept(self, chunks: Sequence[bytes], want_partial: bool) -> str | None:
        for chunk in chunks:
            if self.recognizer.AcceptWaveform(chunk):
                self.segments.append(result_text(self.recognizer.Result()))
        if not want_partial:
            return None
        partial = result_text(self.recognizer.PartialResult(), "partial")
        return join_segments([*self.segments, partial])

    def finish(self) -> str:
        # FinalResult also resets the recognizer, which is what makes it reusable.
        self.segments.append(result_text(self.recognizer.FinalResult()))
        text = join_segments(self.segments)
        self.segments = []
        return text


def new_decoder(model: Any, rate: int, grammar: Sequence[str] | None = None) -> Decoder:
    if grammar is None:
        return Decoder(vosk.KaldiRecognizer(model, rate), [])
    # An unknown-word entry lets "none of these" win instead of forcing a wrong match;
    # its spelling differs between models, so use whichever the model knows.
    unknown = [w for w in ("[unk]", "<UNK>") if model.vosk_model_find_word(w) >= 0][:1]
    phrases = json.dumps([*grammar, *unknown], ensure_ascii=False)
    return Decoder(vosk.KaldiRecognizer(model, rate, phrases), [], grammar=True)


def transcribe_pcm(model: Any, pcm: bytes, rate: int, decoder: Decoder | None = None) -> str:
    """Text of a whole signed-linear recording at the model's rate (blocking).

    Pass the same `decoder` for many files: a reused recognizer is warm (faster).
    """
    decoder = decoder or new_decoder(model, rate)
    pcm = strip_leading_zeros(pcm)  # as the live path does
    size = chunk_bytes(rate)
    decoder.accept([pcm[i : i + size] for i in range(0, len(pcm), size)], want_partial=False)
    return decoder.finish()


class Recognition:
    """One admitted stream: feed audio, get partial text, finish for the transcript.

    Calls are serialized with a lock because a recognizer must never be used by two
    threads at once. `finish()` and `abandon()` give the recognizer back; both are
    safe to call more than once.
    """

    def __init__(self, engine: SpeechEngine, decoder: Decoder | None,
                 grammar: Sequence[str] | None) -> None:
        self._engine = engine
        self._decoder = decoder
        self._grammar = tuple(grammar) if grammar is not None else None
        self._lock = asyncio.Lock()
        self._done = False
        self.sample_rate = engine.sample_rate

    async def _ensure_decoder(self) -> Decoder:
        if self._decoder is None:
            self._decoder = await self._engine.run(
                new_decoder, self._engine.model, self.sample_rate, self._grammar)
        return self._decoder

    async def accept(self, chunks: Sequence[bytes], want_partial: bool = True) -> str | None:
        """Feed audio slices (model rate); return the text so far when asked."""
        async with self._lock:
            if self._done:
                raise RuntimeError("recognition already finished")
            decoder = await self._ensure_decoder()
            text: str | None = await self._engine.run(decoder.accept, list(chunks), want_partial)
            return text

    async def finish(self) -> str:
        """The final transcript; the recognizer goes back to the pool."""
        async with self._lock:
            if self._done:
                return ""
            self._done = True
            decoder = self._decoder
            self._decoder = None
            text = ""
            try:
                # After close() (service shutdown) the executor is gone: just give it back.
                if decoder is not None and not self._engine.closed:
                    text = await self._engine.run(decoder.finish)
            finally:
                self._engine.release(decoder)
            return text

    async def abandon(self) -> None:
        """Give the recognizer back without caring for the text (it is still reset)."""
        await self.finish()

    @property
    def finished(self) -> bool:
        return self._done


class SpeechEngine:
    """Shared model, warm recognizer pool and executor; built once by the composition root."""

    def __init__(self, model: Any, layout: ModelLayout, *, max_streams: int,
                 threads: int = 0, reuse: bool = True) -> None:
        if max_streams < 1:
            raise ValueError("max_streams must be at least 1")
        self.model = model
        self.layout = layout
        self.sample_rate = layout.sample_rate
        self.max_streams = max_streams
        self.reuse = reuse
        self._executor = ThreadPoolExecutor(max_workers=threads or default_threads(),
                                            thread_name_prefix="asr")
        self._free: list[Decoder] = []
        self._active = 0
        self._closed = False

    @classmethod
    async def open(cls, path: Path, *, max_streams: int, threads: int = 0,
                   reuse: bool = True, prewarm: bool = True,
                   search: SearchSettings | None = None,
                   overlays: Path | None = None) -> SpeechEngine:
        """Load the model and create the pool off the event loop."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr-load") as loader:
            model, layout = await loop.run_in_executor(loader, load_model, path, search,
                                                       overlays)
        engine = cls(model, layout, max_streams=max_streams, threads=threads, reuse=reuse)
        if prewarm and reuse:
            await engine.prewarm()
        return engine

    async def prewarm(self) -> None:
        """Create every pooled recognizer now, so admission never waits for one."""
        missing = self.max_streams - len(self._free) - self._active
        decoders = await asyncio.gather(
            *(self.run(new_decoder, self.model, self.sample_rate) for _ in range(missing)))
        self._free.extend(decoders)

    async def run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def active(self) -> int:
        return self._active

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def supports_grammar(self) -> bool:
        return self.layout.supports_grammar

    def try_acquire(self, grammar: Sequence[str] | None = None) -> Recognition | None:
        """A recognition slot now, or None when every slot is busy (offer the key menu).

        With `grammar` (short answers: yes/no, digits) the recognizer only chooses
        among those phrases; it is built on first use, because a grammar recognizer
        cannot be reused for free speech. Models without a lookahead graph ignore
        grammars, so free speech is used for them.
        """
        if self._closed or self._active >= self.max_streams:
            return None
        self._active += 1
        if grammar is not None and self.supports_grammar:
            return Recognition(self, None, grammar)
        decoder = self._free.pop() if self._free else None
        return Recognition(self, decoder, None)

    def release(self, decoder: Decoder | None) -> None:
        self._active -= 1
        if decoder is not None and self.reuse and not decoder.grammar and not self._closed:
            self._free.append(decoder)

    async def close(self) -> None:
        self._closed = True
        self._free.clear()
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self._executor.shutdown(wait=True))
