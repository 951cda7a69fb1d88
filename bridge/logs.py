"""Structured JSON logs (structlog), with phone numbers masked wherever they appear.

The bridge's own events and every library's `logging` records (Twilio, Bolt, slack_sdk,
aiohttp, asyncio) go through one handler and one formatter: the same JSON lines, the
same masking, tracebacks included."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from bridge.phones import mask

# +14155550123, whatsapp:+1…, +1 415-555-0123 and, in a logged URL, %2B14155550123.
_PHONE = re.compile(r"(?:\+|%2[bB])(\d(?:[\s().-]?\d){7,14})")

# Libraries that write what requests carry (numbers, texts) below these levels: Twilio's
# HTTP client logs each request's parameters at info, Bolt and slack_sdk whole bodies at
# debug, bm25s sets itself to debug when imported.
_LIBRARY_FLOORS = {
    "twilio.http_client": logging.WARNING,
    "twilio.async_http_client": logging.WARNING,
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "aiohttp": logging.INFO,
    "bm25s": logging.INFO,
}


_render = structlog.processors.JSONRenderer()


def _masked(match: re.Match[str]) -> str:
    # The mask's dots escaped: the line stays ASCII, as the renderer wrote it.
    return mask("+" + re.sub(r"\D", "", match.group(1))).replace("•", "\\u2022")


def _render_masked(logger: Any, name: str, event: EventDict) -> str:
    """The event as one JSON line with every phone number masked, in any field."""
    return _PHONE.sub(_masked, str(_render(logger, name, event)))


def configure(level: str = "info") -> None:
    threshold = logging.getLevelName(level.upper())
    stamped: list[Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *stamped,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*stamped, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _render_masked,
            ],
        )
    )
    logging.captureWarnings(True)  # Python's warnings, too, as JSON lines
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(threshold)
    for name, floor in _LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, threshold))
