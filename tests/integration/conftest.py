"""Shared fixtures of the integration tests: the settings and the running sandbox.

The sandbox Asterisk is started once, outside the tests (`hotline sandbox up`, which
scripts/test.sh runs). A test that needs it and finds it down FAILS, saying how to
start it: integration tests are never skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.asterisk_config import GENERAL_QUEUE
from hotline.sandbox import SandboxError, asterisk_rx, sandbox_status
from hotline.settings import Settings, load_settings

# `from tests.integration.sipp import ...` works whatever pytest's import mode.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


QUEUES = ("enterprise", "property", "hr_social_security", "womens_rights", "market_regulation",
          GENERAL_QUEUE)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The service settings the tests run with: HOTLINE_CONFIG's file, else the defaults."""
    path = os.environ.get("HOTLINE_CONFIG")
    return load_settings(Path(path) if path else None)


@pytest.fixture(scope="session")
def sandbox(settings: Settings) -> Settings:
    """The settings, once the sandbox Asterisk is known to be up and fully booted."""
    status = sandbox_status(settings)
    if not status.up:
        pytest.fail(
            "the sandbox Asterisk is not running (chroot ready: "
            f"{status.chroot_ready}, running: {status.running}, fully booted: "
            f"{status.fully_booted}): run `hotline sandbox up` as root first",
            pytrace=False,
        )
    return settings


@pytest.fixture(autouse=True)
def _sandbox_left_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a sandbox test, no call and no agent stays behind for the next test.

    A sipp process stopped mid-call leaves its channel up (it sends no BYE), and a desk
    left logged in keeps its phone in the queues: the next test's tracker would see them.
    """
    yield
    if "sandbox" not in request.fixturenames:
        return
    settings: Settings = request.getfixturevalue("settings")
    with contextlib.suppress(SandboxError):
        asterisk_rx(settings, "channel request hangup all")
        for queue in QUEUES:
            members = asterisk_rx(settings, f"queue show {queue}")
            for interface in re.findall(r"\((PJSIP/\w+|Local/[^ )]+)\)", members):
                asterisk_rx(settings, f"queue remove member {interface} from {queue}")
