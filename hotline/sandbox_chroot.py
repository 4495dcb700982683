"""Provisioning of the Debian sid chroot that holds the sandbox Asterisk.

Debian 12 has no Asterisk package and sid's libc must not touch the host, so
Asterisk lives in a `debootstrap --variant=minbase sid` chroot. Every step is
idempotent: stamp files inside the chroot record what is finished, and a chroot
whose debootstrap never finished is removed and made again.

Pseudo-filesystems are mounted only while apt runs (maintainer scripts need
them) and are always unmounted afterwards, also on failure; Asterisk itself
runs with nothing mounted.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

# Written after debootstrap succeeded: without it the chroot is half-made.
DEBOOTSTRAP_STAMP = ".hotline-debootstrap-done"
# Written after the Asterisk packages are installed and apt's cache is cleaned.
READY_STAMP = ".hotline-sandbox-ready"

PACKAGES: tuple[str, ...] = ("asterisk", "asterisk-moh-opsound-gsm")

# The mirror serves a frozen sid snapshot whose Release file has expired.
APT_CONF_NAME = "99hotline-no-valid-until"
APT_CONF = 'Acquire::Check-Valid-Until "false";\n'
# Exit status 101 means "action forbidden": package scripts start no service.
POLICY_RC_D = "#!/bin/sh\nexit 101\n"

Progress = Callable[[str], None]


class SandboxError(RuntimeError):
    """A sandbox step failed; the message says which and why."""


def chroot_is_ready(root: Path) -> bool:
    return (root / READY_STAMP).is_file()


def hosts_file(hostname: str) -> str:
    """Without the host's own name, Asterisk stalls on name lookups at start."""
    return f"127.0.0.1 localhost {hostname}\n::1 localhost ip6-localhost ip6-loopback\n"


def mounts_under(root: Path, mounts_text: str) -> list[str]:
    """Mount points at or below `root`, deepest first (the order to unmount them).

    `mounts_text` is the content of /proc/mounts; spaces in paths are octal-escaped
    there, which our roots never contain, so splitting on spaces is enough.
    """
    prefix = str(root).rstrip("/")
    points = []
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        point = parts[1]
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def _current_mounts(root: Path) -> list[str]:
    return mounts_under(root, Path("/proc/mounts").read_text())


def unmount_all(root: Path) -> None:
    """Unmount whatever is still mounted inside the chroot (left by a crash, say)."""
    for point in _current_mounts(root):
        if subprocess.run(["umount", point], check=False).returncode != 0:
            # A busy mount (a process still inside) is detached lazily rather than left.
            subprocess.run(["umount", "-l", point], check=False)


@contextlib.contextmanager
def apt_mounts(root: Path) -> Iterator[None]:
    """proc, dev, dev/pts and sys mounted for the duration of an apt run."""
    specs: list[tuple[list[str], str]] = [
        (["-t", "proc", "proc"], "proc"),
        (["--bind", "/dev"], "dev"),
        (["--bind", "/dev/pts"], "dev/pts"),
        (["-t", "sysfs", "sysfs"], "sys"),
    ]
    mounted: list[Path] = []
    try:
        for args, rel in specs:
            target = root / rel
            target.mkdir(parents=True, exist_ok=True)
            _run(["mount", *args, str(target)], f"mount {rel}")
            mounted.append(target)
        yield
    finally:
        for target in reversed(mounted):
            if subprocess.run(["umount", str(target)], check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(target)], check=False)


def _run(argv: list[str], what: str, log: Path | None = None) -> None:
    """Run a command; on failure raise SandboxError naming the step (and the log)."""
    if log is None:
        captured = subprocess.run(argv, check=False, capture_output=True, text=True)
        returncode = captured.returncode
        detail = (captured.stderr or captured.stdout).strip()[-2000:]
    else:
        with log.open("a") as out:
            out.write(f"\n$ {' '.join(argv)}\n")
            out.flush()
            returncode = subprocess.run(argv, check=False, stdout=out,
                                        stderr=subprocess.STDOUT).returncode
        detail = f"see {log}"
    if returncode != 0:
        raise SandboxError(f"{what} failed (exit {returncode}): {detail}")


def _remove_half_made(root: Path, progress: Progress) -> None:
    unmount_all(root)
    left = _current_mounts(root)
    if left:
        # Removing a tree with /dev bind-mounted inside would delete the host's devices.
        raise SandboxError(f"refusing to remove {root}: still mounted: {', '.join(left)}")
    progress(f"removing half-made chroot {root}")
    shutil.rmtree(root)


def _check_root_path(root: Path) -> None:
    if not root.is_absolute() or len(root.parts) < 3:
        raise SandboxError(f"sandbox root must be an absolute path two levels deep or more: {root}")


def debootstrap(root: Path, suite: str, mirror: str, log: Path, progress: Progress) -> None:
    """Make the base system unless a finished one is already there."""
    _check_root_path(root)
    if (root / DEBOOTSTRAP_STAMP).is_file():
        return
    if root.exists():
        _remove_half_made(root, progress)
    progress(f"debootstrap --variant=minbase {suite} into {root} (about 40 s)")
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        _run(["debootstrap", "--variant=minbase", suite, str(root), mirror], "debootstrap", log)
    finally:
        # debootstrap mounts proc/sys itself and may leave them behind when it fails.
        unmount_all(root)
    (root / DEBOOTSTRAP_STAMP).write_text("ok\n")


def prepare_for_apt(root: Path) -> None:
    """Files apt and package scripts need before installing (rewritten each time)."""
    conf = root / "etc/apt/apt.conf.d" / APT_CONF_NAME
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(APT_CONF)
    policy = root / "usr/sbin/policy-rc.d"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/hosts").write_text(hosts_file(socket.gethostname()))


def install_packages(root: Path, log: Path, progress: Progress) -> None:
    progress(f"installing {' '.join(PACKAGES)} in the chroot (about 10-60 s)")
    env = ["env", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"]
    with apt_mounts(root):
        _run(["chroot", str(root), *env, "apt-get", "update"], "apt-get update", log)
        _run(["chroot", str(root), *env, "apt-get", "install", "-y", "--no-install-recommends",
              *PACKAGES], "apt-get install", log)
        _run(["chroot", str(root), "apt-get", "clean"], "apt-get clean", log)


HOST_TOOLS = ("debootstrap", "chroot", "mount", "umount")


def check_host_tools() -> None:
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        raise SandboxError(f"missing host tools: {', '.join(missing)} "
                           "(run scripts/install-deps.sh as root)")


def ensure_chroot(root: Path, suite: str, mirror: str, log: Path, progress: Progress) -> None:
    """A chroot with Asterisk installed at `root`, made only as far as it is missing."""
    if chroot_is_ready(root):
        # /etc/hosts is cheap to refresh and the hostname may have changed.
        (root / "etc/hosts").write_text(hosts_file(socket.gethostname()))
        return
    check_host_tools()
    log.parent.mkdir(parents=True, exist_ok=True)
    debootstrap(root, suite, mirror, log, progress)
    prepare_for_apt(root)
    install_packages(root, log, progress)
    (root / READY_STAMP).write_text(" ".join(PACKAGES) + "\n")
    progress("chroot ready")
