"""Job POST_INBOUND: a subscriber's text, escaped, into its conversation's thread."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Job
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.mrkdwn import escape
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import Store


def inbound_text(body: str, media_urls: list[str]) -> str:
    text = escape(body) if body else ""
    if media_urls:
        links = "\n".join(f":paperclip: {escape(url)}" for url in media_urls)
        text = f"{text}\n{links}" if text else links
    return text or "_(empty message)_"


class InboundPoster:
    def __init__(self, store: Store, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        if job.message_id is None:
            raise GiveUp("post job without a message")
        message = await self._store.get_message(job.message_id)
        if message is None:
            raise GiveUp(f"message {job.message_id} is not in the store")
        if message.slack_ts is not None:
            return  # posted by an earlier attempt that died before finishing the job
        conversation = await self._threads.conversation(message.conversation_id)
        text = inbound_text(message.body, [m.url for m in message.media])
        # A second vanished thread in a row is odd enough to retry later.
        for _ in range(2):
            channel, thread_ts = await self._threads.ensure(conversation)
            try:
                ts = await self._gateway.post_message(channel, text, thread_ts=thread_ts)
            except ThreadGone:
                conversation = await self._threads.forget(conversation)
                continue
            await self._store.set_message_slack_ts(message.id, channel, ts)
            return
        raise RetryLater("the conversation's thread vanished twice")
