"""The indexes every query relies on, and the backfills of earlier releases'
documents: run by every instance at start-up, idempotent."""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from bridge.models import Channel
from bridge.store.mongo import documents

# Posts are looked up only while their job may run again; older records expire.
POST_RETENTION_SECONDS = 7 * 24 * 3600


async def backfill_channels(db: AsyncDatabase[Any]) -> None:
    """Channels: every earlier conversation and consent entry was SMS, and the old
    unique (business_number, subscriber) index would refuse the same number on
    WhatsApp. Idempotent: every instance runs it at start-up."""
    conversations, consent = db["conversations"], db["consent_events"]
    for collection in (conversations, consent):
        await collection.update_many(
            {"channel": {"$exists": False}}, {"$set": {"channel": Channel.SMS.value}}
        )
    for collection, name in (
        (conversations, "business_number_1_subscriber_1"),
        (consent, "business_number_1_subscriber_1_kind_1_at_-1_seq_-1"),
    ):
        if name in await collection.index_information():
            with contextlib.suppress(OperationFailure):  # another instance was first
                await collection.drop_index(name)
    # Earlier releases kept every message's Slack (channel, ts) unique; a burst's texts
    # now share the message that carries them.
    messages, name = db["messages"], "slack_channel_1_slack_ts_1"
    if (await messages.index_information()).get(name, {}).get("unique"):
        with contextlib.suppress(OperationFailure):
            await messages.drop_index(name)


async def create_indexes(db: AsyncDatabase[Any]) -> None:
    """Backfill, then create every index (each call a no-op once it exists)."""
    await backfill_channels(db)
    conversations, messages, jobs = db["conversations"], db["messages"], db["jobs"]
    await conversations.create_index(
        [("channel", ASCENDING), ("business_number", ASCENDING), ("subscriber", ASCENDING)],
        unique=True,
    )
    await conversations.create_index([("slack_channel", ASCENDING), ("slack_thread_ts", 1)])
    # The inboxes (list_conversations): equality fields, then the sort.
    await conversations.create_index(documents.RECENT)  # ALL
    await conversations.create_index([("status", ASCENDING), *documents.RECENT])  # OPEN
    await conversations.create_index(  # MINE, UNASSIGNED
        [("status", ASCENDING), ("assignee", ASCENDING), *documents.RECENT]
    )
    await conversations.create_index(  # FLAGGED
        [("status", ASCENDING), ("flagged", ASCENDING), *documents.RECENT]
    )
    # Outbound messages have no sid until the provider accepts them (null or
    # missing): only string sids are unique.
    await messages.create_index(
        [("sid", ASCENDING)], unique=True, partialFilterExpression={"sid": {"$type": "string"}}
    )
    await messages.create_index([("conversation_id", ASCENDING), ("created_at", ASCENDING)])
    # Replies have their Slack ts from the start, unique; inbound texts get theirs when
    # posted, shared by the texts of a burst that one message carries.
    await messages.create_index(
        [("slack_channel", ASCENDING), ("slack_ts", ASCENDING), ("direction", ASCENDING)],
        unique=True,
        partialFilterExpression={"slack_ts": {"$type": "string"}, "direction": "outbound"},
    )
    await messages.create_index(
        [("slack_channel", ASCENDING), ("slack_ts", ASCENDING)],
        partialFilterExpression={"slack_ts": {"$type": "string"}},
    )
    # While a post job is unfinished it is the only durable copy of its message
    # that is sure to exist: this index makes the sid unique across both.
    await jobs.create_index(
        [("message.sid", ASCENDING)],
        unique=True,
        partialFilterExpression={"message.sid": {"$exists": True}},
    )
    # The same for a reply's Slack (channel, ts) while its send job is unfinished.
    await jobs.create_index(
        [("message.slack_channel", ASCENDING), ("message.slack_ts", ASCENDING)],
        unique=True,
        partialFilterExpression={"message.slack_ts": {"$type": "string"}},
    )
    # $in in a partial filter needs MongoDB >= 6.0.
    await jobs.create_index(
        [("lane", ASCENDING), ("seq", ASCENDING)],
        partialFilterExpression={"state": {"$in": documents.UNFINISHED}},
    )
    # What a claim reads: the jobs marked as their lanes' heads (jobs.py), by seq.
    await jobs.create_index(
        [("head", ASCENDING), ("seq", ASCENDING)], partialFilterExpression={"head": True}
    )
    await jobs.create_index([("state", ASCENDING), ("run_at", ASCENDING)])
    await jobs.create_index([("state", ASCENDING), ("lease_until", ASCENDING)])
    await jobs.create_index([("kind", ASCENDING), ("state", ASCENDING)])
    consent = db["consent_events"]
    # A known (ref, kind) is skipped; events without a ref are never deduplicated.
    await consent.create_index(
        [("ref", ASCENDING), ("kind", ASCENDING)],
        unique=True,
        partialFilterExpression={"ref": {"$type": "string"}},
    )
    await consent.create_index(
        [
            ("channel", ASCENDING),
            ("business_number", ASCENDING),
            ("subscriber", ASCENDING),
            ("kind", ASCENDING),
            *documents.LATEST,
        ]
    )
    await consent.create_index([("at", ASCENDING), ("seq", ASCENDING)])  # consent_log
    posts = db["slack_posts"]
    await posts.create_index(
        [("channel", ASCENDING), ("started_at", ASCENDING)],
        partialFilterExpression={"ts": None},  # unsettled_posts
    )
    await posts.create_index([("started_at", ASCENDING)], expireAfterSeconds=POST_RETENTION_SECONDS)
    await posts.create_index([("channel", ASCENDING), ("ts", ASCENDING)])  # landed_post
    await db["digest_items"].create_index(
        [("via", ASCENDING), ("to", ASCENDING), ("sent", ASCENDING), ("due", ASCENDING)]
    )
    await db["push_subscriptions"].create_index([("user", ASCENDING), ("created_at", ASCENDING)])
    await messages.create_index(  # campaign_progress, cancel_campaign_texts
        [("campaign_id", ASCENDING), ("status", ASCENDING)],
        partialFilterExpression={"campaign_id": {"$type": "string"}},
    )
    await db["campaigns"].create_index([("created_at", ASCENDING), ("_id", ASCENDING)])
    recipients = db["campaign_recipients"]
    await recipients.create_index([("campaign_id", ASCENDING), ("seq", ASCENDING)])
    await recipients.create_index(
        [("campaign_id", ASCENDING), ("state", ASCENDING), ("seq", ASCENDING)]
    )
    await recipients.create_index([("campaign_id", ASCENDING), ("subscriber", ASCENDING)])
    # Answers: a campaign's tally and its answers oldest first.
    await db["campaign_answers"].create_index(
        [("campaign_id", ASCENDING), ("at", ASCENDING), ("subscriber", ASCENDING)]
    )
    # Ratings by when they came, across campaigns (the feedback report); review
    # requests are found by their _id.
    await db["campaign_answers"].create_index([("at", ASCENDING), ("subscriber", ASCENDING)])
    # Lessons waiting for an admin, oldest first; the entries agents corrected most.
    await db["lessons"].create_index(
        [("state", ASCENDING), ("proposed_at", ASCENDING), ("_id", ASCENDING)]
    )
    await db["draft_outcomes"].create_index([("corrected", DESCENDING), ("_id", ASCENDING)])
