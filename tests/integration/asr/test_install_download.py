"""`hotline asr install-model small-cn --site URL`: the real CLI downloads a model over HTTPS.

The "site" is an aiohttp server on 127.0.0.1 with a self-signed certificate made here by
the openssl CLI; the CLI runs as a subprocess that trusts only that certificate
(SSL_CERT_FILE). The model zip is the test model zipped under the small-cn folder name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import ssl
import struct
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from asr.install import KNOWN_MODELS, RECORD_FILE
from asr.model import inspect_model
from tests.integration.asr.speech_kit import model_path_for_tests

pytestmark = pytest.mark.integration

FOLDER = KNOWN_MODELS["small-cn"]
ZIP_NAME = f"{FOLDER}.zip"
HOTLINE = Path(sys.executable).with_name("hotline")


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl CLI is missing: apt-get install openssl", pytrace=False)
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return Tls(cert, key)


def zip_folder(source: Path, dest: Path, skip: tuple[str, ...] = ()) -> Path:
    """`source`'s files under FOLDER/ (stored: the model files hardly compress)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source).as_posix()
            if path.is_file() and relative not in skip:
                archive.write(path, f"{FOLDER}/{relative}")
    return dest


def corrupt_member(zip_path: Path, member: str) -> None:
    """Flip one byte inside a member's data: the zip opens, extraction fails its CRC."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(member)
    with zip_path.open("r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", fh.read(4))
        at = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        fh.seek(at)
        byte = fh.read(1)
        fh.seek(at)
        fh.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return zip_folder(model_path_for_tests(), tmp_path_factory.mktemp("zip") / ZIP_NAME)


@pytest.fixture(scope="module")
def bad_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The graph files are left out to keep it small: extraction fails before the layout check.
    path = zip_folder(model_path_for_tests(), tmp_path_factory.mktemp("bad") / ZIP_NAME,
                      skip=("graph/HCLr.fst", "graph/Gr.fst"))
    corrupt_member(path, f"{FOLDER}/am/final.mdl")
    return path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def head(path: Path) -> tuple[int, bytes]:
    """The file's size and its first third (what the truncated download sends)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        return size, fh.read(size // 3)


@dataclass
class Site:
    port: int
    requests: list[str] = field(default_factory=list)

    def url(self, kind: str, scheme: str = "https") -> str:
        return f"{scheme}://localhost:{self.port}/{kind}"


@pytest.fixture
async def site(tls: Tls, good_zip: Path, bad_zip: Path) -> AsyncIterator[Site]:
    """/good, /bad (damaged zip), /truncated (closes after a third of the body),
    /redirect (to plain http) and anything else 404."""
    state = Site(0)
    size, first_third = head(good_zip)

    async def serve(request: web.Request) -> web.StreamResponse:
        kind, name = request.match_info["kind"], request.match_info["name"]
        state.requests.append(f"{kind}/{name}")
        if name != ZIP_NAME:
            raise web.HTTPNotFound()
        if kind == "good":
            return web.FileResponse(good_zip)
        if kind == "bad":
            return web.FileResponse(bad_zip)
        if kind == "redirect":
            raise web.HTTPFound(f"http://localhost:{state.port}/good/{ZIP_NAME}")
        if kind == "truncated":
            response = web.StreamResponse(headers={"Content-Type": "application/zip"})
            response.content_length = size
            await response.prepare(request)
            await response.write(first_third)
            assert request.transport is not None
            request.transport.close()  # the connection drops mid-body
            return response
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{kind}/{name}", serve)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await server.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def settings_file(data: Path) -> Path:
    """Service settings whose data dir (so models dir) is `data`."""
    if not HOTLINE.is_file():
        pytest.fail(f"{HOTLINE} missing: pip install -e '.[dev]'", pytrace=False)
    data.mkdir(exist_ok=True)
    config = data / "settings.yaml"
    config.write_text(f"data_dir: {json.dumps(str(data))}\n")
    return config


async def install(data: Path, tls: Tls, *args: str) -> Run:
    """`hotline --config <data>/settings.yaml asr install-model small-cn ARGS` as a process."""
    config = settings_file(data)
    env = {**os.environ, "SSL_CERT_FILE": str(tls.cert)}
    proc = await asyncio.create_subprocess_exec(
        str(HOTLINE), "--config", str(config), "asr", "install-model", "small-cn", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir()) if models.is_dir() else []


async def test_download_installs_with_sha256_and_layout(site: Site, tls: Tls, good_zip: Path,
                                                        bad_zip: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    url = f"{site.url('good')}/{ZIP_NAME}"
    run = await install(tmp_path, tls, "--site", site.url("good"))
    assert run.code == 0, run.err
    digest = sha256_file(good_zip)
    assert f"SHA-256: {digest}" in run.out
    installed = models / FOLDER
    record = json.loads((installed / RECORD_FILE).read_text())
    assert (record["sha256"], record["source"]) == (digest, url)
    assert inspect_model(installed).sample_rate == 16000
    final = installed / "am" / "final.mdl"
    assert final.read_bytes() == (model_path_for_tests() / "am" / "final.mdl").read_bytes()
    assert leftovers(models) == [FOLDER]

    # Installed already: refused before anything is downloaded.
    asked = len(site.requests)
    run = await install(tmp_path, tls, "--site", site.url("good"))
    assert run.code == 1 and "模型已存在" in run.err and "already installed" in run.err
    assert len(site.requests) == asked

    # --force with a damaged zip: the installed model is left as it was.
    run = await install(tmp_path, tls, "--site", site.url("bad"), "--force")
    assert run.code == 1
    assert "zip 文件已损坏" in run.err and "damaged zip file" in run.err, run.err
    assert json.loads((installed / RECORD_FILE).read_text())["sha256"] == digest
    assert final.read_bytes() == (model_path_for_tests() / "am" / "final.mdl").read_bytes()
    assert leftovers(models) == [FOLDER]
    assert sha256_file(bad_zip) != digest


@pytest.mark.parametrize(("kind", "zh", "en"), [
    ("truncated", "下载不完整", "incomplete download"),
    ("bad", "zip 文件已损坏", "damaged zip file"),
    ("redirect", "重定向到非 https", "redirected to a non-https URL"),
    ("missing", "无法下载", "cannot download"),
])
async def test_failed_download_leaves_no_model(site: Site, tls: Tls, tmp_path: Path, kind: str,
                                               zh: str, en: str) -> None:
    run = await install(tmp_path, tls, "--site", site.url(kind))
    assert run.code == 1
    assert zh in run.err and en in run.err, run.err
    assert "Traceback" not in run.err
    assert site.requests[0] == f"{kind}/{ZIP_NAME}"
    assert "good/" + ZIP_NAME not in site.requests  # the redirect was not followed
    assert leftovers(tmp_path / "models") == []


async def test_plain_http_site_is_refused(site: Site, tls: Tls, tmp_path: Path) -> None:
    run = await install(tmp_path, tls, "--site", site.url("good", scheme="http"))
    assert run.code == 1
    assert "https://" in run.err and "must be an https:// URL" in run.err, run.err
    assert site.requests == []
    assert leftovers(tmp_path / "models") == []


async def test_untrusted_certificate_is_refused(site: Site, tls: Tls, tmp_path: Path) -> None:
    """The same site without its certificate trusted: urllib refuses it, nothing installed."""
    other = Tls(tmp_path / "empty.pem", tls.key)
    other.cert.write_text("")
    run = await install(tmp_path / "data", other, "--site", site.url("good"))
    assert run.code == 1
    assert "无法下载" in run.err and "CERTIFICATE_VERIFY_FAILED" in run.err, run.err
    assert leftovers(tmp_path / "data" / "models") == []
