"""The Slack edge. `wiring.py` assembles it; `listeners/` take what people do in Slack,
`jobs/` are the outbox handlers that call Slack, `blocks/` render Block Kit and text;
what all three share (the paced gateway, posts made once, threads, who may act, names)
sits here at the top."""
