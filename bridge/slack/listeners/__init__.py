"""Bolt listeners: what people do in Slack (thread replies, `/sms`, reactions, buttons,
dialogs, the message shortcut, App Home) turned into calls on the domain; and the
HTTP endpoint that checks a request before Bolt reads it."""
