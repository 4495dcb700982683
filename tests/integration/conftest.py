"""Shared fixtures of the integration tests: the settings and the running sandbox.

The sandbox Asterisk is started once, outside the tests (`hotline sandbox up`, which
scripts/test.sh runs). A test that needs it and finds it down FAILS, saying how to
start it: integration tests are never skipped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hotline.sandbox import sandbox_status
from hotline.settings import Settings, load_settings

# `from tests.integration.sipp import ...` works whatever pytest's import mode.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


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
