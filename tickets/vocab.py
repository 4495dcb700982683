"""Closed vocabularies of the ticket store and the allowed status transitions."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    POLICE110 = "police110"  # referred to us by the 110 police platform


class Status(StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    REPLIED = "replied"
    REVIEWED = "reviewed"
    CLOSED = "closed"


class RecordingKind(StrEnum):
    SPEECH = "speech"  # the caller's description captured by the IVR
    CALL = "call"  # the whole conversation with the agent (MixMonitor)


# Why each edge exists:
#   new -> dispatched   one-step dispatch by the agent who answered (接交一体)
#   new -> closed       answered on the phone, nothing to dispatch (直接办结)
#   dispatched -> new   the department sends it back as not theirs (退回), to be re-dispatched
#   dispatched -> replied   the department answers
#   replied -> reviewed     the hotline checks the answer (回访/审核)
#   replied -> dispatched   the answer is not acceptable: back to the department
#   reviewed -> closed
#   reviewed -> dispatched  the caller is not satisfied: handled again
# closed is final: a new request becomes a new ticket (and a repeat-caller flag).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.DISPATCHED, Status.CLOSED}),
    Status.DISPATCHED: frozenset({Status.NEW, Status.REPLIED}),
    Status.REPLIED: frozenset({Status.REVIEWED, Status.DISPATCHED}),
    Status.REVIEWED: frozenset({Status.CLOSED, Status.DISPATCHED}),
    Status.CLOSED: frozenset(),
}

STATUS_ZH = {
    Status.NEW: "新建",
    Status.DISPATCHED: "已派单",
    Status.REPLIED: "已回复",
    Status.REVIEWED: "已审核",
    Status.CLOSED: "已办结",
}


def can_transition(before: Status, after: Status) -> bool:
    return after in TRANSITIONS[before]
