"""Which MMS media the bridge attaches in Slack: the rules, apart from the fetching."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 5 * 1024 * 1024  # Twilio's own MMS limit
ALLOWED_TYPES = ("image/", "video/", "audio/", "application/pdf", "text/vcard", "text/x-vcard")


class MediaRejected(Exception):
    """The media can't be attached; the text is the reason an agent reads."""


@dataclass(frozen=True)
class Fetched:
    content_type: str
    data: bytes


def check(content_type: str, size: int | None, max_bytes: int = MAX_BYTES) -> None:
    if not content_type.startswith(ALLOWED_TYPES):
        raise MediaRejected(f"{content_type or 'untyped'} files are not attached")
    if size is not None and size > max_bytes:
        raise MediaRejected(f"larger than {max_bytes // (1024 * 1024)} MB")
