"""docker/ runs the same Asterisk configuration as the sandbox (no engine needed here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hotline.asterisk_config import render_config_set, values_from_env
from hotline.sandbox import values_from_settings
from hotline.sandbox_chroot import PACKAGES
from hotline.settings import Settings
from hotline.yamlconf import load_yaml

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"


def compose_services() -> dict[str, dict[str, object]]:
    doc = load_yaml(COMPOSE).value
    assert isinstance(doc, dict)
    services = doc["services"]
    assert isinstance(services, dict)
    return services


def test_compose_has_asterisk_service_and_postgres() -> None:
    services = compose_services()
    assert set(services) == {"asterisk", "hotline", "postgres"}
    image = services["postgres"]["image"]
    assert isinstance(image, str) and image.startswith("postgres:") and "bookworm" in image


def test_asterisk_service_uses_the_project_config_folder() -> None:
    asterisk = compose_services()["asterisk"]
    build = asterisk["build"]
    assert isinstance(build, dict)
    assert build["dockerfile"] == "docker/asterisk.Dockerfile"
    volumes = asterisk["volumes"]
    assert isinstance(volumes, list)
    mounted = [v for v in volumes if str(v).startswith("../config/asterisk:")]
    assert mounted == ["../config/asterisk:/opt/hotline/config/asterisk:ro"]
    assert (COMPOSE.parent / "../config/asterisk/pjsip.conf").resolve().is_file()


def test_asterisk_image_installs_the_sandbox_packages_and_renders_with_our_renderer() -> None:
    dockerfile = (DOCKER / "asterisk.Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM debian:sid" in dockerfile
    apt_line = next(ln for ln in dockerfile.splitlines() if "apt-get install" in ln)
    assert set(PACKAGES) <= set(apt_line.split())
    assert "COPY hotline/asterisk_config.py /usr/local/lib/hotline/asterisk_config.py" in dockerfile
    entrypoint = (DOCKER / "asterisk-entrypoint.sh").read_text()
    assert ("python3 /usr/local/lib/hotline/asterisk_config.py /opt/hotline/config/asterisk "
            "/etc/asterisk") in entrypoint
    assert os.access(DOCKER / "asterisk-entrypoint.sh", os.X_OK)


def test_service_image_is_python_311_slim_and_installs_the_project() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert "pip install --no-cache-dir ." in dockerfile
    assert "espeak-ng" in dockerfile


def test_sandbox_and_docker_render_identical_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same renderer, same templates; the container's environment gives the same values."""
    secret = "shared-secret-for-both-0123456789"
    monkeypatch.setenv("HOTLINE_AMI_SECRET", secret)
    sandbox = render_config_set(ROOT / "config/asterisk", values_from_settings(Settings()))
    env = compose_services()["asterisk"]["environment"]
    assert isinstance(env, dict)
    container_env = {k: str(v) for k, v in env.items() if k != "HOTLINE_AMI_SECRET"}
    container_env["HOTLINE_AMI_SECRET"] = secret
    docker = render_config_set(ROOT / "config/asterisk", values_from_env(container_env))
    assert docker == sandbox


def test_docker_compose_config_accepts_the_file() -> None:
    """Debian 12's docker-compose (v1) validates and interpolates the file with no engine."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed: run scripts/install-deps.sh"
    env = {**os.environ, "HOTLINE_AMI_SECRET": "x" * 32, "HOTLINE_DB_PASSWORD": "y" * 32}
    done = subprocess.run([binary, "-f", str(COMPOSE), "config"], capture_output=True,
                          text=True, env=env, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{ROOT}/config/asterisk:/opt/hotline/config/asterisk:ro" in done.stdout
    missing = subprocess.run([binary, "-f", str(COMPOSE), "config"], capture_output=True,
                             text=True, env={k: v for k, v in env.items()
                                             if k != "HOTLINE_AMI_SECRET"},
                             check=False, timeout=60)
    assert missing.returncode != 0
    assert "HOTLINE_AMI_SECRET" in missing.stderr
