from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from ivr.prompts import catalog_for
from ivr.store import IvrStore

from .fakes import DEFAULT_YAML


def make(tmp_path: Path) -> tuple[IvrStore, Path]:
    path = tmp_path / "ivr.yaml"
    shutil.copy(DEFAULT_YAML, path)
    store = IvrStore(path, lambda c: catalog_for(c, None))
    assert store.load() == []
    return store, path


def test_broken_edit_is_refused_with_file_line_and_old_menus_kept(tmp_path: Path) -> None:
    store, path = make(tmp_path)
    before = store.current
    text = path.read_text()
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if '"4": {action: queue' in line)
    lines[n] = lines[n].replace("market_regulation", "market")
    path.write_text("\n".join(lines) + "\n")
    issues = store.load()
    assert [(i.file, i.line) for i in issues] == [(str(path), n + 1)]
    assert "未定义的线路: market" in issues[0].zh
    assert store.current is before
    path.write_text(text.replace("人工服务请按0，重听", "人工服务请按0，重新收听"))
    assert store.load() == []
    assert store.current is not before
    assert "重新收听" in store.current.config.menus["main"].prompt.text


async def test_watch_reloads_on_change_and_refuses_bad_edit(tmp_path: Path) -> None:
    store, path = make(tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(store.watch(stop))
    await asyncio.sleep(0.3)
    original = path.read_text()
    path.write_text(original + "  extra: [\n")  # YAML syntax error at the end
    for _ in range(50):
        await asyncio.sleep(0.1)
        if store.last_issues:
            break
    assert store.last_issues and store.last_issues[0].line > 100
    assert store.current.config.menus["main"].options
    path.write_text(original.replace("您好，欢迎致电", "您好！欢迎致电"))
    for _ in range(50):
        await asyncio.sleep(0.1)
        if "您好！" in store.current.config.greeting.text:
            break
    assert "您好！" in store.current.config.greeting.text and store.last_issues == []
    stop.set()
    await asyncio.wait_for(task, 5)
