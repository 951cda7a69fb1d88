"""Fetching an MMS's media from Twilio, with the account's credentials.

Only URLs on the configured Twilio API host are fetched (a MediaUrl is data from a
webhook; the bridge must not become a proxy to elsewhere), and only what fits the
size and type limits."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from bridge.threading.attachments import MAX_BYTES, Fetched, MediaRejected, check


class TwilioMedia:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._session = session
        self._host = urlsplit(api_url).netloc
        self._auth = aiohttp.encode_basic_auth(account_sid, auth_token)
        self._max = max_bytes

    async def fetch(self, url: str) -> Fetched:
        if urlsplit(url).netloc != self._host:
            raise MediaRejected(f"not a Twilio media URL (expected host {self._host})")
        try:
            # Twilio redirects to its storage; aiohttp drops the credentials when the
            # host changes, as it should.
            async with self._session.get(
                url,
                headers={"Authorization": self._auth},
                timeout=aiohttp.ClientTimeout(total=20),
            ) as response:
                if response.status != 200:
                    raise MediaRejected(f"Twilio answered {response.status}")
                content_type = response.content_type
                check(content_type, response.content_length, self._max)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > self._max:
                        break  # the check below refuses it; no need to read the rest
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaRejected(f"download failed ({type(exc).__name__})") from None
        check(content_type, len(data), self._max)
        return Fetched(content_type, bytes(data))
