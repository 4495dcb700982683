"""Drive the agent desk in Debian's Chromium through Playwright, and serve a desk to drive.

Reusable: the desk integration test uses it with in-memory ports, the lead's
sipp-through-Asterisk test with the real service (pass its base URL), and
bench/screenpop with many agents at once.

Playwright cannot download its own browser here: we launch /usr/bin/chromium.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Many desks in one browser (bench): keep background pages running at full speed.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
VIEWPORT = {"width": 1366, "height": 768}
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before launching
        raise AssertionError(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def serve(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL (with a trailing slash)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()


@dataclass
class DeskPage:
    """One agent's desk open in its own browser context (own cookies)."""

    context: BrowserContext
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)  # uncaught script errors in the page

    @classmethod
    async def open(cls, browser: Browser, base_url: str) -> DeskPage:
        context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")  # type: ignore[arg-type]
        page = await context.new_page()
        desk = cls(context, page, base_url)
        page.on("pageerror", lambda exc: desk.errors.append(str(exc)))
        return desk

    async def login(self, username: str, password: str, landing: str = "") -> None:
        """Log in; `landing` is the page the role lands on ("", "supervisor" or "admin")."""
        await self.page.goto(self.base_url + "login")
        await self.page.fill("#username", username)
        await self.page.fill("#password", password)
        await self.page.click("#login-button")
        await self.page.wait_for_url(self.base_url + landing, timeout=10_000)
        if landing != "admin":  # the admin page has no live socket
            await self.page.wait_for_selector(
                "body[data-ws=open]", state="attached", timeout=10_000
            )

    async def join_line(self, line: str) -> None:
        await self.page.check(f"#line-{line}")
        await self.page.wait_for_selector(f"#line-{line}:checked", timeout=5_000)

    async def wait_for_ticket(
        self, number: str, answered: bool = True, timeout_s: float = 5.0
    ) -> float:
        """Seconds until ticket `number` is in the page (and marked answered when asked)."""
        start = time.monotonic()
        await self.page.wait_for_selector(
            f'#ticket[data-number="{number}"]', timeout=timeout_s * 1000
        )
        if answered:
            await self.page.wait_for_function(
                "document.getElementById('ticket-stage').textContent === '通话中'",
                timeout=timeout_s * 1000,
            )
        return time.monotonic() - start

    async def field(self, selector: str) -> str:
        return await self.page.input_value(selector)

    async def edit_and_dispatch(
        self,
        department: str,
        *,
        line: str | None = None,
        kind: str | None = None,
        summary: str | None = None,
    ) -> str:
        if line is not None:
            await self.page.select_option("#f-line", line)
        if kind is not None:
            await self.page.select_option("#f-kind", kind)
        if summary is not None:
            await self.page.fill("#f-summary", summary)
        await self.page.select_option("#f-department", department)
        await self.page.click("#dispatch-button")
        await self.page.wait_for_selector("#dispatch-msg.ok", timeout=5_000)
        return await self.page.text_content("#dispatch-msg") or ""

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        await self.page.screenshot(path=str(path))
        return path

    async def close(self) -> None:
        await self.context.close()
