"""A local SMTP server that keeps every mail it is given (aiosmtpd, on this event loop):
the demo's outbox of notification emails, and what the tests read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class MailServer:
    def __init__(self, on_mail: Callable[[], None] | None = None) -> None:
        self.mails: list[EmailMessage] = []
        self._on_mail = on_mail  # the demo's page redraws
        self.refuse = 0  # answer the next N mails "451 try again later"
        self.port = 0  # where it serves, once started
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        mail = message_from_bytes(content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        if self._on_mail is not None:
            self._on_mail()
        return "250 OK"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve; returns the port."""

        def protocol() -> Any:
            return SMTP(self, hostname="sandbox.mail", loop=asyncio.get_running_loop())

        self._server = await asyncio.get_running_loop().create_server(protocol, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


def plain_body(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    return part.get_content() if isinstance(part, EmailMessage) else ""


def html_body(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    return part.get_content() if isinstance(part, EmailMessage) else ""
