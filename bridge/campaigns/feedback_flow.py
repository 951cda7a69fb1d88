"""A rating request's answers (`Feedback`): every rating 1-5 is counted once per
subscriber (their first), and what follows depends on it:
- 1-2: the text goes to the inbox (quoting the request), the conversation is flagged
  and routed to the support team, and the rules hear of it as urgent (`feedback.low`);
- 3: the follow-up question is texted, and what they write next goes to the inbox,
  quoting it (not read as a rating);
- 4-5: the review request, once per subscriber per `review_every_days`.
One text goes back per rating: the follow-up or the review request, else the
confirmation if the campaign has one. Every effect is keyed by campaign and subscriber,
so a provider's retry (or a crash and the retry) repeats none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

import structlog

from bridge.campaigns.models import Campaign, Feedback
from bridge.campaigns.ratings import read_rating
from bridge.campaigns.replies import CampaignReply, Keep
from bridge.campaigns.reply_texts import personal_text
from bridge.config import Business
from bridge.events import FeedbackLow
from bridge.jobs import move_job, publish_job
from bridge.models import FEEDBACK, Conversation, Message, MessagePurpose, utcnow
from bridge.routing_settings import RoutingSection
from bridge.store.base import (
    ContactStore,
    ConversationStore,
    FeedbackStore,
    JobStore,
    MessageStore,
    PublishingStore,
    ReplyStore,
)
from bridge.threading.conversation_desk import ConversationDesk

log = structlog.get_logger(__name__)

LOW = 2  # this or less alerts the team
HIGH = 4  # this or more is asked for a review
SUPPORT_TEAM = "support"


class _Store(
    ConversationStore,
    MessageStore,
    ReplyStore,
    ContactStore,
    JobStore,
    PublishingStore,
    FeedbackStore,
    Protocol,
):
    """The store roles this module uses."""


def follow_up_id(campaign_id: str, subscriber: str) -> str:
    """The follow-up question's message id (its `record_system_text` key): one per
    subscriber and rating request, found again by it."""
    return f"feedback-follow-up:{campaign_id}:{subscriber}"


class FeedbackFlow:
    def __init__(
        self,
        store: _Store,
        desk: ConversationDesk,
        *,
        business: Business,
        routing: RoutingSection,
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._desk = desk
        self._business = business
        self._routing = routing
        self._on_enqueued = on_enqueued

    def read(self, campaign: Campaign, text: str) -> str | None:
        if campaign.spec.feedback is None:
            return None
        rating = read_rating(text)
        return None if rating is None else str(rating)

    def keep(self, campaign: Campaign) -> Keep:
        return "first"  # a rating is given once; later texts are conversation

    async def asked(self, campaign: Campaign, subscriber: str) -> Message | None:
        """The follow-up question this subscriber was asked, if any: what they write
        after it answers it."""
        feedback = campaign.spec.feedback
        if feedback is None or feedback.follow_up is None:
            return None
        return await self._store.get_message(follow_up_id(campaign.id, subscriber))

    async def counted(self, reply: CampaignReply) -> bool:
        campaign, subscriber = reply.campaign, reply.answer.subscriber
        feedback = campaign.spec.feedback
        assert feedback is not None  # read() reads only rating requests
        counted = await self._store.counted_answer(campaign.id, subscriber)
        if counted is None or counted.sid != reply.answer.sid:
            return True  # they rated already: this text is the inbox's to read
        rating = int(counted.choice)
        conversation = await self._store.get_conversation(reply.text.conversation_id)
        if conversation is None:
            return True
        if rating <= LOW:
            await self._alert(campaign, feedback, conversation, reply, rating)
        await self._text_back(campaign, feedback, conversation, rating)
        self._on_enqueued()
        return rating <= LOW

    async def _alert(
        self,
        campaign: Campaign,
        feedback: Feedback,
        conversation: Conversation,
        reply: CampaignReply,
        rating: int,
    ) -> None:
        """Flag, route to the support team, and tell the notification rules (urgent)."""
        key = f"feedback:{campaign.id}:{conversation.subscriber}"
        reason = f"rated {rating}/5"
        if not (conversation.flagged and conversation.flag_reason == reason):  # not a retry
            await self._desk.flag(conversation, FEEDBACK, reason)
        team = self._team(feedback)
        if team is not None and conversation.team != team:
            move = move_job(conversation.id, team, by=FEEDBACK, key=key)
            await self._store.enqueue(move, run_at=utcnow())
        if self._store.publishing.wants(FeedbackLow):
            low = FeedbackLow(
                conversation_id=conversation.id,
                campaign_id=campaign.id,
                rating=rating,
                subscriber=conversation.subscriber,
                body=reply.sms.body,
            )
            await self._store.enqueue(publish_job(low, key=key), run_at=utcnow())

    def _team(self, feedback: Feedback) -> str | None:
        """`route`, else the routing's support team, if it has one."""
        team = self._routing.team_named(feedback.route or SUPPORT_TEAM)
        if team is None and feedback.route is not None:
            log.warning(
                "campaign.feedback_route_unknown", route=feedback.route, key="routing.teams"
            )
        return team

    async def _text_back(
        self, campaign: Campaign, feedback: Feedback, conversation: Conversation, rating: int
    ) -> None:
        """The one text a rating gets back: the follow-up, the review request, or the
        confirmation."""
        subscriber = conversation.subscriber
        extra: dict[str, str] = {}
        if rating == LOW + 1 and feedback.follow_up:
            template, key = feedback.follow_up, follow_up_id(campaign.id, subscriber)
        elif (
            rating >= HIGH
            and feedback.review_link
            and await self._store.claim_review(
                campaign.spec.from_number,
                subscriber,
                key=f"review:{campaign.id}",
                at=utcnow(),
                every=timedelta(days=feedback.review_every_days),
            )
        ):
            template, key = feedback.review_text, f"feedback-review:{campaign.id}:{subscriber}"
            extra = {"review_link": feedback.review_link}
        elif feedback.confirm:
            template, key = feedback.confirm, f"feedback-confirm:{campaign.id}:{subscriber}"
        else:
            return
        body = await personal_text(
            self._store, campaign, template, subscriber, self._business, extra
        )
        if body is None:
            return
        await self._store.record_system_text(conversation.id, body, MessagePurpose.REPLY, key=key)
