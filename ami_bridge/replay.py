"""`hotline ami replay`: run a captured AMI byte stream through the bridge's parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from ami_bridge.parser import AmiStreamParser


def replay_capture(capture: Path, chunk_size: int, out: TextIO) -> int:
    """Print one JSON object per message (headers as keys, repeated keys as lists).

    Returns 0, or 1 when the capture held malformed parts (counted on stderr-free
    stdout as a final `{"_junk": N}` line so scripts can see it).
    """
    data = capture.read_bytes()
    parser = AmiStreamParser()
    step = chunk_size if chunk_size > 0 else max(len(data), 1)
    junk = 0
    for start in range(0, len(data), step):
        result = parser.feed(data[start : start + step])
        junk += result.junk
        if result.banner is not None:
            out.write(json.dumps({"_banner": result.banner}, ensure_ascii=False) + "\n")
        for message in result.messages:
            out.write(json.dumps(message.as_dict(), ensure_ascii=False) + "\n")
    if junk:
        out.write(json.dumps({"_junk": junk}) + "\n")
    return 1 if junk else 0
