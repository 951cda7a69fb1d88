"""Sending through Twilio's REST API: paced per sender, with Twilio's answers
translated for the outbox (retry, or a permanent refusal with its code)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Pacing
from bridge.models import Address, Channel
from bridge.sms.send_failures import send_failure
from bridge.threading.sending import ErrorAnswered, NotTaken, Refused, Sender


def twilio_form(address: Address) -> str:
    """An address as Twilio's From and To carry it: SMS numbers bare, WhatsApp ones
    prefixed (`whatsapp:+14155550100`)."""
    return address.id if address.channel is Channel.SMS else str(address)


class TwilioSender:
    """The `SmsPort` of the reply sender, on twilio's async client."""

    def __init__(
        self, client: Client, pacer: Pacing, *, account_sid: str, status_callback: str
    ) -> None:
        self._client = client
        self._pacer = pacer
        self._account = account_sid
        self._status_callback = status_callback

    def _messages(self) -> Any:  # twilio ships no types
        return self._client.api.v2010.accounts(self._account).messages

    @staticmethod
    def _key(sender: Sender) -> str:
        return f"{sender.channel}:{sender.messaging_service_sid or sender.from_number}"

    @staticmethod
    def _form(sender: Sender, number: str | None) -> str | None:
        return None if number is None else twilio_form(Address(channel=sender.channel, id=number))

    def wait_for(self, sender: Sender) -> float:
        return self._pacer.delay(self._key(sender))

    async def send(self, to: str, sender: Sender, body: str) -> str:
        """Send; return Twilio's MessageSid."""
        await self._pacer.acquire(self._key(sender))
        kwargs: dict[str, str | None] = {
            "to": self._form(sender, to),  # prefixed for WhatsApp, with a service too
            "body": body,
            "status_callback": self._status_callback,
        }
        if sender.messaging_service_sid:
            kwargs["messaging_service_sid"] = sender.messaging_service_sid
        else:
            kwargs["from_"] = self._form(sender, sender.from_number)
        try:
            created = await self._messages().create_async(**kwargs)
        except TwilioRestException as exc:
            if exc.status == 429:
                raise NotTaken("Twilio answered 429") from None
            if exc.status >= 500:
                raise ErrorAnswered(f"Twilio answered {exc.status}") from None
            raise Refused(send_failure(exc.code)) from None
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            raise NotTaken(f"Twilio unreachable: {type(exc).__name__}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"Twilio unreachable: {type(exc).__name__}") from None
        return str(created.sid)

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        """The sids of messages like this one created since `since`, newest first: how
        an attempt whose answer was lost is resolved without sending twice."""
        try:
            # Newest first. Not filtered by DateSent: a queued message has none yet.
            found = await self._messages().list_async(
                to=self._form(sender, to), from_=self._form(sender, sender.from_number), limit=20
            )
        except TwilioRestException as exc:
            raise RetryLater(f"Twilio lookup answered {exc.status}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"Twilio unreachable: {type(exc).__name__}") from None
        earliest = since - timedelta(minutes=1)  # clocks differ a little
        return [
            str(message.sid)
            for message in found
            if message.body == body
            and (message.date_created is None or message.date_created >= earliest)
        ]
