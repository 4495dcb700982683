"""Logging set-up and the two rules every log line follows.

1. A line about a call carries its id (`call_id` in `extra`, shown as [call=...]).
2. A citizen's number never appears in full: use `mask_phone`.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any


def mask_phone(number: str | None) -> str:
    """Keep the first 3 and last 2 digits: enough for an operator to match a call."""
    if not number:
        return "-"
    if len(number) <= 5:
        return "*" * len(number)
    return f"{number[:3]}{'*' * (len(number) - 5)}{number[-2:]}"


class CallLog(logging.LoggerAdapter[logging.Logger]):
    """A logger bound to one call: every line says which call it is about."""

    def __init__(self, logger: logging.Logger, call_id: str) -> None:
        super().__init__(logger, {"call_id": call_id})

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        extra.update(kwargs.get("extra") or {})
        kwargs["extra"] = extra
        return msg, kwargs


class _CallIdFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        call_id = getattr(record, "call_id", None)
        record.call = f" [call={call_id}]" if call_id else ""
        return super().format(record)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        _CallIdFormatter("%(asctime)s %(levelname)s %(name)s%(call)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that narrate their start-up at INFO/DEBUG: keep their warnings only.
    for noisy in ("alembic.runtime.plugins", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # jieba sets its logger to DEBUG when imported: import it now and turn that down.
    import jieba

    jieba.setLogLevel(logging.WARNING)
