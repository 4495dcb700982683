"""The HTML pages: static files, the session check decides who sees them."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from desk.web_auth import Handler, current_user, public

CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"


def _page(path: Path, *roles: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if roles:
            current_user(request, *roles)
        return web.FileResponse(
            path,
            headers={
                "Cache-Control": "no-store",
                # Everything is served from here: no CDN, no inline script.
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
            },
        )

    return handler


def add_routes(app: web.Application, static_dir: Path) -> None:
    app.router.add_get("/", _page(static_dir / "desk.html"))
    app.router.add_get("/login", public(_page(static_dir / "login.html")))
    app.router.add_get("/supervisor", _page(static_dir / "supervisor.html", "supervisor", "admin"))
    app.router.add_get("/admin", _page(static_dir / "admin.html", "admin"))
    app.router.add_static("/static/", static_dir, name="static")
