"""The `hotline` console command: parses arguments and hands over to one module per verb."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.logs import setup_logging
from hotline.settings import load_settings
from hotline.yamlconf import ConfigError

# Verbs whose own module parses the rest of the command line.
DELEGATED = ("route", "prompts", "asr", "transcribe", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 hotline telephony service")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="service settings YAML (default: embedded defaults)",
    )
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="start the service")

    sandbox = sub.add_parser("sandbox", help="the local Asterisk sandbox (Debian sid chroot)")
    sandbox.add_argument("action", choices=["up", "down", "status"])

    ami = sub.add_parser("ami", help="AMI tools")
    ami_sub = ami.add_subparsers(dest="ami_command", required=True)
    replay = ami_sub.add_parser("replay", help="parse a captured AMI byte stream, print JSON lines")
    replay.add_argument("capture", type=Path)
    replay.add_argument(
        "--chunk-size",
        type=int,
        default=0,
        help="feed the parser this many bytes at a time (0: whole file)",
    )

    check = sub.add_parser("check-config", help="validate every YAML file the service reads")
    check.add_argument("dir", type=Path, nargs="?", default=None)
    check.add_argument(
        "--require-keys", action="store_true", help="also fail when a 110 partner key is not set"
    )

    db = sub.add_parser("db", help="the ticket database")
    db.add_argument("action", choices=["upgrade"])

    users = sub.add_parser("hash-password", help="print an argon2 hash for config/users.yaml")
    users.add_argument("--password-stdin", action="store_true")

    for verb, text in (
        ("route", "routing: route TEXT | eval FILE | retrain"),
        ("prompts", "build the IVR prompts"),
        ("asr", "speech models: install-model"),
        ("transcribe", "transcribe recordings"),
        ("demo", "place a few calls into the sandbox (service running)"),
    ):
        sub.add_parser(verb, help=text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in DELEGATED:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    setup_logging(args.log_level)
    try:
        settings = load_settings(args.config)
        match args.command:
            case "run":
                from hotline.app import run_service

                return run_service(settings)
            case "sandbox":
                from hotline.sandbox import run_sandbox_command

                return run_sandbox_command(settings, args.action)
            case "ami":
                from ami_bridge.replay import replay_capture

                return replay_capture(args.capture, args.chunk_size, sys.stdout)
            case "check-config":
                from hotline.check_config import check_config

                return check_config(args.dir or settings.config_path, sys.stdout, args.require_keys)
            case "db":
                from tickets.engine import make_engine
                from tickets.migrate import upgrade

                upgrade(make_engine(settings.effective_database_url))
                print("database schema is up to date")
                return 0
            case "hash-password":
                import getpass

                from desk.users import hash_password

                password = (
                    sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
                )
                print(hash_password(password))
                return 0
            case "route":
                from routing.cli import route_main

                return route_main(rest, settings)
            case "prompts":
                from ivr.service import prompts_main

                return prompts_main(rest, settings)
            case "asr":
                from asr.cli import asr_main

                return asr_main(rest, settings)
            case "demo":
                from hotline.demo import demo_main

                return demo_main(rest, settings)
            case "transcribe":
                from asr.cli import transcribe_main

                return transcribe_main(rest, settings)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
