"""AMI actions the desk sends, built by pure functions (tested without Asterisk).

Dialplan the desk relies on: contexts `desk-hold` (extensions `caller`: music on hold;
`agent`: a silent wait until bridged back) and `desk-transfer` (a line's name: that
line's queue; digits: a specialist's phone) in config/asterisk/extensions.conf.
"""

from __future__ import annotations

from hotline.asterisk_config import queue_of_line

PAUSE_REASON_WRAPUP = "话后处理"


def queue_add(line: str, interface: str, member_name: str) -> dict[str, str]:
    # StateInterface lets app_queue see the phone busy on other calls (with ringinuse=no).
    return {
        "Action": "QueueAdd",
        "Queue": queue_of_line(line),
        "Interface": interface,
        "MemberName": member_name,
        "StateInterface": interface,
        "Paused": "false",
    }


def queue_remove(line: str, interface: str) -> dict[str, str]:
    return {"Action": "QueueRemove", "Queue": queue_of_line(line), "Interface": interface}


def queue_pause(interface: str, paused: bool, reason: str = "") -> dict[str, str]:
    # No Queue header: the pause applies to every line the agent serves.
    action = {
        "Action": "QueuePause",
        "Interface": interface,
        "Paused": "true" if paused else "false",
    }
    if reason:
        action["Reason"] = reason
    return action


def hold(caller_channel: str, agent_channel: str, context: str) -> dict[str, str]:
    """Take both legs out of their bridge: the caller to music, the agent to a silent wait."""
    return {
        "Action": "Redirect",
        "Channel": caller_channel,
        "Context": context,
        "Exten": "caller",
        "Priority": "1",
        "ExtraChannel": agent_channel,
        "ExtraContext": context,
        "ExtraExten": "agent",
        "ExtraPriority": "1",
    }


def unhold(caller_channel: str, agent_channel: str) -> dict[str, str]:
    return {"Action": "Bridge", "Channel1": agent_channel, "Channel2": caller_channel, "Tone": "no"}


def transfer(caller_channel: str, context: str, exten: str) -> dict[str, str]:
    """Blind transfer of the caller; the agent's leg ends when the caller leaves the bridge."""
    return {
        "Action": "Redirect",
        "Channel": caller_channel,
        "Context": context,
        "Exten": exten,
        "Priority": "1",
    }
