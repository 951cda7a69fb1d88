"""MongoDB engine, on PyMongo's async API. Runs on a standalone server: no
multi-document transactions. Each effect has exactly one durable single-document
write; the writes around it are idempotent (they repeat or repair safely), so a
crash between two of them never loses or doubles anything.

Collections:
  counters       {_id: "jobs" | "consent_events", n}: allocators ($inc is atomic).
                 Conversations are numbered densely instead: one more than the highest.
  conversations  {_id: int id, channel, business_number, subscriber, status,
                  last_inbound_at, ...}: unique by (channel, business_number, subscriber).
  messages       {_id: message id, conversation_id, sid?, body, media, status,
                  send_began_at?, ...};
                 unique by sid and by (slack_channel, slack_ts), each where it is set.
  contacts       {_id: phone, name, fields: [{name, value}]}.
  canned         {_id: name, text}: canned responses.
  home_viewers   {_id: Slack user, filter}: who looks at the App Home, with which filter.
  away           {_id: "away", since, until, by}: the away switch, when it is on.
  notifications_sent {_id: key, at}: alerts, digests and runs of the rules that happened.
  digest_items   {_id, via, to, due, item, sent, at}: alerts waiting for a digest (kept
                 when sent, so a repeated run cannot add one again).
  notify_preferences {_id: Slack user, preferences}: App Home's notification choices.
  push_subscriptions {_id: endpoint, user, p256dh, auth, created_at}: browsers subscribed
                 to a person's Web Push notifications.
  jobs           {_id: key, kind, lane, seq, state, run_at, attempts, lease_token,
                  lease_until, rerun, ..., message?: <message document>}; the post job
                 of an inbound text and the send job of a reply carry the whole
                 message, which makes each the one durable write of `record_inbound`
                 and `record_outbound`; so does the send job of `record_system_text`.
  lanes          {_id: lane, lease_token, job_key, lease_until}: the lane's mutex.
  slack_posts    {_id: post key, channel, thread_ts, started_at, ts?, detail}: each post
                 into Slack, recorded before the call; kept a week (a TTL index).
  sla_breaches   {_id: the wait's first text (message id), conversation_id, deadline,
                  follow?}: a wait that outlasted `notifications.sla`, once; its jobs
                 are stored from `follow` (as a text's are from its post job).
  campaigns      {_id: campaign id, spec, state, created_at, …}; campaign_recipients
                 {_id: "<campaign>:<number>", campaign_id, seq, subscriber, state, …}:
                 see campaigns.py. A campaign's texts are messages with its campaign_id.
  lessons        {_id: the handed-off text's message id, state, proposed_at, question,
                  answer?, entry_id?, …}: what agents propose to teach the assistant.
  draft_outcomes {_id: knowledge-base entry id, sent, edited, discarded, corrected}.
  pace           {_id: key, tat, booked, held_until, ...}: pacing shared by every
                 process (see pace.py); milliseconds since the epoch, server time.
  write_probes   {_id: "probe", at}: rewritten, after a refused write, to learn
                 that writes work again.
  consent_events {_id: ObjectId, seq, channel, business_number, subscriber, kind, granted,
                  source, at, evidence, ref}: the consent ledger, insert-only (nothing
                 here updates or deletes it). `seq` is the append order; a string
                 (ref, kind) is unique, which is how a known event is skipped.

Datetimes are BSON dates, which hold milliseconds: every datetime is truncated to
the millisecond on the way in (as the driver would) and the truncated value is what
the engine returns, so a value read back equals the one a call returned.

One module per role of the store port (`conversations`, `messages`, …), each a class
over the shared connection; `MongoStore` is all of them.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from bridge.store.health import watch_refusals
from bridge.store.mongo.answers import AnswerDocuments
from bridge.store.mongo.away import AwayDocuments
from bridge.store.mongo.bursts import BurstDocuments
from bridge.store.mongo.campaigns import CampaignDocuments
from bridge.store.mongo.canned import CannedDocuments
from bridge.store.mongo.connection import DEFAULT_DATABASE
from bridge.store.mongo.consent import ConsentDocuments
from bridge.store.mongo.contacts import ContactDocuments
from bridge.store.mongo.conversations import ConversationDocuments
from bridge.store.mongo.draft_tallies import DraftTallyDocuments
from bridge.store.mongo.drafts import DraftDocuments
from bridge.store.mongo.feedback import FeedbackDocuments
from bridge.store.mongo.home_filters import HomeFilterDocuments
from bridge.store.mongo.jobs import JobDocuments
from bridge.store.mongo.lessons import LessonDocuments
from bridge.store.mongo.messages import MessageDocuments
from bridge.store.mongo.notifications import NotificationDocuments
from bridge.store.mongo.pace import PaceDocuments
from bridge.store.mongo.posts import PostDocuments
from bridge.store.mongo.preferences import PreferenceDocuments
from bridge.store.mongo.push_subscriptions import PushSubscriptionDocuments
from bridge.store.mongo.replies import ReplyDocuments
from bridge.store.mongo.routing import RoutingDocuments
from bridge.store.mongo.sla import SlaDocuments
from bridge.store.mongo.usage import UsageDocuments

__all__ = ["DEFAULT_DATABASE", "MongoStore"]


@watch_refusals
class MongoStore(
    ConversationDocuments,
    MessageDocuments,
    DraftDocuments,
    ReplyDocuments,
    ConsentDocuments,
    ContactDocuments,
    CannedDocuments,
    HomeFilterDocuments,
    AwayDocuments,
    PushSubscriptionDocuments,
    PostDocuments,
    NotificationDocuments,
    JobDocuments,
    UsageDocuments,
    PaceDocuments,
    BurstDocuments,
    PreferenceDocuments,
    RoutingDocuments,
    SlaDocuments,
    CampaignDocuments,
    AnswerDocuments,
    FeedbackDocuments,
    LessonDocuments,
    DraftTallyDocuments,
):
    @classmethod
    def from_uri(cls, uri: str, **client_options: Any) -> MongoStore:
        """A store on its own client; the database is the URI's path, else
        "sms_bridge". Building the client does not connect: `open()` does."""
        client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True, **client_options)
        return cls(client, client.get_default_database(DEFAULT_DATABASE).name)
