"""SQLite engine: the embedded default. One connection in WAL mode; one effect is
one transaction, so a message and its pending delivery are committed together.

One module per role of the store port (`conversations`, `messages`, …), each a class
over the shared connection; `SQLiteStore` is all of them."""

from __future__ import annotations

from pathlib import Path

from bridge.store.batching import GroupCommit
from bridge.store.health import watch_refusals
from bridge.store.sqlite.answers import AnswerRows
from bridge.store.sqlite.away import AwayRows
from bridge.store.sqlite.bursts import BurstRows
from bridge.store.sqlite.campaigns import CampaignRows
from bridge.store.sqlite.canned import CannedRows
from bridge.store.sqlite.consent import ConsentRows
from bridge.store.sqlite.contacts import ContactRows
from bridge.store.sqlite.conversations import ConversationRows
from bridge.store.sqlite.draft_tallies import DraftTallyRows
from bridge.store.sqlite.drafts import DraftRows
from bridge.store.sqlite.feedback import FeedbackRows
from bridge.store.sqlite.home_filters import HomeFilterRows
from bridge.store.sqlite.jobs import JobRows
from bridge.store.sqlite.lessons import LessonRows
from bridge.store.sqlite.messages import MessageRows
from bridge.store.sqlite.notifications import NotificationRows
from bridge.store.sqlite.pace import PaceRows
from bridge.store.sqlite.posts import PostRows
from bridge.store.sqlite.preferences import PreferenceRows
from bridge.store.sqlite.push_subscriptions import PushSubscriptionRows
from bridge.store.sqlite.replies import ReplyRows
from bridge.store.sqlite.routing import RoutingRows
from bridge.store.sqlite.schema import MIGRATIONS
from bridge.store.sqlite.sla import SlaRows
from bridge.store.sqlite.usage import UsageRows

__all__ = ["MIGRATIONS", "SQLiteStore"]


@watch_refusals
class SQLiteStore(
    ConversationRows,
    MessageRows,
    DraftRows,
    ReplyRows,
    ConsentRows,
    ContactRows,
    CannedRows,
    HomeFilterRows,
    AwayRows,
    PushSubscriptionRows,
    PostRows,
    JobRows,
    UsageRows,
    PaceRows,
    BurstRows,
    NotificationRows,
    PreferenceRows,
    RoutingRows,
    SlaRows,
    CampaignRows,
    AnswerRows,
    FeedbackRows,
    LessonRows,
    DraftTallyRows,
):
    def __init__(self, path: str | Path, *, probe_seconds: float = 2.0) -> None:
        super().__init__(path, probe_seconds=probe_seconds)
        # Concurrent calls of the two busiest writes share one transaction (one fsync).
        self._inbound = GroupCommit(self._record_inbound_batch)
        self._answers = GroupCommit(self._record_answer_batch)
        self._post_attempts = GroupCommit(self._begin_post_batch)
        self._pruned_at = 0.0  # when old post records were last pruned (epoch seconds)
