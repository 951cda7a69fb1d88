"""What a post of the bridge carries besides its own text: the texts of a burst. They
are named in the post's record (its `detail`, kept from before the call), so a run after
a crash records exactly the texts the landed attempt showed, never the ones that came
since."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bridge.store.base import BurstStore

_PREFIX = "carries:"


@dataclass(frozen=True)
class Carried:
    message_ids: tuple[str, ...]  # oldest first
    riders: tuple[str, ...]  # the keys of their jobs behind the running one
    draft_of: str | None  # the text whose draft the post shows

    def detail(self) -> str:
        payload = {"ids": self.message_ids, "riders": self.riders, "draft": self.draft_of}
        return _PREFIX + json.dumps(payload, separators=(",", ":"))

    @staticmethod
    def read(detail: str) -> Carried | None:
        """The texts a landed post carries, from its record; None for any other post."""
        if not detail.startswith(_PREFIX):
            return None
        payload: dict[str, Any] = json.loads(detail[len(_PREFIX) :])
        return Carried(tuple(payload["ids"]), tuple(payload["riders"]), payload["draft"])

    async def land(self, store: BurstStore, channel: str, ts: str, *, key: str) -> None:
        """Record where the post `key` landed, for every text it carries, in one write."""
        await store.land_burst(
            self.message_ids,
            channel,
            ts,
            draft_of=self.draft_of,
            landing=key,
            riders=self.riders,
        )


@dataclass(frozen=True)
class Carrying:
    """Texts to post with a thread's parent card: their blocks and what they are."""

    carried: Carried
    blocks: list[dict[str, Any]]
