"""Run sipp callers (UAC) and answering phones (UAS) against the sandbox from tests.

sipp never takes 5060 (Asterisk's); callers use 5070 and up, agents' phones 5081..5084,
the 110 stand-in 5090. Each process gets its own media port range so that several can
run at once, and writes its statistics and errors into a per-test folder, which the
result points to when an assertion fails.

    async with uas_phone(tmp_path, port=5081, user="1001") as phone:
        caller = await start_uac(tmp_path, [("13800138001", "张三")], hold_ms=3000)
        result = await caller.wait(30)
        assert result.successful == 1, result.describe()
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import itertools
import shutil
import signal
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SIPP_DIR = Path(__file__).resolve().parent.parent / "sipp"
# Scenarios `hotline demo` uses too live in the package.
PACKAGE_SIPP_DIR = Path(__file__).resolve().parents[2] / "hotline" / "sipp"
UAC_SCENARIO = SIPP_DIR / "uac_12345.xml"
UAS_SCENARIO = PACKAGE_SIPP_DIR / "uas_answer.xml"

ASTERISK = "127.0.0.1:5060"
LOCAL_IP = "127.0.0.1"
UAC_FIRST_PORT = 5070
# sipp's RTP echo takes the media port and the next ones (audio, video): 4 apart is safe.
MEDIA_FIRST_PORT = 6000
MEDIA_PORT_STEP = 4

_names = itertools.count()


def _udp_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((LOCAL_IP, port))
        except OSError:
            return False
    return True


def free_udp_port(first: int, step: int = 1, span: int = 1,
                  avoid: tuple[int, ...] = (5060,)) -> int:
    """The first port from `first` (by `step`) where `span` consecutive UDP ports are free."""
    for port in range(first, 65000, step):
        if any(p in avoid for p in range(port, port + span)):
            continue
        if all(_udp_port_free(p) for p in range(port, port + span)):
            return port
    raise RuntimeError(f"no free UDP port from {first}")


@dataclass(frozen=True)
class SippResult:
    """How one sipp run ended: its exit status and call counts from its statistics file."""

    name: str
    returncode: int
    successful: int
    failed: int
    created: int
    errors: str
    workdir: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed == 0

    def describe(self) -> str:
        return (f"sipp {self.name}: exit {self.returncode}, created {self.created}, "
                f"successful {self.successful}, failed {self.failed}; files in {self.workdir}\n"
                f"{self.errors[-3000:]}")


def read_stat_counts(stat_file: Path) -> tuple[int, int, int]:
    """(created, successful, failed) cumulative counts from the last row of a -trace_stat CSV."""
    if not stat_file.exists():
        return (0, 0, 0)
    rows = list(csv.reader(stat_file.read_text(errors="replace").splitlines(), delimiter=";"))
    if len(rows) < 2:
        return (0, 0, 0)
    header, last = rows[0], rows[-1]
    values = dict(zip(header, last, strict=False))

    def count(column: str) -> int:
        try:
            return int(values.get(column, "0") or 0)
        except ValueError:
            return 0

    return count("TotalCallCreated"), count("SuccessfulCall(C)"), count("FailedCall(C)")


class SippProcess:
    """A running sipp; `wait` for it to finish, or `stop` it (phones run until stopped)."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, workdir: Path) -> None:
        self.name = name
        self.proc = proc
        self.workdir = workdir

    @property
    def stat_file(self) -> Path:
        return self.workdir / "stat.csv"

    def _result(self) -> SippResult:
        created, successful, failed = read_stat_counts(self.stat_file)
        errors = ""
        for path in [*sorted(self.workdir.glob("*errors*")), self.workdir / "stderr.log"]:
            if path.exists():
                errors += path.read_text(errors="replace")
        rc = self.proc.returncode if self.proc.returncode is not None else -1
        return SippResult(self.name, rc, successful, failed, created, errors, self.workdir)

    async def wait(self, timeout: float) -> SippResult:
        """Wait for sipp to exit by itself; kill it and fail loudly after `timeout` s."""
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.stop()
            raise AssertionError(f"sipp {self.name} still running after {timeout} s: "
                                 f"{self._result().describe()}") from None
        return self._result()

    async def stop(self) -> SippResult:
        """Ask sipp to quit (SIGUSR1: graceful), kill it if it does not."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGUSR1)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        return self._result()


def _sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise AssertionError("sipp is not installed: apt-get install sip-tester "
                             "(scripts/install-deps.sh does it)")
    return found


def write_callers_csv(path: Path, callers: Sequence[tuple[str, str]]) -> None:
    """sipp injection file: one `number;display name` line a call, used in order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["SEQUENTIAL"]
    for number, name in callers:
        if ";" in number + name or "\n" in number + name:
            raise ValueError(f"caller fields may not contain ';' or newlines: {number!r} {name!r}")
        lines.append(f"{number};{name}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _prepare(workdir: Path, args: list[str]) -> tuple[list[str], Path]:
    """The full sipp command line, with its files in `workdir` (written for a post-mortem)."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [_sipp_binary(), *args,
            "-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log"),
            "-trace_stat", "-stf", str(workdir / "stat.csv"), "-fd", "1"]
    (workdir / "command.txt").write_text(" ".join(argv) + "\n")
    return argv, workdir / "stderr.log"


async def _spawn(name: str, workdir: Path, args: list[str]) -> SippProcess:
    argv, stderr_path = _prepare(workdir, args)
    with stderr_path.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=workdir, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr)
    return SippProcess(name, proc, workdir)


async def start_uac(
    tmp: Path,
    callers: Sequence[tuple[str, str]],
    *,
    calls: int | None = None,
    rate: float = 10.0,
    hold_ms: int = 5000,
    service: str = "12345",
    port: int | None = None,
    media_port: int | None = None,
    target: str = ASTERISK,
    scenario: Path = UAC_SCENARIO,
) -> SippProcess:
    """Callers dialling `service`: `calls` calls (default one per caller) at `rate` a
    second, each from the next (number, name) of `callers`, each up for `hold_ms`."""
    total = calls if calls is not None else len(callers)
    name = f"uac{next(_names)}"
    workdir = tmp / f"sipp-{name}"
    write_callers_csv(workdir / "callers.csv", callers)
    sip_port = port if port is not None else free_udp_port(UAC_FIRST_PORT)
    rtp_port = media_port if media_port is not None else free_udp_port(
        MEDIA_FIRST_PORT, MEDIA_PORT_STEP, MEDIA_PORT_STEP)
    return await _spawn(name, workdir, [
        target, "-sf", str(scenario), "-inf", str(workdir / "callers.csv"),
        "-s", service, "-i", LOCAL_IP, "-p", str(sip_port), "-mp", str(rtp_port),
        "-m", str(total), "-l", str(max(total, 1)), "-r", str(rate), "-rp", "1000",
        "-d", str(hold_ms),
    ])


async def start_uas(
    tmp: Path,
    *,
    port: int,
    user: str,
    ring_ms: int = 0,
    calls: int | None = None,
    media_port: int | None = None,
    scenario: Path = UAS_SCENARIO,
) -> SippProcess:
    """A phone answering at 127.0.0.1:`port` as `user` after ringing `ring_ms`; it
    takes `calls` calls then exits, or runs until stopped."""
    if port == 5060:
        raise ValueError("5060 is Asterisk's port")
    name = f"uas{user}-{next(_names)}"
    rtp_port = media_port if media_port is not None else free_udp_port(
        MEDIA_FIRST_PORT + 500, MEDIA_PORT_STEP, MEDIA_PORT_STEP)
    args = ["-sf", str(scenario), "-s", user, "-i", LOCAL_IP, "-p", str(port),
            "-mp", str(rtp_port), "-d", str(ring_ms)]
    if calls is not None:
        args += ["-m", str(calls)]
    phone = await _spawn(name, tmp / f"sipp-{name}", args)
    await _wait_bound(phone, port)
    return phone


async def _wait_bound(phone: SippProcess, port: int, timeout: float = 3.0) -> None:
    """Return once sipp holds its SIP port: a call placed earlier would find nobody."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while _udp_port_free(port):
        if phone.proc.returncode is not None or loop.time() > deadline:
            result = await phone.stop()
            raise AssertionError(f"sipp phone did not bind 127.0.0.1:{port} (taken by another "
                                 f"process?): {result.describe()}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def uas_phone(tmp: Path, *, port: int, user: str,
                    ring_ms: int = 0) -> AsyncIterator[SippProcess]:
    """An answering phone for the duration of a `with` block, always stopped after."""
    phone = await start_uas(tmp, port=port, user=user, ring_ms=ring_ms)
    try:
        yield phone
    finally:
        await phone.stop()
