"""Users file and desk options: validated once, every problem with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.config import load_desk_config
from desk.users import hash_password, load_users, parse_users
from hotline.yamlconf import ConfigError, parse_yaml
from tests.unit.desk.conftest import HASHER, PROJECT


def test_shipped_users_and_options_load() -> None:
    users = load_users(PROJECT / "config" / "users.yaml")
    assert [users.by_endpoint(f"PJSIP/{n}").username for n in range(1001, 1005)] == [  # type: ignore[union-attr]
        "agent1001",
        "agent1002",
        "agent1003",
        "agent1004",
    ]
    assert {u.role for u in users.all()} == {"agent", "supervisor", "admin"}
    assert all(u.password_hash.startswith("$argon2id$") for u in users.all())
    assert "password_hash" not in repr(users.all()[0])
    config = load_desk_config(PROJECT / "config" / "desk.yaml")
    assert "市住房和城乡建设局" in config.departments
    assert {s.id for s in config.specialists} == {"legal", "psych"}


def test_authenticate() -> None:
    from desk.users import User, UserDirectory

    users = UserDirectory(
        [User("agent1001", "张敏", "agent", HASHER.hash("s3cret"), "PJSIP/1001")], hasher=HASHER
    )
    assert users.authenticate("agent1001", "s3cret") is not None
    assert users.authenticate("agent1001", "wrong") is None
    assert users.authenticate("ghost", "s3cret") is None
    assert hash_password("x").startswith("$argon2id$")


def test_users_errors_cite_lines() -> None:
    text = """users:
  - username: agent1001
    role: agent
    endpoint: PJSIP/1001
    password_hash: hunter2
  - username: boss
    role: king
    password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"
  - username: agent1002
    role: agent
    password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"
"""
    with pytest.raises(ConfigError) as caught:
        parse_users(parse_yaml(text, "users.yaml"))
    issues = [str(i) for i in caught.value.issues]
    assert issues[0].startswith("users.yaml:5: password_hash 应为 argon2 哈希")
    assert issues[1].startswith("users.yaml:7: 角色应为")
    assert issues[2].startswith("users.yaml:9: 坐席必须绑定话机")
    assert all("(" in i for i in issues)  # English after the Chinese


def test_duplicate_endpoint_refused(tmp_path: Path) -> None:
    h = '"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"'
    path = tmp_path / "users.yaml"
    path.write_text(
        f"""users:
  - {{username: a1, role: agent, endpoint: PJSIP/1001, password_hash: {h}}}
  - {{username: a2, role: agent, endpoint: PJSIP/1001, password_hash: {h}}}
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"users.yaml:3: 话机重复绑定: PJSIP/1001"):
        load_users(path)


def test_desk_options_errors(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text("wrapup_s: soon\ncolour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_desk_config(path)
    text = str(caught.value)
    assert "desk.yaml:2: 未知的设置项: colour" in text
    assert "desk.yaml:1: wrapup_s 类型不对" in text
