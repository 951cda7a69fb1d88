"""The ratings' distribution as a bar chart (PNG) for the feedback report's thread."""

from __future__ import annotations

import io

from bridge.campaigns.feedback_report import SCALE, FeedbackReport

# Red for the ratings that alert the team, amber for 3, green for the review-worthy.
_COLOURS = ("#d64545", "#e8833a", "#e8c23a", "#7cb342", "#2e7d32")


def rating_chart(report: FeedbackReport, *, title: str) -> bytes:
    """A PNG: one bar per rating 1-5 with its count, the average in the subtitle."""
    # Imported here: matplotlib takes a second to load, and only this report needs it.
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6, 3.6), dpi=100)
    axes = figure.subplots()
    counts = [report.distribution[rating] for rating in SCALE]
    bars = axes.bar([f"{rating}★" for rating in SCALE], counts, color=_COLOURS)
    axes.bar_label(bars, labels=[str(count) for count in counts], padding=2)
    axes.set_ylim(0, max(max(counts), 1) * 1.2)
    axes.set_ylabel("ratings")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 ratings
    average = "no ratings" if report.average is None else f"average {report.average:.2f}"
    axes.set_title(f"{title}\n{average} · {report.count} ratings", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
