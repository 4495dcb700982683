"""Installing a Vosk model: downloaded from the Vosk site, or from a zip carried in by hand.

Government networks are often offline, so `--from FILE` is the main path: the zip's
members are checked (one top folder, no absolute or `..` paths), it is extracted next
to the target, its layout is checked, and only then does it replace the target
folder. The zip's SHA-256 is printed and kept in the model folder, so an auditor can
compare it with the published one.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import ssl
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

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
                force: bool = False, expected_folder: str | None = None) -> Installed:
    """Check and install a model zip into `models_dir/<its folder name>`.

    Nothing changes in `models_dir` unless the whole zip extracts and passes the layout
    check: extraction goes to a temporary folder that is removed on any failure.
    """
    if not zipfile.is_zipfile(zip_path):
        raise InstallError(f"不是 zip 文件 (可能下载不完整或已损坏): {zip_path}",
                           f"not a zip file (incomplete or damaged?): {zip_path}")
    digest = sha256_of(zip_path)
    models_dir.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            name = top_folder(archive)
            if expected_folder is not None and name != expected_folder:
                raise InstallError(
                    f"压缩包中的模型文件夹是 {name}, 应为 {expected_folder}",
                    f"the zip holds the folder {name}, expected {expected_folder}")
            target = models_dir / name
            if target.exists() and not force:
                raise InstallError(f"模型已存在: {target} (使用 --force 覆盖)",
                                   f"model already installed at {target} (use --force)")
            with tempfile.TemporaryDirectory(dir=models_dir, prefix=".install-") as tmp:
                _extract(archive, Path(tmp))
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
    except zipfile.BadZipFile as exc:  # a damaged central directory, caught on opening
        raise InstallError(f"zip 文件已损坏: {zip_path} ({exc})",
                           f"damaged zip file: {zip_path} ({exc})") from exc
    return Installed(target, digest, source or str(zip_path))


def _extract(archive: zipfile.ZipFile, into: Path) -> None:
    """Extract every member (checked by top_folder); a damaged member is an InstallError."""
    try:
        archive.extractall(into)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # bad CRC, bad deflate data
        raise InstallError(f"zip 文件已损坏, 模型未安装: {exc}",
                           f"damaged zip file, model not installed: {exc}") from exc
    except OSError as exc:
        raise InstallError(f"无法解压模型 (磁盘空间不足?): {exc}",
                           f"cannot extract the model (disk full?): {exc}") from exc


def check_site(site: str) -> str:
    """The model site without its trailing slash; only https is accepted (the model is
    code the service runs: it must not be swappable on the way)."""
    parts = urllib.parse.urlsplit(site)
    if parts.scheme != "https" or not parts.netloc:
        raise InstallError(f"模型下载站点必须是 https:// 地址: {site}",
                           f"the model site must be an https:// URL: {site}")
    return site.rstrip("/")


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to https: a redirect must not downgrade the download."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage,
                         newurl: str) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme != "https":
            raise InstallError(f"下载被重定向到非 https 地址: {newurl}",
                               f"the download was redirected to a non-https URL: {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(url: str, dest: Path, progress: Callable[[int, int], None],
             context: ssl.SSLContext | None = None, timeout: float = 60.0) -> None:
    """Fetch `url` into `dest` (machines with internet only).

    `context` verifies the server (default: the system's CA certificates, which
    SSL_CERT_FILE can point elsewhere). A body shorter than its Content-Length is an
    InstallError: http.client returns short reads silently.
    """
    if urllib.parse.urlsplit(url).scheme != "https":
        raise InstallError("只允许 https 下载", "only https downloads are allowed")
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context or ssl.create_default_context()),
        _HttpsOnlyRedirects())
    try:
        with opener.open(url, timeout=timeout) as response, dest.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while block := response.read(1 << 20):
                out.write(block)
                done += len(block)
                progress(done, total)
    except http.client.HTTPException as exc:  # IncompleteRead of a chunked body, ...
        raise InstallError(f"下载中断: {url} ({exc!r})",
                           f"download interrupted: {url} ({exc!r})") from exc
    if total and done != total:
        raise InstallError(f"下载不完整: 收到 {done} 字节, 应为 {total} 字节 ({url})",
                           f"incomplete download: got {done} of {total} bytes ({url})")


def install_known(key: str, models_dir: Path, progress: Callable[[int, int], None],
                  force: bool = False, site: str = MODEL_SITE,
                  context: ssl.SSLContext | None = None) -> Installed:
    """Download one of KNOWN_MODELS from the model site (the Vosk site, or a mirror
    serving the same file names) and install it."""
    name = KNOWN_MODELS[key]
    url = f"{check_site(site)}/{name}.zip"
    target = models_dir / name
    if target.exists() and not force:  # before a long download, not after it
        raise InstallError(f"模型已存在: {target} (使用 --force 覆盖)",
                           f"model already installed at {target} (use --force)")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as tmp:
        zip_path = Path(tmp) / f"{name}.zip"
        try:
            download(url, zip_path, progress, context)
        except OSError as exc:
            raise InstallError(
                f"无法下载 {url}: {exc}。离线环境请用 --from 指定拷入的 zip 文件",
                f"cannot download {url}: {exc}; offline, use --from with a copied zip",
            ) from exc
        return install_zip(zip_path, models_dir, source=url, force=force,
                           expected_folder=name)


def remove_partial(models_dir: Path) -> None:
    """Leftovers of an interrupted install (temporary folders) are removed."""
    for pattern in (".install-*", ".download-*"):
        for leftover in models_dir.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)
