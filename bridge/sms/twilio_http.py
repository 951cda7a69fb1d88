"""twilio's async HTTP client, with its timeout applied."""

from __future__ import annotations

from typing import Any

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response


class TimedTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio has no types
    """twilio keeps the `timeout` its async client is given but passes each call's own
    (None) to aiohttp, which then waits for ever (twilio/twilio-python#925). A call
    Twilio holds would hold its worker as long, and the reply sender's bound on a send
    still in flight (`sending.IN_FLIGHT`) would not hold."""

    async def request(self, *args: Any, **kwargs: Any) -> Response:
        if kwargs.get("timeout") is None:  # twilio's own calls pass it by name
            kwargs["timeout"] = self.timeout
        return await super().request(*args, **kwargs)
