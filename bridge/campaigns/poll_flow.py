"""A poll's answers: each counted (one per subscriber, the poll's `votes` rule; the
dispatcher keeps the results message current) and confirmed by text if the poll says
how. An answer is no inbox message."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bridge.campaigns.models import Campaign, Poll
from bridge.campaigns.poll_answers import read_poll_answer
from bridge.campaigns.replies import CampaignReply, Keep
from bridge.models import MessagePurpose
from bridge.store.base import ReplyStore
from bridge.templates import TemplateError, fill

log = structlog.get_logger(__name__)


class PollFlow:
    def __init__(self, store: ReplyStore, *, on_enqueued: Callable[[], None]) -> None:
        self._store = store
        self._on_enqueued = on_enqueued

    def read(self, campaign: Campaign, text: str) -> str | None:
        poll = campaign.spec.poll
        return None if poll is None else read_poll_answer(poll, text)

    def keep(self, campaign: Campaign) -> Keep:
        poll = campaign.spec.poll
        return "last" if poll is None else poll.votes

    async def counted(self, reply: CampaignReply) -> bool:
        poll = reply.campaign.spec.poll
        assert poll is not None  # read() answers only for a poll
        if poll.confirm:
            await self._confirm(reply, poll, poll.confirm)
        return False

    async def _confirm(self, reply: CampaignReply, poll: Poll, template: str) -> None:
        choice = reply.answer.choice
        try:
            body = fill(template, {"choice": choice, "label": poll.options[choice]})
        except (KeyError, TemplateError):
            log.warning("campaign.poll_confirm_unusable", campaign=reply.campaign.id)
            return
        # Keyed by the answer's MessageSid: a provider's retry texts nothing more.
        queued = await self._store.record_system_text(
            reply.text.conversation_id,
            body,
            MessagePurpose.REPLY,
            key=f"poll-confirm:{reply.sms.sid}",
        )
        if queued is not None:
            self._on_enqueued()
