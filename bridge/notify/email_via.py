"""The `email` via: one message per alert, or one per digest, plain text and HTML,
through the SMTP server of `notifications.email.smtp_url` (aiosmtplib). A person's
address is `notifications.people.<U…>.email`, else their Slack profile's."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Alert
from bridge.notification_settings import EmailSettings
from bridge.notify.alert_words import digest_html, digest_plain
from bridge.notify.recipients import Recipients
from bridge.notify.via import Digest


class EmailAlerts:
    name = "email"
    personal = True

    def __init__(self, settings: EmailSettings, people: Recipients, *, business_name: str) -> None:
        self._settings = settings
        self._people = people
        self._business = business_name
        url = urlsplit(settings.smtp_url.get_secret_value())
        self._tls = url.scheme == "smtps"  # implicit TLS; smtp:// upgrades when offered
        self._host = url.hostname or ""
        self._port = url.port or (465 if self._tls else 25)
        self._user = unquote(url.username) if url.username else None
        self._password = unquote(url.password) if url.password else None

    async def send_alert(self, to: tuple[str, ...], alert: Alert, key: str) -> None:
        for user in to:
            await self._send(user, alert.title, alert.text or alert.title, alert.html, key)

    async def send_digest(self, to: tuple[str, ...], digest: Digest, key: str) -> None:
        title = f"Digest: {digest.title}"
        plain = digest_plain(title, digest.alerts)
        for user in to:
            await self._send(user, title, plain, digest_html(title, digest.alerts), key)

    async def _send(self, user: str, subject: str, text: str, html: str | None, key: str) -> None:
        address = await self._people.email(user)
        if address is None:
            raise GiveUp(
                f"no email address for {user}: set notifications.people.{user}.email, or give"
                " the Slack app the users:read.email scope"
            )
        mail = EmailMessage()
        mail["Subject"] = f"[{self._business}] {subject}".replace("\n", " ")
        mail["From"] = self._settings.from_
        mail["To"] = address
        # The same on every retry: a mail system that got it twice can tell.
        digest = hashlib.sha256(f"{key}:{user}".encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@sms-bridge>"
        mail["Date"] = formatdate(usegmt=True)  # RFC 5322 asks for one
        mail.set_content(text)
        if html is not None:
            mail.add_alternative(html, subtype="html")
        try:
            await aiosmtplib.send(
                mail,
                hostname=self._host,
                port=self._port,
                username=self._user,
                password=self._password,
                use_tls=self._tls,
                timeout=self._settings.timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:  # permanent: a retry gets the same answer
                raise GiveUp(f"the mail server refused it: {exc.code} {exc.message}") from None
            raise RetryLater(f"the mail server answered {exc.code}: {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryLater(f"mail server {self._host}:{self._port}: {exc}") from None
