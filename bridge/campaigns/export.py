"""A campaign's counted answers as CSV (`sms-bridge campaign export`): one row per
subscriber, so the rows add up to the tally."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from bridge.campaigns.models import Answer, Campaign

COLUMNS = ("subscriber", "choice", "label", "text", "at")


def write_answers_csv(campaign: Campaign, answers: Iterable[Answer], out: TextIO) -> int:
    """The rows written. `label`: the poll option's (empty for a rating or a YES)."""
    options = campaign.spec.poll.options if campaign.spec.poll else {}
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = 0
    for answer in answers:
        writer.writerow(
            (
                answer.subscriber,
                answer.choice,
                options.get(answer.choice, ""),
                answer.text,
                answer.at.isoformat(),
            )
        )
        written += 1
    return written
