"""`hotline asr install-model --from ZIP` and the missing-model paths of the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from asr.bootstrap import speech_status
from asr.cli import asr_main, transcribe_main
from asr.install import RECORD_FILE
from hotline.settings import Settings

MODEL_FILES = ("am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst")


def make_zip(path: Path, names: list[str], top: str = "vosk-model-small-cn-0.22") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(f"{top}/{name}" if top else name, b"model data")
    return path


def test_install_from_zip_records_sha256(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    assert not speech_status(settings).ready
    zip_path = make_zip(tmp_path / "m.zip", list(MODEL_FILES))
    out = io.StringIO()
    assert asr_main(["install-model", "small-cn", "--from", str(zip_path)], settings, out) == 0
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert f"SHA-256: {digest}" in out.getvalue()
    installed = tmp_path / "models" / "vosk-model-small-cn-0.22"
    assert json.loads((installed / RECORD_FILE).read_text())["sha256"] == digest
    assert (installed / "am/final.mdl").read_bytes() == b"model data"
    assert speech_status(settings).ready
    assert not list((tmp_path / "models").glob(".install-*"))
    # A second install needs --force, and then replaces the folder.
    assert asr_main(["install-model", "small-cn", "--from", str(zip_path)], settings, out) == 1
    assert asr_main(["install-model", "small-cn", "--from", str(zip_path), "--force"],
                    settings, out) == 0


@pytest.mark.parametrize(
    ("names", "top", "message"),
    [
        (["../evil", *MODEL_FILES], "vosk-model-small-cn-0.22", "unsafe path"),
        (["/etc/passwd"], "", "unsafe path"),
        (["a/am/final.mdl", "b/conf/mfcc.conf"], "", "exactly one model folder"),
        (["am/final.mdl", "conf/mfcc.conf"], "vosk-model-small-cn-0.22", "not a valid Vosk model"),
    ],
)
def test_bad_zips_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          names: list[str], top: str, message: str) -> None:
    settings = Settings(data_dir=str(tmp_path))
    zip_path = make_zip(tmp_path / "bad.zip", names, top)
    assert asr_main(["install-model", "small-cn", "--from", str(zip_path)], settings) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "models" / "vosk-model-small-cn-0.22").exists()
    assert not (tmp_path / "etc").exists()


def test_not_a_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    settings = Settings(data_dir=str(tmp_path))
    assert asr_main(["install-model", "cn", "--from", str(tmp_path / "x.zip")], settings) == 1
    assert "not a zip file" in capsys.readouterr().err


def test_transcribe_without_model_says_how_to_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(data_dir=str(tmp_path))
    assert transcribe_main([str(tmp_path / "a.wav")], settings) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "models" / "vosk-model-small-cn-0.22") in err
    assert "hotline asr install-model small-cn" in err
