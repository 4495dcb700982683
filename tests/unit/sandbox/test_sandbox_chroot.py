"""Chroot provisioning steps, without touching the real system (commands are recorded)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from hotline import sandbox_chroot
from hotline.sandbox_chroot import (
    APT_CONF,
    DEBOOTSTRAP_STAMP,
    READY_STAMP,
    SandboxError,
    apt_mounts,
    ensure_chroot,
    hosts_file,
    mounts_under,
    prepare_for_apt,
)

PROC_MOUNTS = """\
/dev/vda / ext4 rw 0 0
proc /var/lib/hotline12345/sandbox/proc proc rw 0 0
udev /var/lib/hotline12345/sandbox/dev devtmpfs rw 0 0
devpts /var/lib/hotline12345/sandbox/dev/pts devpts rw 0 0
sysfs /var/lib/hotline12345/sandbox/sys sysfs rw 0 0
proc /var/lib/hotline12345/sandbox2/proc proc rw 0 0
"""


@pytest.fixture(autouse=True)
def host_tools_present(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests record commands instead of running them: the tools need not exist."""
    monkeypatch.setattr(sandbox_chroot.shutil, "which", lambda tool: f"/usr/bin/{tool}")


class Recorder:
    """Stands in for subprocess.run: records argv, fails the commands it is told to.

    A recorded debootstrap makes the target folder, as the real one does.
    """

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        if argv[0] == "debootstrap":
            Path(argv[3]).mkdir(parents=True, exist_ok=True)
        joined = " ".join(argv)
        rc = 1 if any(f in joined for f in self.fail) else 0
        return subprocess.CompletedProcess(argv, rc, "", "boom" if rc else "")


def test_mounts_under_lists_only_the_chroot_deepest_first() -> None:
    root = Path("/var/lib/hotline12345/sandbox")
    points = mounts_under(root, PROC_MOUNTS)
    assert set(points) == {f"{root}/proc", f"{root}/dev", f"{root}/dev/pts", f"{root}/sys"}
    assert points.index(f"{root}/dev/pts") < points.index(f"{root}/dev")


def test_hosts_file_names_the_host() -> None:
    assert hosts_file("vm").splitlines()[0] == "127.0.0.1 localhost vm"


def test_prepare_for_apt_writes_apt_conf_policy_and_hosts(tmp_path: Path) -> None:
    prepare_for_apt(tmp_path)
    assert (tmp_path / "etc/apt/apt.conf.d/99hotline-no-valid-until").read_text() == APT_CONF
    policy = tmp_path / "usr/sbin/policy-rc.d"
    assert "exit 101" in policy.read_text() and policy.stat().st_mode & 0o111
    assert (tmp_path / "etc/hosts").read_text().startswith("127.0.0.1 localhost ")


def test_apt_mounts_are_undone_in_reverse_order_even_on_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setattr(sandbox_chroot.subprocess, "run", rec)
    with pytest.raises(RuntimeError), apt_mounts(tmp_path):
        raise RuntimeError("apt failed")
    mounted = [c[-1] for c in rec.calls if c[0] == "mount"]
    unmounted = [c[-1] for c in rec.calls if c[0] == "umount"]
    assert mounted == [str(tmp_path / p) for p in ("proc", "dev", "dev/pts", "sys")]
    assert unmounted == list(reversed(mounted))


def test_a_failed_mount_unmounts_what_was_mounted(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(fail=("/dev/pts",))
    monkeypatch.setattr(sandbox_chroot.subprocess, "run", rec)
    with pytest.raises(SandboxError, match="mount dev/pts"), apt_mounts(tmp_path):
        pass
    assert [c[-1] for c in rec.calls if c[0] == "umount"] == [str(tmp_path / "dev"),
                                                              str(tmp_path / "proc")]


def test_ready_chroot_is_reused_without_running_anything(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setattr(sandbox_chroot.subprocess, "run", rec)
    root = tmp_path / "sandbox"
    (root / "etc").mkdir(parents=True)
    (root / READY_STAMP).write_text("ok\n")
    ensure_chroot(root, "sid", "http://mirror", tmp_path / "log", lambda _: None)
    assert rec.calls == []


def test_half_made_chroot_is_removed_and_made_again(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setattr(sandbox_chroot.subprocess, "run", rec)
    monkeypatch.setattr(sandbox_chroot, "_current_mounts", lambda root: [])
    root = tmp_path / "sandbox"
    (root / "var").mkdir(parents=True)
    (root / "var/leftover").write_text("from a crashed run")
    messages: list[str] = []
    ensure_chroot(root, "sid", "http://mirror", tmp_path / "log", messages.append)
    assert not (root / "var/leftover").exists()
    argvs = [" ".join(c) for c in rec.calls]
    assert f"debootstrap --variant=minbase sid {root} http://mirror" in argvs
    install = next(a for a in argvs if "apt-get install" in a)
    assert "--no-install-recommends asterisk asterisk-moh-opsound-gsm" in install
    assert any(a.endswith("apt-get clean") for a in argvs)
    assert (root / DEBOOTSTRAP_STAMP).is_file() and (root / READY_STAMP).is_file()
    assert any("removing half-made" in m for m in messages)


def test_installed_base_without_packages_only_reruns_apt(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(fail=("apt-get install",))
    monkeypatch.setattr(sandbox_chroot.subprocess, "run", rec)
    root = tmp_path / "sandbox"
    root.mkdir()
    (root / DEBOOTSTRAP_STAMP).write_text("ok\n")
    with pytest.raises(SandboxError, match="apt-get install failed"):
        ensure_chroot(root, "sid", "http://mirror", tmp_path / "log", lambda _: None)
    assert not any(c[0] == "debootstrap" for c in rec.calls)
    assert not (root / READY_STAMP).exists()
    # The mounts made for apt were undone despite the failure.
    assert len([c for c in rec.calls if c[0] == "umount"]) == 4


def test_refuses_to_remove_a_chroot_with_something_still_mounted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_chroot.subprocess, "run", Recorder())
    root = tmp_path / "sandbox"
    root.mkdir()
    monkeypatch.setattr(sandbox_chroot, "_current_mounts", lambda r: [f"{r}/dev"])
    with pytest.raises(SandboxError, match="still mounted"):
        ensure_chroot(root, "sid", "http://mirror", tmp_path / "log", lambda _: None)
    assert root.exists()


@pytest.mark.parametrize("root", ["/", "/var", "relative/path"])
def test_refuses_dangerous_roots(root: str, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="absolute path"):
        ensure_chroot(Path(root), "sid", "http://mirror", tmp_path / "log", lambda _: None)


def test_missing_host_tools_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_chroot.shutil, "which",
                        lambda tool: None if tool == "debootstrap" else f"/usr/bin/{tool}")
    with pytest.raises(SandboxError, match="missing host tools: debootstrap"):
        ensure_chroot(tmp_path / "sandbox", "sid", "http://mirror", tmp_path / "log",
                      lambda _: None)
