from __future__ import annotations

import json

from tickets.commands import NewTicket
from tickets.store import TicketStore
from tickets.views import audit_to_dict, ticket_to_dict
from tickets.vocab import Channel


def test_ticket_dict_masks_caller_and_is_json(store: TicketStore) -> None:
    t = store.create_ticket(NewTicket(channel=Channel.PHONE, line="property", kind="complaint",
                                      sla_days=7, caller_number="+8613912345678", emergency=True))
    masked = ticket_to_dict(t)
    assert "13912345678" not in json.dumps(masked)
    assert masked["caller"] == "139******78"
    assert masked["flags"] == ["emergency"]
    assert masked["status_zh"] == "新建"
    assert masked["due_local"] == "2026-12-07 18:00"
    assert ticket_to_dict(t, reveal_caller=True)["caller"] == "13912345678"
    entries = [audit_to_dict(a) for a in store.audit_trail(t.number)]
    assert json.loads(json.dumps(entries))[0]["field"] == "created"
