"""Notifications: notifiers subscribe to the domain's events and tell people of them
(a Slack DM, later email, webhooks, digests). A new channel is one class here and one
line in `registry.py`; each delivery is an outbox job of its own."""
