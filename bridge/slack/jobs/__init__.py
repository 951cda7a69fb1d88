"""The outbox handlers that call Slack: one module per job kind (or a pair that share
their work), each rendering with `blocks` and posting through the gateway."""
