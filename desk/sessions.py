"""Server-side sessions with a CSRF token each, and the login attempt limiter.

The cookie holds only a random token; the session (user, CSRF token, last use)
stays on the server, so logging out or restarting really ends it.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Session:
    token: str
    username: str
    csrf: str
    created: float
    last_seen: float


class SessionStore:
    def __init__(self, idle_timeout_s: float = 8 * 3600, max_age_s: float = 12 * 3600) -> None:
        self._sessions: dict[str, Session] = {}
        self._idle = idle_timeout_s
        self._max_age = max_age_s

    def create(self, username: str, now: float) -> Session:
        session = Session(secrets.token_urlsafe(32), username, secrets.token_urlsafe(32), now, now)
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None, now: float) -> Session | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if now - session.last_seen > self._idle or now - session.created > self._max_age:
            del self._sessions[token]
            return None
        session.last_seen = now
        return session

    def drop(self, token: str) -> None:
        self._sessions.pop(token, None)

    def drop_user(self, username: str) -> None:
        for token in [t for t, s in self._sessions.items() if s.username == username]:
            del self._sessions[token]

    @staticmethod
    def csrf_ok(session: Session, presented: str | None) -> bool:
        return bool(presented) and secrets.compare_digest(session.csrf, presented or "")


@dataclass
class LoginLimiter:
    """At most `max_failures` failed logins per window, per username and per client address.

    Both keys count: guessing one account from many addresses, or many accounts from
    one address, both hit the limit.
    """

    max_failures: int = 5
    window_s: float = 300.0
    max_keys: int = 10_000  # spraying made-up usernames must not grow memory without bound
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._prune(now)
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def retry_after(self, username: str, address: str, now: float) -> float:
        """Seconds to wait before trying again; 0 when a try is allowed."""
        wait = 0.0
        for key in (f"u:{username}", f"a:{address}"):
            times = self._recent(key, now)
            if len(times) >= self.max_failures:
                wait = max(wait, self.window_s - (now - times[0]))
        return wait

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if not t or now - t[-1] > self.window_s]:
            del self._failures[key]
        if len(self._failures) >= self.max_keys:
            # Still full: forget the keys whose last failure is oldest, keep the busy ones.
            by_age = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in by_age[: len(by_age) - self.max_keys * 9 // 10]:
                del self._failures[key]

    def failed(self, username: str, address: str, now: float) -> None:
        for key in (f"u:{username}", f"a:{address}"):
            self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"u:{username}", None)
