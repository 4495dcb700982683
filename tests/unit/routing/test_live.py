from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from hotline.yamlconf import ConfigError, load_yaml
from routing.live import watch_config


def load_port(path: Path) -> int:
    doc = load_yaml(path)
    port = doc.value.get("port") if isinstance(doc.value, dict) else None
    if not isinstance(port, int):
        raise ConfigError([doc.issue(("port",), "port 应为整数", "port: expected an integer")])
    return port


async def test_reload_on_change_and_keep_last_good_on_error(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("port: 1\n", encoding="utf-8")
    current = {"value": load_port(path)}
    changes: asyncio.Queue[str] = asyncio.Queue()

    def on_change(value: int) -> None:
        current["value"] = value
        changes.put_nowait(f"ok {value}")

    async def on_error(exc: ConfigError) -> None:
        changes.put_nowait(f"error {exc.issues[0].line}")

    task = asyncio.create_task(watch_config(path, load_port, on_change, on_error, debounce_ms=50))
    await asyncio.sleep(0.3)  # let the watcher start
    path.write_text("# comment\nport: two\n", encoding="utf-8")
    assert await asyncio.wait_for(changes.get(), 5) == "error 2"
    assert current["value"] == 1  # the bad edit was refused
    path.write_text("port: 3\n", encoding="utf-8")
    assert await asyncio.wait_for(changes.get(), 5) == "ok 3"
    assert current["value"] == 3
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
