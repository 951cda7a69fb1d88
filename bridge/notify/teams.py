"""A conversation's team, as the notification rules see it: its name (`when: {team:
…}`) and its members (`notify: [team]`). Routing answers it; without routing there
are no teams, so these filters match nothing and `team` tells nobody."""

from __future__ import annotations

from typing import Protocol

from bridge.models import Conversation


class Teams(Protocol):
    def team_of(self, conversation: Conversation) -> str | None: ...

    def members(self, conversation: Conversation) -> tuple[str, ...]:
        """User ids (U…) and user group ids (S…) of the conversation's team."""


class NoTeams:
    def team_of(self, conversation: Conversation) -> str | None:
        return None

    def members(self, conversation: Conversation) -> tuple[str, ...]:
        return ()
