"""WhatsApp's customer-service window: free-form messages only within 24 hours of the
subscriber's last message to the business (after that, only approved templates, which
the bridge does not send yet). SMS has no such window."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.models import Channel, Conversation

WHATSAPP_WINDOW = timedelta(hours=24)


def window_closed(conversation: Conversation, now: datetime) -> bool:
    """Whether a free-form message to this conversation would be refused now. A WhatsApp
    conversation the business opened, with no text from the subscriber, has no window."""
    if conversation.channel is not Channel.WHATSAPP:
        return False
    last = conversation.last_inbound_at
    return last is None or now - last >= WHATSAPP_WINDOW
