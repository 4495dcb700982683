"""Installing a Vosk model: downloaded from the Vosk site, or from a zip carried in by hand.

Government networks are often offline, so `--from FILE` is the main path: the zip's
members are checked (one top folder, no absolute or `..` paths), it is extracted next
to the target, its layout is checked, and only then does it replace the target
folder. The zip's SHA-256 is printed and kept in the model folder, so an auditor can
compare it with the published one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from asr.model import layout_problems

MODEL_SITE = "https://alphacephei.com/vosk/models"
KNOWN_MODELS = {
    "small-cn": "vosk-model-small-cn-0.22",
    "cn": "vosk-model-cn-0.22",
}
RECORD_FILE = "hotline-model.json"


class InstallError(Exception):
    """The model could not be installed; `zh` and `en` say why."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en
        super().__init__(f"{zh} ({en})")


@dataclass(frozen=True)
class Installed:
    path: Path
    sha256: str
    source: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def top_folder(archive: zipfile.ZipFile) -> str:
    """The single top-level folder every member lives in; InstallError otherwise."""
    tops: set[str] = set()
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise InstallError(f"压缩包含有不安全的路径: {info.filename}",
                               f"unsafe path in zip: {info.filename}")
        if info.external_attr >> 28 == 0o12:  # a symlink entry
            raise InstallError(f"压缩包含有符号链接: {info.filename}",
                               f"symlink in zip: {info.filename}")
        tops.add(name.parts[0])
    if len(tops) != 1:
        raise InstallError("压缩包应只包含一个模型文件夹",
                           f"zip must hold exactly one model folder, found {sorted(tops)}")
    return tops.pop()


def install_zip(zip_path: Path, models_dir: Path, source: str | None = None,
                force: bool = False) -> Installed:
    """Check and install a model zip into `models_dir/<its folder name>`."""
    if not zipfile.is_zipfile(zip_path):
        raise InstallError(f"不是 zip 文件: {zip_path}", f"not a zip file: {zip_path}")
    digest = sha256_of(zip_path)
    models_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        name = top_folder(archive)
        target = models_dir / name
        if target.exists() and not force:
            raise InstallError(f"模型已存在: {target} (使用 --force 覆盖)",
                               f"model already installed at {target} (use --force)")
        with tempfile.TemporaryDirectory(dir=models_dir, prefix=".install-") as tmp:
            archive.extractall(tmp)  # members checked by top_folder above
            extracted = Path(tmp) / name
            problems = layout_problems(extracted)
            if problems:
                raise InstallError(f"不是有效的 Vosk 模型: {'; '.join(problems)}",
                                   f"not a valid Vosk model: {'; '.join(problems)}")
            record = {"source": source or str(zip_path), "sha256": digest,
                      "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            (extracted / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n")
            if target.exists():
                old = Path(tmp) / ".replaced"
                target.rename(old)
            extracted.rename(target)
    return Installed(target, digest, source or str(zip_path))


def download(url: str, dest: Path, progress: Callable[[int, int], None]) -> None:
    """Fetch `url` into `dest` (machines with internet only)."""
    if not url.startswith("https://"):
        raise InstallError("只允许 https 下载", "only https downloads are allowed")
    with urllib.request.urlopen(url, timeout=60) as response, dest.open("wb") as out:  # noqa: S310
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while block := response.read(1 << 20):
            out.write(block)
            done += len(block)
            progress(done, total)


def install_known(key: str, models_dir: Path, progress: Callable[[int, int], None],
                  force: bool = False) -> Installed:
    """Download one of KNOWN_MODELS from the Vosk site and install it."""
    name = KNOWN_MODELS[key]
    url = f"{MODEL_SITE}/{name}.zip"
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as tmp:
        zip_path = Path(tmp) / f"{name}.zip"
        try:
            download(url, zip_path, progress)
        except OSError as exc:
            raise InstallError(
                f"无法下载 {url}: {exc}。离线环境请用 --from 指定拷入的 zip 文件",
                f"cannot download {url}: {exc}; offline, use --from with a copied zip",
            ) from exc
        return install_zip(zip_path, models_dir, source=url, force=force)


def remove_partial(models_dir: Path) -> None:
    """Leftovers of an interrupted install (temporary folders) are removed."""
    for leftover in models_dir.glob(".install-*"):
        shutil.rmtree(leftover, ignore_errors=True)
