"""The Bolt app, mounted on the bridge's own aiohttp server at POST /slack/events,
or connected over Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bridge.slack.listeners.request_checks import RequestRefused, check_shape, verified_text
from bridge.slack.posts import SlackPosts, ThreadNotRecordedYet, echoed_post
from bridge.store.base import StoreUnavailable

log = structlog.get_logger(__name__)

# Bolt answers 200 with this text when Slack failed to say who the app is (auth.test,
# asked on a process's first request): nothing was handled, so Slack is to deliver the
# request again rather than be told it was taken.
AUTH_UNAVAILABLE = "Slack could not confirm this app just now. Please try again."


def build_bolt(client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(
        client=client,
        # Listeners store the effect before Slack gets its 2xx ("durable before
        # acknowledged"); they are quick store writes, well inside the 3 s.
        process_before_response=True,
        # SlackEventsEndpoint verifies every HTTP request before Bolt reads it, and
        # Socket Mode connections are authenticated by the app token.
        request_verification_enabled=False,
        # The app's own posts come back as events that record where they landed
        # (`bridge.slack.posts`); every listener tells its own messages apart itself.
        ignoring_self_events_enabled=False,
        user_facing_authorize_error_message=AUTH_UNAVAILABLE,
    )
    app.error(_listener_failed)
    return app


async def _listener_failed(error: Exception) -> BoltResponse:
    if isinstance(error, StoreUnavailable):
        # Nothing was stored, and Slack delivers the request again; the store has
        # logged the cause once.
        return BoltResponse(status=503, body=error.answer)
    if isinstance(error, ThreadNotRecordedYet):
        return BoltResponse(status=503, body=error.answer)  # Slack delivers it again
    log.exception("slack.listener_failed", error=str(error))
    return BoltResponse(status=500, body="")


class SlackEventsEndpoint:
    def __init__(self, bolt: AsyncApp, signing_secret: str, posts: SlackPosts) -> None:
        self._bolt = bolt
        self._verifier = SignatureVerifier(signing_secret)
        self._posts = posts

    async def handle(self, request: web.Request) -> web.Response:
        try:
            text = verified_text(self._verifier, await request.read(), request.headers)
            body = check_shape(text, request.headers)
        except RequestRefused as exc:
            log.warning("slack.request_refused", status=exc.status, reason=exc.reason)
            # A body that is malformed now is malformed on every retry.
            retry = {"X-Slack-No-Retry": "1"} if exc.status == 400 else None
            return web.Response(status=exc.status, text=exc.reason, headers=retry)
        echo = echoed_post(body)
        if echo is not None:
            # Slack echoes every post of the app: it lands the post and wants nothing of
            # the listeners, so it is taken here, without Bolt (one comes for each post).
            try:
                await self._posts.landed_echo(echo)
            except StoreUnavailable as exc:
                return web.Response(status=503, text=exc.answer)
            return web.Response(status=200)
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # a mapping of str, as Bolt's adapter passes
        )
        response = await self._bolt.async_dispatch(bolt_request)
        if response.status == 404:
            # Bolt's answer to a valid request no listener wants. Slack disables an
            # app's events when most deliveries fail, so it is acknowledged instead.
            return web.Response(status=200)
        if response.body == AUTH_UNAVAILABLE:
            log.warning("slack.auth_test_failed")
            return web.Response(status=503, text="slack unavailable", headers={"Retry-After": "5"})
        return await to_aiohttp_response(response)
