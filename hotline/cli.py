"""The `hotline` console command: parses arguments and hands over to one module per verb."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.logs import setup_logging
from hotline.settings import load_settings
from hotline.yamlconf import ConfigError


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        settings = load_settings(args.config)
        if args.command == "run":
            from hotline.app import run_service

            return run_service(settings)
        if args.command == "sandbox":
            from hotline.sandbox import run_sandbox_command

            return run_sandbox_command(settings, args.action)
        if args.command == "ami" and args.ami_command == "replay":
            from ami_bridge.replay import replay_capture

            return replay_capture(args.capture, args.chunk_size, sys.stdout)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
