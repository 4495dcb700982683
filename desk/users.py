"""Desk users from `config/users.yaml`: who may log in, with which role and phone.

Only argon2 hashes are stored. Every agent is tied to one phone endpoint
(`PJSIP/1001`), which is how AMI's AgentCalled finds the agent's desk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from desk.ports import LINES
from hotline.yamlconf import ConfigError, ConfigIssue, Located, load_yaml

ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")
ENDPOINT_RE = re.compile(r"^(PJSIP|SIP|Local)/[A-Za-z0-9_@.\-]+$")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.\-]{1,31}$")


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    password_hash: str = field(repr=False)
    endpoint: str = ""  # Asterisk interface of the agent's phone; empty for admins
    lines: tuple[str, ...] = ()  # lines the agent may log in to

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")


class UserDirectory:
    """Users by name and by phone endpoint; verifies passwords with argon2."""

    def __init__(self, users: Iterable[User], hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._by_name: dict[str, User] = {u.username: u for u in users}
        self._by_endpoint: dict[str, User] = {
            u.endpoint: u for u in self._by_name.values() if u.endpoint
        }
        # Verifying against a real hash for unknown users keeps the response time the same,
        # so timing does not tell which usernames exist.
        self._dummy_hash = self._hasher.hash("no-such-user")

    def get(self, username: str) -> User | None:
        return self._by_name.get(username)

    def by_endpoint(self, endpoint: str) -> User | None:
        return self._by_endpoint.get(endpoint)

    def all(self) -> list[User]:
        return sorted(self._by_name.values(), key=lambda u: u.username)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches; None otherwise (CPU-bound: run off the loop)."""
        user = self._by_name.get(username)
        try:
            self._hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return user


def hash_password(password: str) -> str:
    """An argon2id hash for users.yaml (wire as `hotline desk hash-password`)."""
    return PasswordHasher().hash(password)


def _user_from(doc: Located, i: int, raw: object, issues: list[ConfigIssue]) -> User | None:
    where: tuple[str | int, ...] = ("users", i)
    if not isinstance(raw, Mapping):
        issues.append(doc.issue(where, "每个用户应为映射", "each user must be a mapping"))
        return None
    known = {"username", "name", "role", "password_hash", "endpoint", "lines"}
    for key in raw:
        if key not in known:
            issues.append(doc.issue((*where, key), f"未知字段: {key}", f"unknown field: {key}"))
    username = raw.get("username")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        issues.append(
            doc.issue(
                (*where, "username"),
                "用户名应为 2-32 位小写字母、数字",
                "username: 2-32 lowercase letters or digits",
            )
        )
        return None
    role = raw.get("role")
    if role not in ROLES:
        issues.append(
            doc.issue(
                (*where, "role"),
                f"角色应为 {'/'.join(ROLES)} 之一",
                f"role must be one of {', '.join(ROLES)}",
            )
        )
        return None
    pw = raw.get("password_hash")
    if not isinstance(pw, str) or not pw.startswith("$argon2"):
        issues.append(
            doc.issue(
                (*where, "password_hash"),
                "password_hash 应为 argon2 哈希 (不得填写明文密码)",
                "password_hash must be an argon2 hash, never a plain password",
            )
        )
        return None
    endpoint = raw.get("endpoint", "")
    if not isinstance(endpoint, str) or (endpoint and not ENDPOINT_RE.match(endpoint)):
        issues.append(
            doc.issue(
                (*where, "endpoint"), "话机应形如 PJSIP/1001", "endpoint must look like PJSIP/1001"
            )
        )
        return None
    if role == "agent" and not endpoint:
        issues.append(doc.issue(where, "坐席必须绑定话机 (endpoint)", "an agent needs an endpoint"))
        return None
    lines = raw.get("lines", [])
    if not isinstance(lines, list) or any(line not in LINES for line in lines):
        issues.append(
            doc.issue(
                (*where, "lines"),
                f"线路应为 {', '.join(LINES)} 中的若干项",
                f"lines must be among {', '.join(LINES)}",
            )
        )
        return None
    name = raw.get("name", username)
    return User(username, str(name), role, pw, endpoint, tuple(lines))


def parse_users(doc: Located) -> list[User]:
    """Validate a users document; every problem is reported at once with its line."""
    issues: list[ConfigIssue] = []
    data = doc.value
    if not isinstance(data, Mapping) or not isinstance(data.get("users"), list):
        raise ConfigError([doc.issue((), "应包含 users: 列表", "expected a 'users:' list")])
    users: list[User] = []
    seen_names: set[str] = set()
    seen_endpoints: set[str] = set()
    for i, raw in enumerate(data["users"]):
        user = _user_from(doc, i, raw, issues)
        if user is None:
            continue
        if user.username in seen_names:
            issues.append(
                doc.issue(
                    ("users", i, "username"),
                    f"用户名重复: {user.username}",
                    f"duplicate username: {user.username}",
                )
            )
        if user.endpoint and user.endpoint in seen_endpoints:
            issues.append(
                doc.issue(
                    ("users", i, "endpoint"),
                    f"话机重复绑定: {user.endpoint}",
                    f"endpoint used twice: {user.endpoint}",
                )
            )
        seen_names.add(user.username)
        if user.endpoint:
            seen_endpoints.add(user.endpoint)
        users.append(user)
    if issues:
        raise ConfigError(issues)
    return users


def load_users(path: Path) -> UserDirectory:
    return UserDirectory(parse_users(load_yaml(path)))
