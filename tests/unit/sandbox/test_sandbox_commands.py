"""`hotline sandbox` on a machine where the sandbox is absent: honest answers, no changes."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from hotline import sandbox
from hotline.sandbox import SandboxPaths, run_sandbox_command, sandbox_status
from hotline.sandbox_chroot import READY_STAMP
from hotline.settings import SandboxSettings, Settings


@pytest.fixture
def absent(tmp_path: Path) -> Settings:
    return replace(Settings(data_dir=str(tmp_path / "var")),
                   sandbox=SandboxSettings(root=str(tmp_path / "sandbox")))


def test_status_of_a_missing_sandbox(absent: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    status = sandbox_status(absent)
    assert (status.chroot_ready, status.running, status.up) == (False, False, False)
    assert run_sandbox_command(absent, "status") == 1
    out = capsys.readouterr().out
    assert "chroot ready: no" in out and "running: no" in out


def test_stale_pid_file_is_not_taken_for_a_running_asterisk(absent: Settings) -> None:
    paths = SandboxPaths.of(absent)
    paths.root.mkdir(parents=True)
    (paths.root / READY_STAMP).write_text("ok\n")
    paths.pid_file.parent.mkdir(parents=True)
    # This test process is alive, but it is neither asterisk nor inside the chroot.
    paths.pid_file.write_text(f"{os.getpid()}\n")
    status = sandbox_status(absent)
    assert status.chroot_ready and not status.running


def test_down_when_nothing_runs_is_fine(absent: Settings) -> None:
    messages: list[str] = []
    sandbox.sandbox_down(absent, messages.append)
    assert messages == ["Asterisk is not running"]


def test_unknown_action(absent: Settings) -> None:
    assert run_sandbox_command(absent, "explode") == 2


def test_sandbox_values_follow_the_settings(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_AMI_SECRET", "from-env")
    settings = Settings()
    settings = replace(settings, agi=replace(settings.agi, port=4999),
                       ami=replace(settings.ami, username="ops"))
    values = sandbox.values_from_settings(settings)
    assert (values.agi_port, values.ami_user, values.ami_secret) == ("4999", "ops", "from-env")
    assert values.ami_bind == values.sip_bind == "127.0.0.1"
