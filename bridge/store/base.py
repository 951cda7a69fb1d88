"""The persistence port. Every layer reaches state only through this interface.

Each method is one atomic effect. Engines keep it that way without multi-document
transactions (MongoDB may be a standalone server), so a crash between two calls
never leaves half an effect behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bridge.models import Contact, Conversation, InboundRecord, InboundSms, Job, Message, NewJob


class StoreUnavailable(Exception):
    """The store cannot be opened; the message names the setting to fix."""


class Store(Protocol):
    async def open(self) -> None:
        """Connect, migrate the schema or create indexes; `StoreUnavailable` if not."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True while the store answers (readiness)."""

    # --- conversations and messages -------------------------------------------------
    async def record_inbound(self, sms: InboundSms) -> InboundRecord:
        """Store a text idempotently by its MessageSid, opening the conversation of
        (business number, subscriber) if needed, and enqueue its post to Slack in
        the same write. A known MessageSid changes nothing and returns created=False."""

    async def get_conversation(self, conversation_id: int) -> Conversation | None: ...

    async def find_conversation(
        self, business_number: str, subscriber: str
    ) -> Conversation | None: ...

    async def set_thread(
        self, conversation_id: int, channel: str, thread_ts: str, *, replacing: str | None
    ) -> bool:
        """Point the conversation at a Slack thread, only if its current thread ts is
        `replacing` (compare-and-set). Returns whether it changed."""

    async def clear_thread(self, conversation_id: int, thread_ts: str) -> bool:
        """Forget a thread Slack reports gone, if it is still the current one."""

    async def mark_header_shown(self, conversation_id: int, activity_at: datetime) -> None: ...

    async def get_message(self, message_id: str) -> Message | None: ...

    async def set_message_slack_ts(self, message_id: str, channel: str, ts: str) -> None: ...

    async def get_contact(self, phone: str) -> Contact | None: ...

    async def put_contact(self, contact: Contact) -> None: ...

    # --- the outbox -----------------------------------------------------------------
    async def enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        """Add a job. A key that is pending already stays as it is (coalescing); a key
        that is running or finished is pending again at the tail of its lane."""

    async def claim_jobs(
        self, owner: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease up to `limit` due jobs, each the oldest unfinished job of its lane.
        Jobs whose lease expired (their worker died) are due again."""

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        """Keep a long-running job's lease (a heartbeat); False if it was lost."""

    async def complete_job(self, job: Job) -> bool:
        """Mark done, unless the job was re-enqueued or re-leased meanwhile."""

    async def retry_job(self, job: Job, *, run_at: datetime, error: str) -> bool: ...

    async def kill_job(self, job: Job, *, error: str) -> bool:
        """Give up on a job: it is dead and its lane moves on."""

    async def queue_depth(self) -> dict[str, int]:
        """Unfinished jobs by kind, and dead ones under the key "dead"."""
