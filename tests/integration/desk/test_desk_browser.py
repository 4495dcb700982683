"""The desk in a real Chromium: agent 1001 logs in, the ticket pops within 1 s of the
answer, the agent corrects it and dispatches; the store holds the change and its audit."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from ami_bridge import events as ev
from desk.app import build_desk_app
from desk.clock import SystemClock
from desk.config import load_desk_config
from desk.kb import load_kb
from desk.memory import InMemoryTicketStore, RecordingAmi, RecordingPolice110
from desk.ports import ConfigStatus, Entity, NoConfig, SpeechPartial, TicketRecord
from desk.services import DeskDeps
from desk.users import User, UserDirectory
from hotline.bus import EventBus
from tests.integration.desk.deskbrowser import DeskPage, chromium, serve

PROJECT = Path(__file__).resolve().parents[3]
PASSWORD = "desk-test-1001"
HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def agent_event(
    kind: type[ev.AgentEvent], linkedid: str, ticket_id: str, **extra: object
) -> object:
    return kind(
        channel="PJSIP/trunk-00000007",
        uniqueid=linkedid,
        linkedid=linkedid,
        caller_num="13905581234",
        caller_name="",
        state="Up",
        context="hotline",
        exten="12345",
        vars={"TICKET_ID": ticket_id},
        queue="property",
        interface="PJSIP/1001",
        member_name="坐席 张敏",
        dest_channel="PJSIP/1001-00000008",
        dest_uniqueid=linkedid + "1",
        **extra,
    )


def make_store() -> InMemoryTicketStore:
    store = InMemoryTicketStore()
    store.add(
        TicketRecord(
            number="20261126-0007",
            created_at=datetime.now(UTC),
            caller_number="13905581234",
            transcript="俺是阳光小区的 物业费今年涨了一倍 物业公司也不公示收费标准 电梯还老坏",
            line="property",
            kind="complaint",
            sla_days=7,
            call_id="1764122400.7",
            confidence=0.82,
            explanation=(
                "物业费 → 物业服务 (+3.0)",
                "乱收费/涨价 → 投诉 (+1.5)",
                "未命中 110 规则",
            ),
            entities=(Entity("address", "谯城区幸福路阳光小区"),),
            address="谯城区幸福路阳光小区",
            ivr_path="主菜单>2>语音",
        )
    )
    store.add(
        TicketRecord(
            number="20261102-0113",
            created_at=datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
            caller_number="13905581234",
            transcript="电梯坏了三天没人修",
            summary="阳光小区3号楼电梯停运三天",
            line="property",
            kind="help",
            sla_days=3,
            status="dispatched",
            department="市城市管理局",
        )
    )
    return store


@pytest.mark.integration
async def test_agent_1001_pop_edit_dispatch(tmp_path: Path) -> None:
    bus, store, ami = EventBus(), make_store(), RecordingAmi()
    users = UserDirectory(
        [
            User(
                "agent1001",
                "坐席 张敏",
                "agent",
                HASHER.hash(PASSWORD),
                "PJSIP/1001",
                ("property", "general"),
            ),
            User("supervisor", "班长 陈红", "supervisor", HASHER.hash(PASSWORD)),
            User("admin", "系统管理员", "admin", HASHER.hash(PASSWORD)),
        ],
        hasher=HASHER,
    )
    config_status = NoConfig(
        (
            ConfigStatus("路由规则", "config/routing.yaml", True, (), datetime.now(UTC)),
            ConfigStatus(
                "语音导航",
                "config/ivr.yaml",
                False,
                ("config/ivr.yaml:12: 未知的提示音: welcome2 (unknown prompt)",),
                datetime.now(UTC),
            ),
        )
    )
    deps = DeskDeps(
        tickets=store,
        bus=bus,
        ami=ami,
        kb=load_kb(PROJECT / "config" / "kb"),
        users=users,
        clock=SystemClock(),
        police110=RecordingPolice110(),
        config=load_desk_config(PROJECT / "config" / "desk.yaml"),
        recordings_dir=tmp_path,
        config_status=config_status,
    )
    async with serve(build_desk_app(deps)) as base, chromium() as browser:
        desk = await DeskPage.open(browser, base)
        await desk.login("agent1001", PASSWORD)
        await desk.join_line("property")
        assert ami.actions[-1]["Action"] == "QueueAdd"
        assert ami.actions[-1]["Interface"] == "PJSIP/1001"

        bus.publish(agent_event(ev.AgentCalled, "1764122400.7", "20261126-0007"))
        await desk.wait_for_ticket("20261126-0007", answered=False)
        answered_at = time.monotonic()
        bus.publish(agent_event(ev.AgentConnect, "1764122400.7", "20261126-0007", hold_time=8))
        await desk.wait_for_ticket("20261126-0007", answered=True)
        pop_s = time.monotonic() - answered_at
        assert pop_s < 1.0, f"ticket shown {pop_s:.3f} s after the answer"

        page = desk.page
        assert await page.text_content("#ticket-line") == "物业服务"
        assert await desk.field("#f-address") == "谯城区幸福路阳光小区"
        assert "物业费今年涨了一倍" in (await page.text_content("#ticket-transcript") or "")
        assert "20261102-0113" in (await page.text_content("#history") or "")
        assert await page.is_visible("#repeat-flag")
        assert "物业费" in (await page.text_content("#kb-hits") or "")
        shot = await desk.screenshot("desk-screenpop.png")
        assert shot.stat().st_size > 10_000

        message = await desk.edit_and_dispatch(
            "市住房和城乡建设局",
            kind="complaint",
            summary="阳光小区物业费上涨一倍且未公示收费标准,电梯经常故障,要求核查",
        )
        assert "市住房和城乡建设局" in message
        await desk.screenshot("desk-dispatched.png")

        [request] = store.dispatches
        assert request.who == "agent1001"
        assert request.answer_to_dispatch_s is not None and request.answer_to_dispatch_s > 0
        ticket = store.tickets["20261126-0007"]
        assert (ticket.status, ticket.department) == ("dispatched", "市住房和城乡建设局")
        trail = {(a.field, a.who) for a in store.audit}
        assert {
            ("summary", "agent1001"),
            ("department", "agent1001"),
            ("status", "agent1001"),
        } <= trail

        # The supervisor's page: the live board with a caller still speaking in the IVR.
        sup = await DeskPage.open(browser, base)
        await sup.login("supervisor", PASSWORD, landing="supervisor")
        bus.publish(
            SpeechPartial("1764122500.9", "我想咨询一下 社保 转移", caller_number="13800001111")
        )
        await sup.page.wait_for_selector('tr[data-call="1764122500.9"]', timeout=2_000)
        assert "138******11" in (await sup.page.text_content("#ivr") or "")
        await sup.screenshot("desk-supervisor.png")
        admin = await DeskPage.open(browser, base)
        await admin.login("admin", PASSWORD, landing="admin")
        await admin.page.wait_for_selector("#config tr", timeout=2_000)
        assert "config/ivr.yaml:12" in (await admin.page.text_content("#config") or "")
        await admin.screenshot("desk-admin.png")
        assert desk.errors == [] and sup.errors == [] and admin.errors == []
        await sup.close()
        await desk.close()
