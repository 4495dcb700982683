"""Composition helpers the `hotline` command wires: the IVR store, server and prompt CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from hotline.bus import EventBus
from hotline.settings import Settings
from hotline.yamlconf import ConfigError, ConfigIssue
from ivr.config import IvrConfig, VoiceConfig, load_ivr_config
from ivr.ports import RouterPort, SpeechPort, TicketPort
from ivr.prompts import (
    PromptCatalog,
    build_prompts,
    build_queue_sounds,
    catalog_for,
    sounds_root,
)
from ivr.runner import IvrServices
from ivr.server import IvrServer
from ivr.store import IvrStore, PreparePrompts

log = logging.getLogger(__name__)


def ivr_file(settings: Settings) -> Path:
    return settings.config_path / "ivr.yaml"


def overrides_dir(settings: Settings) -> Path:
    return settings.config_path / "prompts"


def lang_dir(settings: Settings, sounds: Path | None = None) -> Path:
    """Where Asterisk looks for `language=zh` sounds (the sandbox's, unless given)."""
    return (sounds or sounds_root(settings.sandbox.root)) / "zh"


def make_prepare(settings: Settings, sounds: Path | None = None) -> PreparePrompts:
    target = lang_dir(settings, sounds)
    overrides = overrides_dir(settings)

    def prepare(config: IvrConfig) -> PromptCatalog:
        if not target.parent.is_dir():
            log.warning("Asterisk sounds folder %s not found: prompts not built", target.parent)
            return catalog_for(config, overrides)
        try:
            catalog, report = build_prompts(config, target, overrides)
        except (OSError, RuntimeError) as exc:
            raise ConfigError([ConfigIssue(config.file, 1, f"提示音生成失败: {exc}",
                                           f"prompt synthesis failed: {exc}")]) from exc
        if report.built or report.overridden:
            log.info("prompts: %d synthesised, %d recorded overrides, %d cached",
                     len(report.built), len(report.overridden), len(report.cached))
        return catalog

    return prepare


def make_ivr_store(settings: Settings, sounds: Path | None = None) -> IvrStore:
    return IvrStore(ivr_file(settings), make_prepare(settings, sounds))


def build_missing_prompts(settings: Settings, sounds: Path | None = None) -> PromptCatalog:
    """For `hotline run`: synthesise what is missing (menus, queue and digit sounds)."""
    config = load_ivr_config(ivr_file(settings))
    catalog = make_prepare(settings, sounds)(config)
    target = lang_dir(settings, sounds)
    if target.parent.is_dir():
        build_queue_sounds(target, config.voice, overrides_dir(settings))
    return catalog


@contextlib.asynccontextmanager
async def ivr_service(settings: Settings, bus: EventBus | None = None,
                      speech: SpeechPort | None = None, router: RouterPort | None = None,
                      tickets: TicketPort | None = None,
                      sounds: Path | None = None) -> AsyncIterator[IvrServer]:
    """The IVR's lifetime for `hotline run`: menus loaded, FastAGI listening, file watched."""
    store = make_ivr_store(settings, sounds)
    issues = await asyncio.to_thread(store.load)
    if issues:
        raise ConfigError(issues)
    server = IvrServer(IvrServices(store, bus, speech, router, tickets),
                       settings.agi.host, settings.agi.port)
    await server.start()
    stop = asyncio.Event()
    watcher = asyncio.create_task(store.watch(stop), name="ivr-yaml-watch")
    try:
        yield server
    finally:
        stop.set()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await server.close()


def prompts_main(argv: list[str], settings: Settings) -> int:
    """`hotline prompts build [--force] [--sounds DIR] [--voice VOICE]`."""
    parser = argparse.ArgumentParser(prog="hotline prompts")
    parser.add_argument("action", choices=["build"])
    parser.add_argument("--force", action="store_true", help="re-synthesise cached prompts")
    parser.add_argument("--sounds", type=Path, default=None,
                        help="Asterisk sounds folder (default: the sandbox's)")
    parser.add_argument("--voice", default=None, help="espeak-ng voice (default: ivr.yaml's)")
    args = parser.parse_args(argv)
    config = load_ivr_config(ivr_file(settings))
    voice = VoiceConfig(args.voice or config.voice.voice, config.voice.speed)
    if args.voice:
        from dataclasses import replace
        config = replace(config, voice=voice)
    target = lang_dir(settings, args.sounds)
    if not target.parent.is_dir():
        print(f"找不到 Asterisk 声音目录 / sounds folder not found: {target.parent} "
              "(hotline sandbox up, or --sounds DIR)")
        return 1
    _, report = build_prompts(config, target, overrides_dir(settings), force=args.force)
    queue = build_queue_sounds(target, voice, overrides_dir(settings), force=args.force)
    print(f"menu prompts: {len(report.built)} synthesised, {len(report.overridden)} recorded, "
          f"{len(report.cached)} cached -> {target}")
    print(f"queue/digit sounds: {len(queue.built)} synthesised, {len(queue.overridden)} recorded, "
          f"{len(queue.cached)} cached")
    return 0
