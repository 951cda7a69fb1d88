"""SMS-Slack bridge: one Slack thread per subscriber phone number."""
