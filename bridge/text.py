"""Plain-text helpers any layer may use (nothing here is an edge's format)."""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking the cut (Block Kit refuses
    longer texts outright)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
