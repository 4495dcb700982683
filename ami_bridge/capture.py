"""Record what an Asterisk sends on AMI, byte for byte, for parser fixtures.

Only Asterisk's side is written to the file: our Login (with the secret) never is.
`python -m ami_bridge.capture OUT --seconds 10` against the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from hotline.settings import Settings, load_settings


async def capture(settings: Settings, out: Path, seconds: float) -> int:
    reader, writer = await asyncio.open_connection(settings.ami.host, settings.ami.port)
    secret = settings.ami_secret().reveal()
    writer.write(
        f"Action: Login\r\nUsername: {settings.ami.username}\r\nSecret: {secret}\r\n"
        "Events: on\r\nActionID: capture-login\r\n\r\n".encode()
    )
    await writer.drain()
    total = 0
    deadline = time.monotonic() + seconds
    with out.open("wb") as fh:
        while (left := deadline - time.monotonic()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except TimeoutError:
                break
            if not chunk:
                break
            fh.write(chunk)
            total += len(chunk)
    writer.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    n = asyncio.run(capture(load_settings(args.config), args.out, args.seconds))
    print(f"captured {n} bytes into {args.out}")


if __name__ == "__main__":
    main()
