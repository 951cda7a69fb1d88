"""Tells a person in a Slack DM that a conversation was assigned to them, with a link
to the thread ("Ben assigned you the SMS conversation #42 with …")."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.events import ConversationAssigned, Event
from bridge.models import Job, Model
from bridge.phones import display
from bridge.slack.blocks.mrkdwn import escape, mention
from bridge.slack.gateway import SlackGateway
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import ContactStore
from bridge.text import clip


class SlackAssignmentMessage:
    name = "slack_dm"
    wants: tuple[type[Model], ...] = (ConversationAssigned,)

    def __init__(
        self, store: ContactStore, gateway: SlackGateway, posts: SlackPosts, threads: ThreadKeeper
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._posts = posts
        self._threads = threads

    async def notify(self, event: Event, key: str) -> None:
        if not isinstance(event, ConversationAssigned) or event.assignee == event.by:
            return  # who took a conversation knows it
        conversation = await self._threads.conversation(event.conversation_id)
        who = display(conversation.subscriber)
        contact = await self._store.get_contact(conversation.subscriber)
        if contact and contact.name:
            who = f"{escape(clip(contact.name, 100))} ({who})"
        text = (
            f"{mention(event.by)} assigned you the SMS conversation #{conversation.id} with {who}."
        )
        await self._send(key, event.assignee, text, conversation.id)

    async def __call__(self, job: Job) -> None:
        """DIRECT_MESSAGE, as an earlier release stored it: the text is ready."""
        if job.user is None or not job.note:
            raise GiveUp("direct message without a person or text")
        await self._send(job.key, job.user, job.note, job.conversation_id)

    async def _send(self, key: str, user: str, text: str, conversation_id: int | None) -> None:
        if conversation_id is not None:
            conversation = await self._threads.conversation(conversation_id)
            if conversation.slack_channel and conversation.slack_thread_ts:
                link = await self._gateway.permalink(
                    conversation.slack_channel, conversation.slack_thread_ts
                )
                if link:
                    text += f" <{link}|Open the thread>"
        # A user ID as the channel posts into the bot's DM with that person.
        await self._posts.post(key, user, text)
