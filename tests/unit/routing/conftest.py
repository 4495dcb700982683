from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings
from routing.config import RoutingConfig, load_routing_config
from routing.router import Router
from routing.service import build_router, config_file


@pytest.fixture(scope="session")
def routing_config() -> RoutingConfig:
    return load_routing_config(config_file(Settings()))


@pytest.fixture(scope="session")
def tune_router(routing_config: RoutingConfig) -> Router:
    """The shipped rules with a classifier trained on the tune part only (no leak)."""
    router = build_router(Settings(), config=routing_config, train_subset="tune")
    router.warm()
    return router


@pytest.fixture(scope="session")
def rules_router(routing_config: RoutingConfig) -> Router:
    """Rules alone: what administrators' YAML decides without the statistical model."""
    return Router(routing_config, None)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the shipped routing config that a test may break."""
    import shutil

    src = config_file(Settings()).parent
    shutil.copy(src / "routing.yaml", tmp_path / "routing.yaml")
    shutil.copytree(src / "routing", tmp_path / "routing")
    return tmp_path
