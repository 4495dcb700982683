"""The sipp helper's parsing of sipp's own files, and the scenarios' shape."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.sipp import (
    UAC_SCENARIO,
    UAS_SCENARIO,
    read_stat_counts,
    write_callers_csv,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_stat_counts_of_a_run_where_both_calls_succeeded() -> None:
    # Captured from two sandbox calls that Asterisk hung up (tests/integration/sipp.py).
    assert read_stat_counts(FIXTURES / "sipp-uac-stat.csv") == (2, 2, 0)


def test_stat_counts_of_a_run_where_both_calls_failed() -> None:
    # Captured from two calls to an extension the dialplan refuses (404).
    assert read_stat_counts(FIXTURES / "sipp-uac-stat-failed.csv") == (2, 0, 2)


def test_stat_counts_of_a_missing_file(tmp_path: Path) -> None:
    assert read_stat_counts(tmp_path / "none.csv") == (0, 0, 0)


def test_callers_csv_is_sequential_number_then_name(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_callers_csv(path, [("13800138001", "张三"), ("13800138002", "李四")])
    assert path.read_text(encoding="utf-8") == "SEQUENTIAL\n13800138001;张三\n13800138002;李四\n"
    with pytest.raises(ValueError, match="may not contain"):
        write_callers_csv(path, [("1;2", "x")])


def test_uac_takes_its_caller_id_from_the_csv_and_accepts_asterisks_bye() -> None:
    root = ET.parse(UAC_SCENARIO).getroot()
    invite = root.find("send")
    assert invite is not None and invite.text is not None
    assert 'From: "[field1]" <sip:[field0]@' in invite.text
    byes = [r for r in root.iter("recv") if r.get("request") == "BYE"]
    assert [b.get("optional") for b in byes] == ["global"]


def test_uas_handles_cancel_anywhere_and_holds_until_bye() -> None:
    root = ET.parse(UAS_SCENARIO).getroot()
    recvs = [(r.get("request"), r.get("optional")) for r in root.iter("recv")]
    assert recvs[0] == ("CANCEL", "global")
    assert ("BYE", None) in recvs
