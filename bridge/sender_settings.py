"""The settings of the notification senders (`notifications.webhooks`,
`notifications.web_push` in BRIDGE_CONFIG): which receivers exist, how to reach them,
their secrets. Here, below `config.py`, so the configuration can hold them; what
sends lives in `notify/`."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

if TYPE_CHECKING:
    # Loaded only where Web Push is set up: cryptography costs every process about 8 MiB.
    from cryptography.hazmat.primitives.asymmetric import ec

# As `config.Section`: unknown keys are refused, values never change.
STRICT = ConfigDict(extra="forbid", frozen=True)
MIN_SECRET = 16  # characters: a shared HMAC secret that cannot be guessed


def is_loopback(url: str) -> bool:
    """The URL's host is this machine (127.0.0.0/8, ::1, localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSetting(BaseModel):
    """One receiver of signed JSON notifications."""

    model_config = STRICT

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")  # rules say `webhook:<name>`
    allow_insecure: bool = False  # plain http to a host that is not this machine
    url: str
    secret: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _https(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be a URL like https://example.com/hooks/sms")
        if parts.scheme == "http" and not (is_loopback(value) or info.data.get("allow_insecure")):
            raise ValueError(
                "must start with https:// (the body tells of your customers' texts);"
                " plain http is taken only for a loopback host or with"
                " `allow_insecure: true` on this webhook"
            )
        return value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET:
            raise ValueError(f"must have at least {MIN_SECRET} characters")
        return value


def _unique(hooks: list[WebhookSetting]) -> list[WebhookSetting]:
    names = [hook.name for hook in hooks]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"two webhooks are called {twice[0]!r}: names must be unique")
    return hooks


Webhooks = Annotated[list[WebhookSetting], AfterValidator(_unique)]


def insecure_webhooks(hooks: list[WebhookSetting]) -> list[str]:
    """One warning per webhook that sends plain http (`check` prints them)."""
    return [
        f"notifications.webhooks[{index}].url ({hook.name}): plain http, the notifications"
        " travel unencrypted; use https:// unless this host is trusted"
        for index, hook in enumerate(hooks)
        if urlsplit(hook.url).scheme == "http"
    ]


def unb64url(value: str) -> bytes:
    """Bytes of base64url text, padded or not."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def vapid_key(value: SecretStr) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of a base64url text of its 32 bytes (`sms-bridge push keys`)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        raw = unb64url(value.get_secret_value().strip())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("must be the base64url text `sms-bridge push keys` prints (32 bytes)")
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise ValueError(
            "is not a P-256 private key; make one with `sms-bridge push keys`"
        ) from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public half, base64url of its uncompressed point: what a browser subscribes
    with (`applicationServerKey`)."""
    from cryptography.hazmat.primitives import serialization

    return b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def new_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: (private, public), each base64url."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big")), public_key(key)


class WebPushSetting(BaseModel):
    """Browser notifications (Web Push): the bridge's VAPID key pair and contact."""

    model_config = STRICT

    vapid_private_key: SecretStr
    # Who the push services may contact about this sender (RFC 8292): mailto: or https:.
    subject: str = Field(pattern=r"^(mailto:\S+@\S+|https://\S+)$")
    link_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)  # how long a /sms push link works

    @field_validator("vapid_private_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        vapid_key(value)
        return value
