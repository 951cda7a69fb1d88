"""Fetching an MMS's media from Twilio, with the account's credentials.

A MediaUrl is data from a webhook, and the bridge must not become a proxy to elsewhere.
The URL must be on the configured Twilio API host. Twilio answers it with a redirect to its
media storage, so redirects are followed one hop at a time, and each hop must be that host
again or a Twilio media host over https that resolves to a public address. Credentials go
to the configured host only, and only what fits the size and type limits is read."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import aiohttp
from yarl import URL

from bridge.threading.attachments import MAX_BYTES, Fetched, MediaRejected, check

# Where Twilio's media redirects lead: mms.twiliocdn.com, its storage for media behind
# HTTP auth (which Twilio now enforces for all media), or its own *.twilio.com hosts.
MEDIA_HOST_SUFFIXES = (".twilio.com", ".twiliocdn.com")
MAX_REDIRECTS = 3  # Twilio uses one
TIMEOUT_SECONDS = 20.0  # for the whole download, redirects included
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

Resolve = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) → the addresses it resolves to."""


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower(), url.port


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone
    # Not global: private, loopback, link-local, shared, reserved and unspecified ranges.
    return ip.is_global and not ip.is_multicast


class TwilioMedia:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        max_bytes: int = MAX_BYTES,
        resolve: Resolve = resolve_host,
    ) -> None:
        self._session = session
        self._api = _origin(URL(api_url))
        self._auth = aiohttp.encode_basic_auth(account_sid, auth_token)
        self._max = max_bytes
        self._resolve = resolve

    async def fetch(self, url: str) -> Fetched:
        try:
            first = URL(url)
        except ValueError:
            raise MediaRejected("not a valid URL") from None
        if _origin(first) != self._api:
            raise MediaRejected(f"not a Twilio media URL (expected host {self._api[1]})")
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                return await self._follow(first)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaRejected(f"download failed ({type(exc).__name__})") from None

    async def _follow(self, url: URL) -> Fetched:
        for _ in range(MAX_REDIRECTS + 1):
            trusted = _origin(url) == self._api
            if not trusted:
                await self._check_hop(url)
            async with self._session.get(
                url,
                headers={"Authorization": self._auth} if trusted else None,
                allow_redirects=False,
            ) as response:
                if response.status in _REDIRECT_STATUSES:
                    url = self._next_hop(response)
                    continue
                if response.status != 200:
                    raise MediaRejected(f"Twilio answered {response.status}")
                return await self._read(response)
        raise MediaRejected("too many redirects")

    @staticmethod
    def _next_hop(response: aiohttp.ClientResponse) -> URL:
        location = response.headers.get("Location", "")
        try:
            return response.url.join(URL(location))
        except ValueError:
            raise MediaRejected("Twilio redirected to an invalid URL") from None

    async def _check_hop(self, url: URL) -> None:
        """Refuse a redirect to anything but a Twilio media host on the public internet."""
        host = (url.host or "").lower()
        if url.scheme != "https" or not host.endswith(MEDIA_HOST_SUFFIXES):
            raise MediaRejected(
                f"redirected to {url.host_port_subcomponent}, not a Twilio media host"
            )
        try:
            addresses = await self._resolve(host, url.port or 443)
        except OSError:
            raise MediaRejected(f"redirected to {host}, which does not resolve") from None
        if not addresses or not all(_is_public(address) for address in addresses):
            raise MediaRejected(f"redirected to {host}, which resolves to a private address")

    async def _read(self, response: aiohttp.ClientResponse) -> Fetched:
        content_type = response.content_type
        check(content_type, response.content_length, self._max)
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > self._max:
                break  # the check below refuses it; no need to read the rest
        check(content_type, len(data), self._max)
        return Fetched(content_type, bytes(data))
