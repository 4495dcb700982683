"""`hotline sandbox up|down|status`: a real Asterisk 22 for development and tests.

Asterisk runs from a Debian sid chroot (see sandbox_chroot) in the foreground, in its
own session, with the project's configuration (config/asterisk) rendered into the
chroot's /etc/asterisk. Its output goes to a log file in the data folder and its pid
to a pid file beside it. Every step can be repeated: `up` on a running sandbox
re-renders the configuration and reloads it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.asterisk_config import AsteriskValues, install_config_set, render_config_set
from hotline.sandbox_chroot import SandboxError, chroot_is_ready, ensure_chroot
from hotline.settings import Settings

BOOT_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
RX_TIMEOUT = 10.0
LOG_ROTATE_BYTES = 20 * 1024 * 1024

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SandboxStatus:
    """What `hotline sandbox status` reports."""

    chroot_ready: bool
    running: bool
    pid: int | None
    version: str
    fully_booted: bool

    @property
    def up(self) -> bool:
        return self.running and self.fully_booted


@dataclass(frozen=True)
class SandboxPaths:
    root: Path
    pid_file: Path
    asterisk_log: Path
    provision_log: Path
    templates: Path

    @classmethod
    def of(cls, settings: Settings) -> SandboxPaths:
        data = settings.data_path / "sandbox"
        return cls(
            root=Path(settings.sandbox.root),
            pid_file=data / "asterisk.pid",
            asterisk_log=data / "asterisk.log",
            provision_log=data / "provision.log",
            templates=settings.config_path / "asterisk",
        )


def _print(message: str) -> None:
    print(f"sandbox: {message}", flush=True)


def values_from_settings(settings: Settings) -> AsteriskValues:
    """The sandbox's placeholder values: loopback everywhere, ports from the settings."""
    return AsteriskValues(
        ami_bind=settings.ami.host,
        ami_port=str(settings.ami.port),
        ami_user=settings.ami.username,
        ami_secret=settings.ami_secret(create=True).reveal(),
        agi_host=settings.agi.host,
        agi_port=str(settings.agi.port),
        audiosocket_host=settings.audiosocket.host,
        audiosocket_port=str(settings.audiosocket.port),
    )


def render_into_chroot(settings: Settings, paths: SandboxPaths) -> int:
    files = render_config_set(paths.templates, values_from_settings(settings))
    install_config_set(files, paths.root / "etc/asterisk")
    return len(files)


def asterisk_rx(settings: Settings, command: str, timeout: float = RX_TIMEOUT) -> str:
    """Run one Asterisk CLI command through the control socket; its output.

    Raises SandboxError when Asterisk is not reachable or the command fails.
    """
    done = _rx(SandboxPaths.of(settings).root, command, timeout)
    if done.returncode != 0:
        raise SandboxError(f"asterisk -rx {command!r} failed (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()}")
    # The CLI exits 0 even for a command it does not know (a module not loaded, a typo).
    if done.stdout.startswith("No such command"):
        raise SandboxError(f"asterisk -rx {command!r}: {done.stdout.strip()}")
    return done.stdout


def _rx(root: Path, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["chroot", str(root), "/usr/sbin/asterisk", "-rx", command],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess([], 124, "", f"timed out after {timeout} s")


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_our_asterisk(pid: int, root: Path) -> bool:
    """A live process whose root is the chroot and which runs asterisk (not a reused pid)."""
    try:
        proc_root = os.readlink(f"/proc/{pid}/root")
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return Path(proc_root) == root.resolve() and comm == "asterisk"


def _running_pid(paths: SandboxPaths) -> int | None:
    pid = _read_pid(paths.pid_file)
    if pid is not None and _is_our_asterisk(pid, paths.root):
        return pid
    # Asterisk's own pid file covers a sandbox started by an older pid-file location.
    pid = _read_pid(paths.root / "run/asterisk/asterisk.pid")
    if pid is not None and _is_our_asterisk(pid, paths.root):
        return pid
    return None


def sandbox_status(settings: Settings) -> SandboxStatus:
    paths = SandboxPaths.of(settings)
    ready = chroot_is_ready(paths.root)
    pid = _running_pid(paths) if ready else None
    if pid is None:
        return SandboxStatus(ready, False, None, "", False)
    version = _rx(paths.root, "core show version", 5.0)
    booted = _rx(paths.root, "core waitfullybooted", 5.0)
    version_text = version.stdout.strip() if version.returncode == 0 else ""
    return SandboxStatus(ready, True, pid, version_text, booted.returncode == 0)


def _rotate(log: Path) -> None:
    """Keep one previous log: Asterisk's console output at verbosity 3 grows with every
    call, and load tests place thousands."""
    if log.exists() and log.stat().st_size > LOG_ROTATE_BYTES:
        log.replace(log.with_name(log.name + ".1"))


def _start(paths: SandboxPaths, progress: Progress) -> int:
    (paths.root / "run/asterisk").mkdir(parents=True, exist_ok=True)
    for sub in ("log/asterisk", "lib/asterisk", "spool/asterisk"):
        (paths.root / "var" / sub).mkdir(parents=True, exist_ok=True)
    paths.asterisk_log.parent.mkdir(parents=True, exist_ok=True)
    _rotate(paths.asterisk_log)
    progress(f"starting Asterisk (log: {paths.asterisk_log})")
    with paths.asterisk_log.open("ab") as log:
        # setsid: Asterisk gets its own session, so the shell or test run that started it
        # can end without taking it along. -f: foreground (no fork, the pid is ours).
        proc = subprocess.Popen(
            ["setsid", "chroot", str(paths.root), "/usr/sbin/asterisk", "-f", "-n"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            close_fds=True,
        )
    paths.pid_file.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"Asterisk exited with status {proc.returncode} while starting; "
                               f"see {paths.asterisk_log}")
        if _rx(paths.root, "core waitfullybooted", 5.0).returncode == 0:
            return proc.pid
        time.sleep(0.2)
    raise SandboxError(f"Asterisk not fully booted after {BOOT_TIMEOUT:.0f} s; "
                       f"see {paths.asterisk_log}")


def sandbox_up(settings: Settings, progress: Progress = _print) -> SandboxStatus:
    """Provision what is missing, install the configuration, and start (or reload) Asterisk."""
    paths = SandboxPaths.of(settings)
    ensure_chroot(paths.root, settings.sandbox.suite, settings.sandbox.mirror,
                  paths.provision_log, progress)
    count = render_into_chroot(settings, paths)
    progress(f"installed {count} config files into {paths.root / 'etc/asterisk'}")
    pid = _running_pid(paths)
    if pid is not None:
        progress(f"Asterisk already running (pid {pid}): reloading the configuration")
        asterisk_rx(settings, "core reload")
    else:
        pid = _start(paths, progress)
        progress(f"Asterisk fully booted (pid {pid})")
    return sandbox_status(settings)


def _wait_exit(pid: int, root: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_our_asterisk(pid, root):
            return True
        time.sleep(0.1)
    return not _is_our_asterisk(pid, root)


def sandbox_down(settings: Settings, progress: Progress = _print) -> None:
    """Stop Asterisk: `core stop now`, then SIGTERM and SIGKILL if it lingers."""
    paths = SandboxPaths.of(settings)
    pid = _running_pid(paths)
    if pid is None:
        progress("Asterisk is not running")
        paths.pid_file.unlink(missing_ok=True)
        return
    progress(f"stopping Asterisk (pid {pid})")
    _rx(paths.root, "core stop now", 5.0)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if _wait_exit(pid, paths.root, STOP_TIMEOUT):
            break
        progress(f"Asterisk still running: sending {sig.name}")
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
    if not _wait_exit(pid, paths.root, 5.0):
        raise SandboxError(f"Asterisk (pid {pid}) did not exit")
    paths.pid_file.unlink(missing_ok=True)
    progress("Asterisk stopped")


def _report(status: SandboxStatus, out: Callable[[str], None]) -> None:
    out(f"chroot ready: {'yes' if status.chroot_ready else 'no'}")
    out(f"running: {f'yes (pid {status.pid})' if status.running else 'no'}")
    if status.running:
        out(f"version: {status.version or 'unknown'}")
        out(f"fully booted: {'yes' if status.fully_booted else 'no'}")


def run_sandbox_command(settings: Settings, action: str) -> int:
    """Entry point of `hotline sandbox ACTION`; 0 on success (for status: only when up)."""
    if os.geteuid() != 0 and action != "status":
        print("sandbox: must run as root (debootstrap, chroot)", file=sys.stderr)
        return 1
    try:
        if action == "up":
            status = sandbox_up(settings)
            _report(status, _print)
            return 0 if status.up else 1
        if action == "down":
            sandbox_down(settings)
            return 0
        if action == "status":
            status = sandbox_status(settings)
            _report(status, _print)
            return 0 if status.up else 1
    except SandboxError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 1
    print(f"sandbox: unknown action {action!r}", file=sys.stderr)
    return 2
