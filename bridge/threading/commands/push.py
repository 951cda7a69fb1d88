"""`/sms push`: the person's own signed link to the page that turns on browser
notifications (Web Push) for them; answered only to them."""

from __future__ import annotations

from bridge.models import utcnow
from bridge.threading.commands.answers import Answer, PushLink, Said
from bridge.threading.commands.spec import Call, Spec


async def _link(call: Call) -> Answer:
    links = call.services.push_links
    if links is None:
        return Said.PUSH_OFF
    return PushLink(links.link(call.user, now=utcnow()), links.minutes)


PUSH = Spec("push", "push", _link, (), "a link to get notifications in your browser", "push")
COMMANDS = (PUSH,)
