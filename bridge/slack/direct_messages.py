"""Job DIRECT_MESSAGE: tell a person something in a DM, with a link to the thread
(e.g. "Ben assigned you the conversation #42")."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.gateway import SlackGateway
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper


class DirectMessage:
    def __init__(self, gateway: SlackGateway, posts: SlackPosts, threads: ThreadKeeper) -> None:
        self._gateway = gateway
        self._posts = posts
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        if job.user is None or not job.note:
            raise GiveUp("direct message without a person or text")
        text = job.note
        if job.conversation_id is not None:
            conversation = await self._threads.conversation(job.conversation_id)
            if conversation.slack_channel and conversation.slack_thread_ts:
                link = await self._gateway.permalink(
                    conversation.slack_channel, conversation.slack_thread_ts
                )
                if link:
                    text += f" <{link}|Open the thread>"
        # A user ID as the channel posts into the bot's DM with that person.
        await self._posts.post(job.key, job.user, text)
