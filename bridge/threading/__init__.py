"""Conversations: the product's threads. One subscriber address talking to one business
address is one conversation and one Slack thread; its lifecycle (opened, assigned,
flagged, resolved) and the inbound and outbound pipelines live here.

The name is the design's (threads of Slack), not the standard library's: no module
in this package imports Python's `threading` (the bridge runs on one event loop)."""
