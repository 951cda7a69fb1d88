"""A campaign's plan in plain words (the CLI prints them; a preview may show them)."""

from __future__ import annotations

from datetime import timedelta

from bridge.campaigns.desk import Plan


def duration(span: timedelta) -> str:
    seconds = round(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def plan_lines(plan: Plan) -> list[str]:
    spec = plan.spec
    excluded = ", ".join(f"{n} {why}" for why, n in sorted(plan.excluded.items()))
    lines = [
        f"Campaign {spec.name!r} ({spec.kind.value}) from {spec.from_number}"
        + (f", at {spec.send_at.isoformat()}" if spec.send_at else ", now"),
        f"Recipients: {plan.recipients} of {len(plan.chosen)}"
        + (f" (not sent: {excluded})" if excluded else ""),
    ]
    if plan.later:
        lines.append(f"Outside 08:00-21:00 their time: {plan.later} (their texts wait for 08:00)")
    encodings = ", ".join(f"{n} {name}" for name, n in sorted(plan.by_encoding.items()))
    if plan.recipients:
        each = "segment" if plan.max_segments == 1 else "segments"
        lines.append(
            f"Texts: {encodings}; up to {plan.max_segments} {each} each,"
            f" {plan.segments} segments in all"
        )
    rate = f"{plan.rate:g} text{'s' * (plan.rate != 1)}/s"
    lines.append(f"Estimated duration: {duration(plan.duration)} at {rate}")
    if plan.sample is not None:
        cost = plan.sample.cost
        lines.append(
            f"Sample for {plan.sample.phone} ({cost.encoding.value}, {cost.segments}"
            f" segment{'s' * (cost.segments != 1)}): {plan.sample.text}"
        )
    return lines
