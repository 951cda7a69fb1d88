"""The Bolt app, mounted on the bridge's own aiohttp server at POST /slack/events,
or connected over Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build_bolt(client: AsyncWebClient, signing_secret: str | None) -> AsyncApp:
    return AsyncApp(
        client=client,
        signing_secret=signing_secret,
        # Listeners store the effect before Slack gets its 2xx ("durable before
        # acknowledged"); they are quick store writes, well inside the 3 s.
        process_before_response=True,
        # Socket Mode connections are authenticated by the app token instead.
        request_verification_enabled=signing_secret is not None,
        # The app's own posts come back as events that record where they landed
        # (`bridge.slack.posts`); every listener tells its own messages apart itself.
        ignoring_self_events_enabled=False,
    )


class SlackEventsEndpoint:
    def __init__(self, bolt: AsyncApp) -> None:
        self._bolt = bolt

    async def handle(self, request: web.Request) -> web.Response:
        response = await self._bolt.async_dispatch(await to_bolt_request(request))
        if response.status == 404:
            # Bolt's answer to a valid request no listener wants. Slack disables an
            # app's events when most deliveries fail, so it is acknowledged instead.
            return web.Response(status=200)
        return await to_aiohttp_response(response)
