"""Campaign specs parsed once per store: a spec never changes once stored, and one
may list thousands of numbers, while `latest_campaign_text` runs for every inbound
text. The engines read a campaign's state without its spec and take the spec from here."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

from bridge.campaigns.models import CampaignSpec

# Campaigns whose specs are kept; the least recently read goes first.
KEPT = 256

Reader = Callable[[list[str]], Awaitable[dict[str, CampaignSpec]]]


class SpecCache:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._specs: OrderedDict[str, CampaignSpec] = OrderedDict()

    async def specs(self, campaign_ids: Iterable[str], read: Reader) -> dict[str, CampaignSpec]:
        """The specs of these campaigns; `read` parses those not kept (one query)."""
        wanted = list(dict.fromkeys(campaign_ids))
        missing = [cid for cid in wanted if cid not in self._specs]
        found = await read(missing) if missing else {}
        specs: dict[str, CampaignSpec] = {}
        for cid in wanted:
            spec = found.get(cid) or self._specs.get(cid)
            if spec is not None:
                specs[cid] = spec
                self._specs[cid] = spec
                self._specs.move_to_end(cid)
        while len(self._specs) > self._kept:
            self._specs.popitem(last=False)
        return specs
