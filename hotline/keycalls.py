"""sipp callers that press keys: the RTP they replay (silence plus RFC 4733 key
presses) and their scenario. Used by the integration tests and by `hotline demo`.

sipp's stock `dtmf_2833_*.pcap` files carry fixed RTP timestamps, and Asterisk
drops a key whose timestamp is not above the previous key's, so a second key in
the same call (or the same key again) would be lost. Here each call's capture is
written with one continuous stream: sequence numbers and timestamps rise across
audio and key events alike.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

SIPP_DIR = Path(__file__).resolve().parent / "sipp"
KEY_SCENARIO_TEMPLATE = SIPP_DIR / "ivr_keys.xml"
UAS_SCENARIO = SIPP_DIR / "uas_answer.xml"

PCMU_SILENCE = b"\xff" * 160  # 20 ms of mu-law silence
PT_PCMU = 0
PT_EVENT = 101
EVENT_CODE = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
SSRC = 0x12345678
SRC_PORT, DST_PORT = 6000, 10000  # sipp rewrites both; these only make the capture valid
KEY_SAMPLES = 1600  # a 200 ms press


def _ip_udp(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", SRC_PORT, DST_PORT, 8 + len(payload), 0) + payload
    total = 20 + len(udp)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    checksum = 0
    for i in range(0, 20, 2):
        checksum += (header[i] << 8) + header[i + 1]
    checksum = (checksum & 0xFFFF) + (checksum >> 16)
    header = header[:10] + struct.pack("!H", ~checksum & 0xFFFF) + header[12:]
    ethernet = b"\x00" * 12 + b"\x08\x00"
    return ethernet + header + udp


def _rtp(seq: int, ts: int, pt: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, SSRC) + payload


def rtp_packets(keys: Sequence[tuple[float, str]], duration: float) -> list[tuple[float, bytes]]:
    """(send time, RTP packet) for `duration` seconds with `keys` pressed at their times."""
    presses = sorted(keys)
    out: list[tuple[float, bytes]] = []
    seq = 1
    t_samples = 0
    end = int(duration * 8000)
    while t_samples < end:
        if presses and t_samples >= int(presses[0][0] * 8000):
            _, key = presses.pop(0)
            start = t_samples
            code = EVENT_CODE[key]
            # progress packets every 20 ms, then the end packet three times
            for done in range(160, KEY_SAMPLES + 1, 160):
                final = done == KEY_SAMPLES
                repeats = 3 if final else 1
                for _ in range(repeats):
                    payload = struct.pack("!BBH", code, (0x80 if final else 0) | 10, done)
                    out.append(((start + done - 160) / 8000,
                                _rtp(seq, start, PT_EVENT, payload, marker=done == 160)))
                    seq += 1
            t_samples = start + KEY_SAMPLES
            continue
        out.append((t_samples / 8000, _rtp(seq, t_samples, PT_PCMU, PCMU_SILENCE)))
        seq += 1
        t_samples += 160
    return out


def write_pcap(path: Path, keys: Sequence[tuple[float, str]], duration: float) -> Path:
    """A libpcap file (Ethernet/IPv4/UDP/RTP) sipp's play_pcap_audio can replay."""
    chunks = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for at, packet in rtp_packets(keys, duration):
        frame = _ip_udp(packet)
        sec = int(at)
        usec = round((at - sec) * 1_000_000)
        chunks.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(chunks))
    return path


def key_caller_scenario(workdir: Path, keys: str, first_at: float = 1.5, gap: float = 2.5,
                        duration: float = 12.0) -> Path:
    """A sipp scenario whose caller presses `keys` (first at `first_at` s, then every `gap`).

    sipp loads the capture when it reads the scenario, so each caller gets its own copy of
    the template with the capture's path in it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    name = "".join({"*": "s", "#": "h"}.get(k, k) for k in keys) or "silent"
    pcap = write_pcap(workdir / f"ivr_keys_{name}.pcap",
                      [(first_at + i * gap, k) for i, k in enumerate(keys)], duration)
    scenario = workdir / f"ivr_keys_{name}.xml"
    scenario.write_text(KEY_SCENARIO_TEMPLATE.read_text().replace("@PCAP@", str(pcap)))
    return scenario
