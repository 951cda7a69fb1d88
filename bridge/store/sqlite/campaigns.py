"""Campaigns, their recipients (one row each, in the order chosen) and their texts
(messages with a `campaign_id`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property

import aiosqlite

from bridge.campaigns.models import (
    Campaign,
    CampaignSpec,
    CampaignState,
    Progress,
    Recipient,
)
from bridge.models import Channel, ConsentKind, Contact, Conversation, Message, NewJob, utcnow
from bridge.store import effects
from bridge.store.campaign_listening import ListeningCache
from bridge.store.campaign_specs import SpecCache
from bridge.store.sqlite import rows
from bridge.store.sqlite.answers import campaign_listening
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_in

# Every column but the spec, which comes from the store's SpecCache.
_STATE = (
    "id, state, created_by, created_at, started_at, finished_at, closes_at, closed,"
    " slack_channel, progress_ts, results_ts"
)


async def _enqueue_all(db: aiosqlite.Connection, jobs: Sequence[tuple[NewJob, datetime]]) -> None:
    for job, due in jobs:
        await enqueue_in(db, job, run_at=rows.ts(due))


class CampaignRows(SQLiteConnection):
    """CampaignStore on SQLite."""

    @cached_property
    def _specs(self) -> SpecCache:
        return SpecCache()

    @cached_property
    def _listening(self) -> ListeningCache:
        return ListeningCache()

    async def _any_listening(self) -> bool:
        async with self._lock:
            return await campaign_listening(self.db, utcnow())

    async def _read_specs(self, campaign_ids: list[str]) -> dict[str, CampaignSpec]:
        found = await self._all(
            f"SELECT id, spec FROM campaigns WHERE id IN {rows.ONE_OF}",  # noqa: S608
            (rows.listed(campaign_ids),),
        )
        return {row["id"]: CampaignSpec.model_validate_json(row["spec"]) for row in found}

    async def _campaigns_of(self, found: Sequence[aiosqlite.Row]) -> list[Campaign]:
        specs = await self._specs.specs((row["id"] for row in found), self._read_specs)
        return [rows.campaign(row, specs[row["id"]]) for row in found]

    async def _campaign_of(self, row: aiosqlite.Row | None) -> Campaign | None:
        return None if row is None else (await self._campaigns_of([row]))[0]

    async def create_campaign(
        self,
        campaign: Campaign,
        subscribers: Sequence[str],
        *,
        jobs: Sequence[tuple[NewJob, datetime]] = (),
    ) -> bool:
        self._listening.clear()  # a reply may come as soon as its texts go out
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO campaigns (id, spec, state, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (
                    campaign.id,
                    campaign.spec.model_dump_json(),
                    campaign.state.value,
                    campaign.created_by,
                    rows.ts(campaign.created_at),
                ),
            )
            created = cur.rowcount == 1
            if created:
                await db.executemany(
                    "INSERT INTO campaign_recipients (campaign_id, seq, subscriber)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [(campaign.id, n, who) for n, who in enumerate(subscribers)],
                )
            await _enqueue_all(db, jobs)
        return created

    async def get_campaign(self, campaign_id: str) -> Campaign | None:
        row = await self._one(f"SELECT {_STATE} FROM campaigns WHERE id = ?", (campaign_id,))  # noqa: S608
        return await self._campaign_of(row)

    async def list_campaigns(self, *, limit: int = 20) -> list[Campaign]:
        found = await self._all(
            f"SELECT {_STATE} FROM campaigns ORDER BY created_at DESC, id DESC LIMIT ?",  # noqa: S608
            (limit,),
        )
        return await self._campaigns_of(found)

    async def _move(
        self, campaign_id: str, fields: dict[str, object], *, where: str, params: Sequence[object]
    ) -> Campaign | None:
        """One compare-and-set on the campaign row: the campaign after, or None."""
        assignments = ", ".join(f"{name} = ?" for name in fields)  # our own column names
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE campaigns SET {assignments} WHERE id = ? AND {where}",  # noqa: S608
                (*fields.values(), campaign_id, *params),
            )
            if cur.rowcount == 0:
                return None
            row = await rows.fetchone(
                db,
                f"SELECT {_STATE} FROM campaigns WHERE id = ?",  # noqa: S608
                (campaign_id,),
            )
        assert row is not None
        return await self._campaign_of(row)

    async def set_campaign_state(
        self, campaign_id: str, state: CampaignState, *, expect: Sequence[CampaignState]
    ) -> Campaign | None:
        if not expect:
            return None
        return await self._move(
            campaign_id,
            {"state": state.value},
            where=f"state IN {rows.ONE_OF}",
            params=[rows.listed(s.value for s in expect)],
        )

    async def start_campaign(
        self,
        campaign_id: str,
        *,
        at: datetime,
        closes_at: datetime | None,
        jobs: Sequence[tuple[NewJob, datetime]] = (),
    ) -> Campaign | None:
        self._listening.clear()
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE campaigns SET state = 'sending', started_at = ?, closes_at = ?"
                " WHERE id = ? AND state = 'scheduled'",
                (rows.ts(at), None if closes_at is None else rows.ts(closes_at), campaign_id),
            )
            if cur.rowcount == 0:
                return None
            await _enqueue_all(db, jobs)
            row = await rows.fetchone(
                db,
                f"SELECT {_STATE} FROM campaigns WHERE id = ?",  # noqa: S608
                (campaign_id,),
            )
        assert row is not None
        return await self._campaign_of(row)

    async def finish_campaign(self, campaign_id: str, *, at: datetime) -> Campaign | None:
        return await self._move(
            campaign_id,
            {"state": CampaignState.DONE.value, "finished_at": rows.ts(at)},
            where="state = 'sending' AND NOT EXISTS (SELECT 1 FROM campaign_recipients"
            " WHERE campaign_id = campaigns.id AND state = 'pending')",
            params=(),
        )

    async def close_campaign(self, campaign_id: str) -> Campaign | None:
        return await self._move(campaign_id, {"closed": 1}, where="closed = 0", params=())

    async def set_campaign_slack(
        self,
        campaign_id: str,
        *,
        channel: str,
        progress_ts: str | None = None,
        results_ts: str | None = None,
    ) -> None:
        await self._write(
            "UPDATE campaigns SET slack_channel = ?, progress_ts = coalesce(?, progress_ts),"
            " results_ts = coalesce(?, results_ts) WHERE id = ?",
            (channel, progress_ts, results_ts, campaign_id),
        )

    async def campaign_recipients(self, campaign_id: str) -> list[Recipient]:
        found = await self._all(
            "SELECT * FROM campaign_recipients WHERE campaign_id = ? ORDER BY seq",
            (campaign_id,),
        )
        return [rows.recipient(row) for row in found]

    async def pending_recipients(self, campaign_id: str, *, limit: int) -> list[Recipient]:
        found = await self._all(
            "SELECT * FROM campaign_recipients WHERE campaign_id = ? AND state = 'pending'"
            " ORDER BY seq LIMIT ?",
            (campaign_id, limit),
        )
        return [rows.recipient(row) for row in found]

    async def queue_campaign_text(
        self, message: Message, subscriber: str, *, send_at: datetime
    ) -> bool:
        return await self.queue_campaign_texts([(message, subscriber, send_at)]) == 1

    async def queue_campaign_texts(self, texts: Sequence[tuple[Message, str, datetime]]) -> int:
        queued = 0
        async with self._tx() as db:
            for message, subscriber, send_at in texts:
                cur = await db.execute(
                    "UPDATE campaign_recipients SET state = 'queued', message_id = ?,"
                    " conversation_id = ? WHERE campaign_id = ? AND subscriber = ?"
                    " AND state = 'pending'",
                    (message.id, message.conversation_id, message.campaign_id, subscriber),
                )
                if cur.rowcount == 0:
                    continue
                await db.execute(
                    "INSERT INTO messages (id, conversation_id, direction, body, created_at,"
                    " status, purpose, campaign_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        message.id,
                        message.conversation_id,
                        message.direction.value,
                        message.body,
                        rows.ts(message.created_at),
                        message.status.value,
                        message.purpose.value,
                        message.campaign_id,
                    ),
                )
                for job in effects.after_queued(message):
                    await enqueue_in(db, job, run_at=rows.ts(send_at))
                queued += 1
        return queued

    async def skip_recipient(self, campaign_id: str, subscriber: str, reason: str) -> bool:
        changed = await self._write(
            "UPDATE campaign_recipients SET state = 'skipped', reason = ?"
            " WHERE campaign_id = ? AND subscriber = ? AND state = 'pending'",
            (reason, campaign_id, subscriber),
        )
        return changed == 1

    async def cancel_campaign_texts(self, campaign_id: str) -> int:
        return await self._write(
            "UPDATE messages SET status = 'cancelled' WHERE campaign_id = ? AND status = 'queued'",
            (campaign_id,),
        )

    async def campaign_progress(self, campaign_id: str) -> Progress:
        async with self._lock:
            states = await rows.fetchall(
                self.db,
                "SELECT state, count(*) AS n FROM campaign_recipients WHERE campaign_id = ?"
                " GROUP BY state",
                (campaign_id,),
            )
            statuses = await rows.fetchall(
                self.db,
                "SELECT status, count(*) AS n FROM messages WHERE campaign_id = ? GROUP BY status",
                (campaign_id,),
            )
            opted_out = await rows.fetchone(
                self.db,
                # The latest conversational consent event of each recipient, when it is a
                # revocation made after the campaign began.
                """
                SELECT count(*) FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
                WHERE r.campaign_id = ? AND c.started_at IS NOT NULL AND EXISTS (
                  SELECT 1 FROM consent_events e
                  WHERE e.channel = json_extract(c.spec, '$.channel')
                    AND e.business_number = json_extract(c.spec, '$.from_number')
                    AND e.subscriber = r.subscriber AND e.kind = ? AND e.granted = 0
                    AND e.at >= c.started_at
                    AND NOT EXISTS (
                      SELECT 1 FROM consent_events later
                      WHERE later.channel = e.channel AND later.business_number = e.business_number
                        AND later.subscriber = e.subscriber AND later.kind = e.kind
                        AND later.at > e.at AND later.granted = 1))
                """,
                (campaign_id, ConsentKind.CONVERSATIONAL.value),
            )
        return Progress.count(
            {row["state"]: row["n"] for row in states},
            {row["status"]: row["n"] for row in statuses},
            opted_out_since=int(opted_out[0]) if opted_out else 0,
        )

    async def latest_campaign_text(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> tuple[Campaign, Message] | None:
        if not await self._listening.listening(self._any_listening):
            return None
        row = await self._one(
            """
            SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE c.channel = ? AND c.business_number = ? AND c.subscriber = ?
              AND m.campaign_id IS NOT NULL AND m.sid IS NOT NULL
            ORDER BY m.created_at DESC LIMIT 1
            """,
            (channel.value, business_number, subscriber),
        )
        if row is None:
            return None
        message = rows.message(row)
        assert message.campaign_id is not None
        campaign = await self.get_campaign(message.campaign_id)
        return None if campaign is None else (campaign, message)

    async def open_campaign_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        opened = await self.open_campaign_conversations(business_number, [subscriber], channel)
        return opened[subscriber]

    async def open_campaign_conversations(
        self, business_number: str, subscribers: Sequence[str], channel: Channel = Channel.SMS
    ) -> dict[str, Conversation]:
        opened: dict[str, Conversation] = {}
        async with self._tx() as db:
            for subscriber in subscribers:
                key = (channel.value, business_number, subscriber)
                await db.execute(
                    "INSERT INTO conversations (channel, business_number, subscriber,"
                    " created_at, last_activity_at) VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                    (*key, rows.ts(utcnow())),
                )
                row = await rows.fetchone(
                    db,
                    "SELECT * FROM conversations"
                    " WHERE channel = ? AND business_number = ? AND subscriber = ?",
                    key,
                )
                assert row is not None
                opened[subscriber] = rows.conversation(row)
        return opened

    async def campaign_contacts(self) -> list[Contact]:
        found = await self._all("SELECT * FROM contacts ORDER BY phone")
        return [rows.contact(row) for row in found]

    async def last_texts(
        self, business_number: str, channel: Channel
    ) -> dict[str, datetime | None]:
        found = await self._all(
            "SELECT subscriber, last_inbound_at FROM conversations"
            " WHERE channel = ? AND business_number = ?",
            (channel.value, business_number),
        )
        return {row["subscriber"]: rows.dt(row["last_inbound_at"]) for row in found}
