"""Run the outbox sender alone: `python -m police110.worker_main --db URL --partners FILE`.

Used where the sender should live in its own process (and by the crash test, which kills
it with SIGKILL mid-send and starts it again). SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from pathlib import Path

import aiohttp

from hotline.logs import setup_logging
from hotline.yamlconf import ConfigError
from police110.outbox import OutboxSender
from police110.partners import ExchangeConfig, load_partners
from police110.store import Police110Store


def _with_urls(config: ExchangeConfig, overrides: list[str]) -> ExchangeConfig:
    partners = dict(config.partners)
    for item in overrides:
        partner_id, sep, url = item.partition("=")
        if not sep or partner_id not in partners:
            raise SystemExit(f"--partner-url {item!r}: expected ID=URL with a configured ID")
        partners[partner_id] = dataclasses.replace(partners[partner_id], base_url=url.rstrip("/"))
    return dataclasses.replace(config, partners=partners)


async def _run(config: ExchangeConfig, store: Police110Store) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(OutboxSender(config, store, session).run())
        await stop.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m police110.worker_main")
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the database")
    parser.add_argument("--partners", type=Path, required=True, help="partners YAML")
    parser.add_argument("--partner-url", action="append", default=[], metavar="ID=URL",
                        help="override a partner's base_url (repeatable)")
    parser.add_argument("--create-tables", action="store_true",
                        help="create the police110_ tables when missing (tests, no Alembic)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        config = _with_urls(load_partners(args.partners), args.partner_url)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    store = Police110Store.from_url(args.db)
    if args.create_tables:
        store.create_tables()
    asyncio.run(_run(config, store))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
