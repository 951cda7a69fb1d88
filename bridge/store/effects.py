"""A write and the jobs it causes: one function per effect, which both engines call
and store in the same write as the change (SQLite: one transaction; MongoDB: the first
job carries the message and is the durable write). A new consequence of a write is a
line here, never in an engine."""

from __future__ import annotations

from bridge.jobs import post_job, send_job
from bridge.models import Message, NewJob


def after_inbound(message: Message) -> list[NewJob]:
    """A subscriber's text was recorded: post it into its thread."""
    return [post_job(message)]


def after_queued(message: Message) -> list[NewJob]:
    """A text the business sends is QUEUED (an agent's reply, a system text, a held
    reply released): send it."""
    return [send_job(message)]
