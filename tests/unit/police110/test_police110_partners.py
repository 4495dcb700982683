from __future__ import annotations

from pathlib import Path

import pytest

from hotline.yamlconf import ConfigError, parse_yaml
from police110.partners import load_partners, parse_partners

PROJECT = Path(__file__).resolve().parents[3]
GOOD_KEY = "0123456789abcdef0123456789abcdef"

VALID = """\
self:
  id: hotline12345
  key_env: SELF_KEY
limits:
  max_body_bytes: 1024
outbox:
  max_attempts: 5
  backoff_initial_s: 0.5
partners:
  - id: city-110
    name: 市110
    base_url: https://110.example.invalid/api/12345/
    key_env: CITY_KEY
  - id: county-110
    key_file: keys/county.key
"""


def _parse(text: str, env: dict[str, str], base: Path = Path("/nonexistent")):  # type: ignore[no-untyped-def]
    return parse_partners(parse_yaml(text, "partners.yaml"), env, base)


def test_valid_file_with_keys_from_env_and_file(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "county.key").write_text(GOOD_KEY + "\n")
    config = _parse(VALID, {"SELF_KEY": GOOD_KEY, "CITY_KEY": GOOD_KEY[::-1]}, tmp_path)
    assert config.self_id == "hotline12345"
    assert config.limits.max_body_bytes == 1024 and config.limits.max_clock_skew_s == 300
    assert config.outbox.max_attempts == 5 and config.outbox.backoff_initial_s == 0.5
    city = config.partners["city-110"]
    assert city.base_url == "https://110.example.invalid/api/12345"
    assert city.key.reveal() == GOOD_KEY[::-1]
    assert config.partners["county-110"].key.reveal() == GOOD_KEY
    assert config.partners["county-110"].name == "county-110"
    # Keys never show in a repr (and so never in a log line printing the config).
    assert GOOD_KEY not in repr(config) and GOOD_KEY[::-1] not in repr(config)


def test_every_problem_reported_with_its_line_in_chinese_and_english():
    text = """\
self:
  id: bad id!
  key_env: SELF_KEY
outbox:
  max_attempts: -1
  colour: red
partners:
  - id: city-110
    base_url: ftp://x
    key_env: CITY_KEY
  - id: city-110
    key_env: SHORT_KEY
  - name: no id, no key
"""
    with pytest.raises(ConfigError) as err:
        _parse(text, {"SELF_KEY": GOOD_KEY, "SHORT_KEY": "Zq9xW"})
    found = {(i.line, i.en.split(":")[0]) for i in err.value.issues}
    assert (2, "id") in found
    assert (5, "max_attempts") in found
    assert (6, "unknown setting") in found
    assert (9, "base_url") in found
    assert (10, "key not found") in found
    assert (11, "duplicate partner id") in found
    assert (12, "key too short") in found
    assert any(i.line == 13 and "missing required setting" in i.en for i in err.value.issues)
    assert any(i.line == 13 and "no key source" in i.en for i in err.value.issues)
    assert all(i.zh and i.file == "partners.yaml" for i in err.value.issues)
    assert "Zq9xW" not in str(err.value)  # a wrong key is not echoed either


def test_empty_partner_list_refused():
    with pytest.raises(ConfigError) as err:
        _parse("self: {id: a, key_env: K}\npartners: []\n", {"K": GOOD_KEY})
    assert [i.line for i in err.value.issues] == [2]


def test_shipped_config_loads_when_its_keys_are_set():
    config = load_partners(PROJECT / "config" / "partners.yaml",
                           {"POLICE110_SELF_KEY": GOOD_KEY, "POLICE110_KEY_CITY_110": GOOD_KEY})
    assert set(config.partners) == {"city-110"}
    assert config.partners["city-110"].base_url.startswith("https://")
