"""`/sms send`: text a number, opening its conversation if there is none."""

from __future__ import annotations

from bridge.events import Snag, Stopped
from bridge.models import Channel
from bridge.threading.commands.answers import Answer, Said, StartedSending
from bridge.threading.commands.grammar import Arg
from bridge.threading.commands.spec import Call, Spec


async def _send(call: Call) -> Answer:
    services, target = call.services, call.command.target
    assert target is not None  # the parser requires a phone number
    assert target.phone is not None
    if services.business_number is None:
        return Said.NEEDS_FROM_NUMBER
    if target.channel is Channel.WHATSAPP:
        # Only within 24 hours of the subscriber's last message: the conversation
        # they have with the business already, if any.
        started = await services.store.find_conversation(
            services.business_number, target.phone, target.channel
        )
        if started is None:
            return Stopped(snag=Snag.WINDOW_CLOSED)
    else:
        started = await services.store.open_conversation(services.business_number, target.phone)
    refused = await services.outbound.send_text(started, call.command.text, author=call.user)
    return refused or StartedSending(target.phone, started.id)


SEND = Spec(
    "send",
    "send",
    _send,
    (Arg.PHONE, Arg.TEXT),
    "text a number (a new conversation)",
    "send 415-555-0123 Hello!",
)
COMMANDS = (SEND,)
