"""How things look in Slack: Block Kit cards and views, and text both ways (mrkdwn for
what the bridge says, plain text for what a phone shows). Pure functions, no calls."""
