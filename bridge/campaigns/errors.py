"""What an operator or agent must fix before a campaign can go out."""

from __future__ import annotations


class CampaignError(ValueError):
    """One line naming the problem (the key or value to fix); nothing was sent."""
