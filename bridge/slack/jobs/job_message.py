"""The message a job is about, or `GiveUp`: a job whose message is gone cannot succeed."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job, Message
from bridge.store.base import MessageStore


async def job_message(store: MessageStore, job: Job) -> Message:
    if job.message_id is None:
        raise GiveUp(f"{job.kind.value} job without a message")
    message = await store.get_message(job.message_id)
    if message is None:
        raise GiveUp(f"message {job.message_id} is not in the store")
    return message
