"""The report's charts as PNG images: mail clients run no JavaScript and draw SVG badly.

Drawn with matplotlib's Agg renderer on Figure objects of their own (no pyplot: no global
state, safe in a worker's threads), 600 px wide to fit the email's column, each with alt text
that carries its figures for readers who cannot see it.
"""

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

#: 600 px wide at 100 dpi: the email's column.
WIDTH_INCHES = 6.0
DPI = 100
#: Budget bars drawn: the lowest budgets, which are the ones to look at.
MAX_BUDGET_BARS = 15
SEVERITY_COLOURS = {"SEV1": "#9a2617", "SEV2": "#d1441f", "SEV3": "#e8a33d", "SEV4": "#8c959f"}
TIER_COLOURS = {"healthy": "#1a7f37", "caution": "#bf8700", "frozen": "#cf222e"}


@dataclass(frozen=True)
class Chart:
    name: str
    png: bytes
    alt: str


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Light compression: a chart is a few kB either way, and the encoder's time adds up over
    # a hundred reports.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _figure(height: float, *, left: float = 0.6) -> tuple[Figure, object]:
    """A figure with fixed margins (in inches): a layout engine measures every label again
    for each chart, which costs more than the drawing."""
    figure = Figure(figsize=(WIDTH_INCHES, height))
    figure.subplots_adjust(
        left=left / WIDTH_INCHES,
        right=1 - 0.15 / WIDTH_INCHES,
        bottom=0.55 / height,
        top=1 - 0.15 / height,
    )
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def budget_chart(budget: dict) -> Chart | None:
    """Budget remaining per SLO, the lowest first, with the zero line and the tiers' colours."""
    rows = budget["rows"][:MAX_BUDGET_BARS] if budget else []
    if not rows:
        return None
    rows = list(reversed(rows))  # barh draws from the bottom: the lowest on top
    figure, axes = _figure(1.0 + 0.28 * len(rows), left=2.4)
    labels = [f"{row['service']}: {row['name']}"[:40] for row in rows]
    values = [row["remaining"] * 100 for row in rows]
    positions = range(len(rows))
    axes.barh(positions, values, color=[TIER_COLOURS.get(row["tier"], "#8c959f") for row in rows])
    axes.set_yticks(positions, labels)
    axes.axvline(0, color="#1f2328", linewidth=1)
    low = min(-10.0, min(values) - 5)
    axes.set_xlim(low, 100)
    axes.set_xlabel("Error budget remaining (%)")
    axes.tick_params(axis="y", labelsize=8)
    alt = "Error budget remaining, lowest first: " + "; ".join(
        f"{row['service']} {row['name']} {row['remaining'] * 100:.1f} % ({row['tier']})"
        for row in reversed(rows)
    )
    return Chart("budget-remaining", _png(figure), alt)


def incidents_chart(incidents: dict) -> Chart | None:
    """Incidents per month over the last twelve months, stacked by severity."""
    trend = incidents["trend"] if incidents else []
    if not trend:
        return None
    figure, axes = _figure(2.6)
    labels = [month["label"].split()[0] + "\n" + month["label"].split()[1][2:] for month in trend]
    positions = range(len(trend))
    bottom = [0] * len(trend)
    for severity, colour in SEVERITY_COLOURS.items():
        counts = [month["counts"][severity] for month in trend]
        axes.bar(positions, counts, bottom=bottom, color=colour, label=severity)
        bottom = [low + count for low, count in zip(bottom, counts, strict=True)]
    axes.set_xticks(positions, labels)
    axes.set_ylabel("Incidents")
    axes.set_ylim(0, max(max(bottom), 4) * 1.15)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="x", labelsize=7)
    axes.legend(ncols=4, fontsize=7, frameon=False, loc="upper left")
    alt = "Incidents per month by severity: " + "; ".join(
        f"{month['label']} {sum(month['counts'].values())}"
        + (
            " ("
            + ", ".join(f"{count} {sev}" for sev, count in month["counts"].items() if count)
            + ")"
            if sum(month["counts"].values())
            else ""
        )
        for month in trend
    )
    return Chart("incidents-by-month", _png(figure), alt)


def mttr_chart(incidents: dict) -> Chart | None:
    """Mean time to restore per month over the last twelve months, in hours."""
    trend = incidents["trend"] if incidents else []
    if not any(month["mttr"] is not None for month in trend):
        return None
    figure, axes = _figure(2.2)
    labels = [month["label"].split()[0] + "\n" + month["label"].split()[1][2:] for month in trend]
    hours = [None if month["mttr"] is None else month["mttr"] / 3600 for month in trend]
    positions = range(len(trend))
    axes.set_xticks(positions, labels)
    axes.plot(
        positions,
        [float("nan") if value is None else value for value in hours],
        marker="o",
        color="#0550ae",
    )
    # Every month on the axis, also those without incidents (no point, no line through them).
    axes.set_xlim(-0.5, len(trend) - 0.5)
    axes.set_ylabel("MTTR (hours)")
    axes.set_ylim(0, max(value for value in hours if value is not None) * 1.25 or 1)
    axes.tick_params(axis="x", labelsize=7)
    alt = "Mean time to restore per month: " + "; ".join(
        f"{month['label']} " + ("no incidents" if value is None else f"{value:.1f} h")
        for month, value in zip(trend, hours, strict=True)
    )
    return Chart("mttr-trend", _png(figure), alt)


def charts_draw(data: dict[str, dict | None]) -> list[Chart]:
    """The report's charts from its sections' data; a chart without data is left out."""
    charts = [
        budget_chart(data.get("budget")),
        incidents_chart(data.get("incidents")),
        mttr_chart(data.get("incidents")),
    ]
    return [chart for chart in charts if chart is not None]
