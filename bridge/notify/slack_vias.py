"""The Slack vias: `slack_dm` (a direct message to each person, with a link to the
thread) and `slack_mention` (a post in the conversation's thread mentioning everyone
the rule names; a digest goes to the inbox channel)."""

from __future__ import annotations

from bridge.models import Alert
from bridge.notify.via import Digest
from bridge.slack.blocks.wording import alert_text, digest_text
from bridge.slack.gateway import SlackGateway
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper


class ThreadLinks:
    """A link to an alert's thread where it is now (a first text's may have been posted
    since the rules ran, or the thread moved); None before it has one."""

    def __init__(self, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, alert: Alert) -> str | None:
        if alert.conversation is None:
            return None
        conversation = await self._threads.conversation(alert.conversation.id)
        if not (conversation.slack_channel and conversation.slack_thread_ts):
            return None
        return await self._gateway.permalink(
            conversation.slack_channel, conversation.slack_thread_ts
        )


class SlackDirectMessages:
    name = "slack_dm"
    personal = True

    def __init__(self, posts: SlackPosts, links: ThreadLinks) -> None:
        self._posts = posts
        self._links = links

    async def send_alert(self, to: tuple[str, ...], alert: Alert, key: str) -> None:
        text = alert_text(alert)
        if link := await self._links(alert):
            text += f"\n<{link}|Open the thread>"
        # A user ID as the channel posts into the bot's DM with that person.
        for user in to:
            await self._posts.post(f"{key}:{user}", user, text)

    async def send_digest(self, to: tuple[str, ...], digest: Digest, key: str) -> None:
        text = digest_text(digest.title, digest.alerts)
        for user in to:
            await self._posts.post(f"{key}:{user}", user, text)


class SlackMentions:
    name = "slack_mention"
    personal = False

    def __init__(self, posts: SlackPosts, threads: ThreadKeeper, inbox: str) -> None:
        self._posts = posts
        self._threads = threads
        self._inbox = inbox

    async def send_alert(self, to: tuple[str, ...], alert: Alert, key: str) -> None:
        text = alert_text(alert, mentions=to)
        if alert.conversation is None:
            await self._posts.post(key, self._inbox, text)
            return
        # Where the thread is now (it may have moved since the rules ran).
        conversation = await self._threads.conversation(alert.conversation.id)
        await self._threads.post(conversation, text, key=key)

    async def send_digest(self, to: tuple[str, ...], digest: Digest, key: str) -> None:
        await self._posts.post(
            key, self._inbox, digest_text(digest.title, digest.alerts, mentions=to)
        )
