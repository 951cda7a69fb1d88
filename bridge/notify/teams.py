"""A conversation's team, as the notification rules see it: its name (`when: {team:
…}`) and its people (`notify: [team]`), from routing's settings. A conversation no
rule routed has no team: those filters match nothing and `team` tells nobody."""

from __future__ import annotations

from bridge.models import Conversation
from bridge.routing_settings import RoutingSection


class RoutedTeams:
    def __init__(self, routing: RoutingSection) -> None:
        # User ids (U…) and the user group (S…) of each team, worked out once.
        self._people = {
            name: (*team.members, *([team.user_group] if team.user_group else []))
            for name, team in routing.teams.items()
        }

    def team_of(self, conversation: Conversation) -> str | None:
        return conversation.team

    def members(self, conversation: Conversation) -> tuple[str, ...]:
        return self._people.get(conversation.team or "", ())
