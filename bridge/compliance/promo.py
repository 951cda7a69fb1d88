"""Does a reply read like marketing? Promotions need the subscriber's prior marketing
consent, which a support conversation does not give."""

from __future__ import annotations

import re
from collections.abc import Sequence

DEFAULT_PATTERNS: tuple[str, ...] = (
    r"\b\d{1,3}\s?%\s?off\b",
    r"\bpromo(tion(al)?)?\s?codes?\b",
    r"\bcoupons?\b",
    r"\bdiscounts?\b",
    r"\b(flash |big |holiday )?sale\b",
    r"\bbogo\b|\bbuy one,? get one\b",
    r"\bshop now\b",
    r"\blimited[- ]time offer\b",
    r"\bfree shipping\b",
    r"https?://\S*/(shop|store|sale|promo|deals?)\b",
)


class PromoCheck:
    def __init__(self, patterns: Sequence[str] | None = None) -> None:
        chosen = DEFAULT_PATTERNS if patterns is None else tuple(patterns)
        self._pattern = re.compile("|".join(f"(?:{p})" for p in chosen), re.IGNORECASE)

    def match(self, text: str) -> str | None:
        """The words that make `text` promotional, or None."""
        found = self._pattern.search(text)
        return found.group(0) if found else None
