"""A poll's results: each option's share, and the bar chart (PNG) uploaded when the
poll closes. matplotlib is loaded only when a chart is drawn: the bridge starts
without it."""

from __future__ import annotations

import io

from bridge.campaigns.models import Poll, Tally


def percent(count: int, total: int) -> int:
    """An option's share of the answers, in whole percent."""
    return round(count * 100 / total) if total else 0


def results_chart(title: str, poll: Poll, tally: Tally) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to a buffer
    from matplotlib.figure import Figure

    # Top to bottom in the poll's order: barh draws its first bar at the bottom.
    letters = list(poll.options)[::-1]
    counts = [tally.counts.get(letter, 0) for letter in letters]
    figure = Figure(figsize=(7, 1.2 + 0.5 * len(letters)), dpi=100)
    axes = figure.add_subplot()
    bars = axes.barh([f"{x}: {poll.options[x]}" for x in letters], counts, color="#2eb67d")
    axes.bar_label(bars, labels=[f"{n} ({percent(n, tally.total)}%)" for n in counts], padding=3)
    axes.set_title(f"{title} — {tally.total} answers")
    axes.set_xlabel("answers")
    axes.margins(x=0.2)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
