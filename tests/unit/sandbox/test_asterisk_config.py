"""The rendered Asterisk configuration: what every installation gets from config/asterisk."""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from ami_bridge.events import OUR_VARIABLES
from hotline.asterisk_config import (
    GENERAL_QUEUE,
    PLACEHOLDER,
    AsteriskValues,
    RenderError,
    install_config_set,
    main,
    render_config_set,
    render_text,
    values_from_env,
)
from tests.unit.sandbox import asterisk_conf
from tests.unit.sandbox.asterisk_conf import Section, find

TEMPLATES = Path(__file__).resolve().parents[3] / "config/asterisk"
SECRET = "s3cret-for-tests-0123456789abcdef"
LINES = ["enterprise", "property", "hr_social_security", "womens_rights", "market_regulation"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_config_set(TEMPLATES, AsteriskValues(ami_secret=SECRET))


def conf(rendered: dict[str, str], name: str) -> list[Section]:
    return asterisk_conf.parse(rendered[name])


def test_render_text_fills_every_placeholder() -> None:
    assert render_text("bind=@HOST@:@PORT@ user@example", {"HOST": "127.0.0.1", "PORT": "5060"}) \
        == "bind=127.0.0.1:5060 user@example"


def test_unknown_placeholder_is_an_error_naming_it() -> None:
    with pytest.raises(RenderError, match=r"x.conf: no value for @NOPE@"):
        render_text("a=@NOPE@", {}, "x.conf")


@pytest.mark.parametrize("value", ["a\nb", "a;b", "[evil]", "x\r"])
def test_values_that_could_inject_config_lines_are_refused(value: str) -> None:
    with pytest.raises(RenderError, match="@V@"):
        render_text("k=@V@", {"V": value})


def test_no_secret_no_render() -> None:
    with pytest.raises(RenderError, match="AMI secret"):
        render_config_set(TEMPLATES, AsteriskValues())


def test_values_repr_hides_the_secret() -> None:
    assert SECRET not in repr(AsteriskValues(ami_secret=SECRET))


def test_every_template_is_rendered_and_nothing_is_left(rendered: dict[str, str]) -> None:
    expected = {p.name for p in TEMPLATES.glob("*.conf")}
    assert set(rendered) == expected
    for name, text in rendered.items():
        assert not PLACEHOLDER.search(text), name
        asterisk_conf.parse(text)  # well-formed: sections, options, known templates


def test_secret_is_only_in_manager_conf(rendered: dict[str, str]) -> None:
    assert [n for n, t in rendered.items() if SECRET in t] == ["manager.conf"]


def test_manager_conf_loopback_user_with_the_classes_the_bridge_needs(
        rendered: dict[str, str]) -> None:
    sections = conf(rendered, "manager.conf")
    general = find(sections, "general")
    assert general.get("enabled") == "yes"
    assert general.get("bindaddr") == "127.0.0.1"
    assert general.get("port") == "5038"
    # Exactly the variables the bridge decodes from channel events.
    assert general.get("channelvars") == ",".join(OUR_VARIABLES)
    user = find(sections, "hotline")
    assert user.get("secret") == SECRET
    assert user.all("deny") == ["0.0.0.0/0.0.0.0"]
    assert user.all("permit") == ["127.0.0.1/255.255.255.255"]
    assert set(user.get("read", ).split(",")) >= {"system", "call", "agent", "dialplan", "user"}
    assert set(user.get("write").split(",")) >= {"system", "call", "agent", "originate",
                                                 "command", "user"}


def test_pjsip_loopback_transport_callers_agents_and_110(rendered: dict[str, str]) -> None:
    sections = conf(rendered, "pjsip.conf")
    transport = find(sections, "transport-udp", "transport")
    assert transport.get("bind") == "127.0.0.1:5060"
    assert transport.get("protocol") == "udp"
    callers = find(sections, "callers", "endpoint")
    assert callers.get("context") == "from-callers"
    assert callers.get("language") == "zh"
    assert callers.get("direct_media") == "no"
    assert callers.get("allow") == "ulaw,alaw"
    assert callers.get("media_address") == "127.0.0.1"
    identify = find(sections, "callers-identify", "identify")
    assert identify.get("endpoint") == "callers"
    assert identify.get("match") == "127.0.0.1"
    for n in range(1, 5):
        name = f"100{n}"
        endpoint = find(sections, name, "endpoint")
        assert endpoint.get("context") == "agents"
        assert endpoint.get("aors") == name
        aor = find(sections, name, "aor")
        assert aor.get("contact") == f"sip:{name}@127.0.0.1:508{n}"
    police = find(sections, "police110", "endpoint")
    assert police.get("aors") == "police110"
    assert find(sections, "police110", "aor").get("contact") == "sip:110@127.0.0.1:5090"


def test_one_queue_per_line_without_static_members(rendered: dict[str, str]) -> None:
    sections = conf(rendered, "queues.conf")
    queues = {s.name: s for s in asterisk_conf.concrete(sections) if s.name != "general"}
    assert set(queues) == {*LINES, GENERAL_QUEUE}
    for queue in queues.values():
        assert queue.all("member") == []
        assert queue.get("ringinuse") == "no"
        assert queue.get("musicclass") == "default"
    for line in LINES:
        # An unstaffed specialist line is neither joined nor held: the dialplan overflows.
        assert {"paused", "unavailable", "invalid"} <= set(queues[line].get("joinempty").split(","))
        assert {"paused", "unavailable"} <= set(queues[line].get("leavewhenempty").split(","))
    assert queues[GENERAL_QUEUE].get("joinempty") == "yes"


def _extensions(text: str, context: str) -> str:
    match = re.search(rf"^\[{re.escape(context)}\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert match, f"no context {context}"
    return match.group(1)


def test_dialplan_12345_runs_the_ivr_with_a_bounded_step_then_queues(
        rendered: dict[str, str]) -> None:
    text = rendered["extensions.conf"]
    entry = _extensions(text, "from-callers")
    assert "exten => 12345,1," in entry
    assert "Set(CHANNEL(language)=zh)" in entry
    assert "HOTLINE_CALL_ID=" in entry
    assert "TIMEOUT(absolute)=" in entry
    assert "exten => T,1,Goto(hotline-queue,s,1)" in entry
    assert "HOTLINE_AGI = agi://127.0.0.1:4573/ivr" in _extensions(text, "globals")
    assert "AGI(${HOTLINE_AGI})" in entry
    queue = _extensions(text, "hotline-queue")
    assert "TIMEOUT(absolute)=0" in queue
    assert f"Queue({GENERAL_QUEUE}," in queue
    assert "Queue(${ROUTE_QUEUE}," in queue
    assert "Hangup(" in queue.split(f"Queue({GENERAL_QUEUE},")[1]


def test_dialplan_has_agents_110_and_test_injection(rendered: dict[str, str]) -> None:
    text = rendered["extensions.conf"]
    assert "Dial(PJSIP/${EXTEN}" in _extensions(text, "agents")
    police = _extensions(text, "police-110")
    assert "Dial(PJSIP/police110" in police
    assert "HOTLINE_CITIZEN_NUMBER" in police
    inject = _extensions(text, "test-inject")
    assert "Playback(${INJECT_FILE})" in inject
    assert "SendDTMF(${INJECT_DTMF}" in inject


def test_modules_are_listed_once_and_nothing_autoloads(rendered: dict[str, str]) -> None:
    modules = find(conf(rendered, "modules.conf"), "modules")
    assert modules.get("autoload") == "no"
    loads = modules.all("load")
    assert len(loads) == len(set(loads))
    assert {"chan_pjsip.so", "res_agi.so", "app_queue.so", "app_audiosocket.so",
            "app_mixmonitor.so", "app_confbridge.so", "res_musiconhold.so"} <= set(loads)


def test_rtp_and_musiconhold(rendered: dict[str, str]) -> None:
    rtp = find(conf(rendered, "rtp.conf"), "general")
    assert (rtp.get("rtpstart"), rtp.get("rtpend")) == ("10000", "10999")
    assert find(conf(rendered, "musiconhold.conf"), "default").get("directory") == "moh"


def test_install_replaces_the_package_files_and_protects_the_secret(
        tmp_path: Path, rendered: dict[str, str]) -> None:
    etc = tmp_path / "etc/asterisk"
    (etc / "manager.d").mkdir(parents=True)
    (etc / "manager.d/old.conf").write_text("x")
    (etc / "sip.conf").write_text("[general]\n")
    install_config_set(rendered, etc)
    assert sorted(p.name for p in etc.iterdir()) == sorted(rendered)
    assert stat.S_IMODE((etc / "manager.conf").stat().st_mode) == 0o600
    assert (etc / "queues.conf").read_text() == rendered["queues.conf"]
    install_config_set(rendered, etc)  # again: same result
    assert sorted(p.name for p in etc.iterdir()) == sorted(rendered)


def test_values_from_env_overrides_and_reads_the_shared_secret() -> None:
    values = values_from_env({"HOTLINE_AMI_SECRET": "abc", "HOTLINE_AST_AGI_HOST": "10.0.0.5"})
    assert values == replace(AsteriskValues(), ami_secret="abc", agi_host="10.0.0.5")


def test_command_line_renders_from_the_environment(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI_SECRET", SECRET)
    assert main(["asterisk_config.py", str(TEMPLATES), str(tmp_path / "out")]) == 0
    assert SECRET in (tmp_path / "out/manager.conf").read_text()
    monkeypatch.delenv("HOTLINE_AMI_SECRET")
    assert main(["asterisk_config.py", str(TEMPLATES), str(tmp_path / "out2")]) == 1
    assert main(["asterisk_config.py"]) == 2
