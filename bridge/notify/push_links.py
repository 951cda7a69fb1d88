"""The signed, expiring links `/sms push` gives: `/notify/push?token=<user>.<expires>.<mac>`.
The page learns who subscribes from the link alone (no Slack sign-in): the MAC is an
HMAC-SHA256 of the user and expiry under a key derived from the VAPID private key, so
only this bridge makes them and a new key voids every link made before."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from bridge.section import is_user
from bridge.sender_settings import b64url

PURPOSE = b"sms-bridge /notify/push links"


class PushLinks:
    def __init__(self, key: bytes, public_url: str, *, minutes: int) -> None:
        self._key = key
        self._page = f"{public_url}/notify/push"
        self.minutes = minutes

    @classmethod
    def for_key(cls, vapid_private_key: str, public_url: str, *, minutes: int) -> PushLinks:
        # A key of its own: the VAPID key signs pushes, this one links.
        derived = hmac.new(vapid_private_key.encode(), PURPOSE, hashlib.sha256).digest()
        return cls(derived, public_url, minutes=minutes)

    def link(self, user: str, *, now: datetime) -> str:
        expires = int((now + timedelta(minutes=self.minutes)).timestamp())
        return f"{self._page}?token={user}.{expires}.{self._mac(user, expires)}"

    def user_of(self, token: str, *, now: datetime) -> str | None:
        """The Slack user a token was made for, if it is this bridge's and not expired."""
        user, _, rest = token.partition(".")
        expires, _, mac = rest.partition(".")
        if not is_user(user) or len(user) > 32 or not expires.isdigit() or len(expires) > 12:
            return None
        if not hmac.compare_digest(mac, self._mac(user, int(expires))):
            return None
        return user if now.timestamp() < int(expires) else None

    def _mac(self, user: str, expires: int) -> str:
        return b64url(hmac.new(self._key, f"{user}.{expires}".encode(), hashlib.sha256).digest())
