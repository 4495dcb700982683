"""Command-line verbs of the speech part: `hotline asr install-model` and `hotline transcribe`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from asr.engine import load_model, new_decoder, transcribe_pcm
from asr.install import (
    KNOWN_MODELS,
    MODEL_SITE,
    InstallError,
    check_site,
    install_known,
    install_zip,
)
from asr.model import ModelMissing
from asr.settings import asr_settings, model_path, models_path
from hotline.settings import Settings
from recordings.convert import load_pcm


def asr_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline asr", description="speech model tools")
    sub = parser.add_subparsers(dest="action", required=True)
    install = sub.add_parser("install-model", help="install a Vosk model (download or --from zip)")
    install.add_argument("model", choices=sorted(KNOWN_MODELS),
                         help="small-cn: vosk-model-small-cn-0.22 (42 MB); cn: the 1.3 GB model")
    origin = install.add_mutually_exclusive_group()
    origin.add_argument("--from", dest="source", type=Path, default=None,
                        help="install this zip carried in by hand instead of downloading")
    origin.add_argument("--site", default=MODEL_SITE,
                        help=f"https site (or mirror) serving <model>.zip; default {MODEL_SITE}")
    install.add_argument("--force", action="store_true", help="replace an installed model")
    return parser


def asr_main(argv: list[str], settings: Settings, out: TextIO = sys.stdout) -> int:
    """`hotline asr ...`: returns the process exit code."""
    args = asr_parser().parse_args(argv)
    target_dir = models_path(settings)
    try:
        if args.source is not None:
            installed = install_zip(args.source, target_dir, force=args.force)
        else:
            check_site(args.site)  # refused before a progress bar is drawn
            bar = tqdm(unit="B", unit_scale=True, desc=KNOWN_MODELS[args.model], file=sys.stderr)

            def progress(done: int, total: int) -> None:
                bar.total = total or None
                bar.update(done - bar.n)

            try:
                installed = install_known(args.model, target_dir, progress, force=args.force,
                                          site=args.site)
            finally:
                bar.close()
    except InstallError as exc:
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return 1
    print(f"模型已安装 / model installed: {installed.path}", file=out)
    print(f"SHA-256: {installed.sha256}", file=out)
    configured = model_path(settings)
    if installed.path.resolve() != configured.resolve():
        print(f"注意: 当前配置使用的模型是 {configured}; 如需使用新模型请修改 asr.model 设置 "
              f"(note: the configured model is {configured}; set asr.model to use this one)",
              file=out)
    return 0


def transcribe_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline transcribe",
                                     description="transcribe recordings with the installed model")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: file, text, seconds, error")
    return parser


def transcribe_main(argv: list[str], settings: Settings, out: TextIO = sys.stdout) -> int:
    """`hotline transcribe FILES... [--json]`: text of each file, a progress bar on stderr.

    Exit code 0 when every file was transcribed, 1 when some could not be read, 2 when
    there is no model.
    """
    args = transcribe_parser().parse_args(argv)
    path = model_path(settings, asr_settings(settings))
    try:
        model, layout = load_model(path)
    except ModelMissing as exc:
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return 2
    decoder = new_decoder(model, layout.sample_rate)  # one warm recognizer for every file
    failures = 0
    for file in tqdm(args.files, desc="transcribe", unit="file", file=sys.stderr):
        started = time.monotonic()
        try:
            pcm = load_pcm(file, layout.sample_rate)
        except (OSError, ValueError, IndexError) as exc:
            failures += 1
            _emit(out, args.json, file, None, 0.0, f"cannot read: {exc}")
            continue
        text = transcribe_pcm(model, pcm, layout.sample_rate, decoder)
        _emit(out, args.json, file, text, time.monotonic() - started, None)
    return 1 if failures else 0


def _emit(out: TextIO, as_json: bool, file: Path, text: str | None, seconds: float,
          error: str | None) -> None:
    if as_json:
        record = {"file": str(file), "text": text, "seconds": round(seconds, 3), "error": error}
        print(json.dumps(record, ensure_ascii=False), file=out, flush=True)
    elif error:
        print(f"{file}\t!{error}", file=out, flush=True)
    else:
        print(f"{file}\t{text}", file=out, flush=True)
