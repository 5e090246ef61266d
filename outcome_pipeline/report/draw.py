"""Matplotlib figures of the report's charts: one function per ``Chart.draw``, each drawing the
rows of its chart's SQL as they are (no figure is computed here).

``matplotlib.figure.Figure`` directly, never pyplot: no global state and no GUI backend, so a
report can be built in a Dagster step, a thread or a test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, PercentFormatter

from outcome_pipeline.report.spec import Chart

Rows = list[dict]
# Colour-blind safe (Okabe-Ito), in a fixed order so a team keeps its colour across charts.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
PROVISIONAL = "#d9d9d9"


def _figure(width: float = 8.0, height: float = 4.5, layout: str | None = "constrained") -> Figure:
    # Panels of many days are laid out by hand (``_grid``): the constrained layout engine
    # costs about a second per such figure.
    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    fig.set_facecolor("white")
    return fig


def _empty(fig: Figure, text: str = "no rows for these days") -> Figure:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#555555")
    ax.set_axis_off()
    return fig


def _pct_axis(ax, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(1.0))


def bubbles(chart: Chart, rows: Rows) -> Figure:
    """AHT (x) against confirmed resolution (y), bubble area = legs handled."""
    fig = _figure(8.0, 5.0)
    drawn = [
        r for r in rows if r["aht_seconds"] is not None and r["real_resolution_rate"] is not None
    ]
    if not drawn:
        # Recent days: no contact's repeat window (W) has closed, so nothing is confirmed yet.
        return _empty(fig, "no confirmed resolution yet in these days (repeat windows open)")
    ax = fig.add_subplot()
    biggest = max(r["legs_handled"] for r in drawn) or 1
    colour_by = chart.options.get("colour_by")
    label_key = chart.options.get("label")
    # One scatter call per colour: an agent view has thousands of points.
    groups = sorted({r[colour_by] for r in drawn}) if colour_by else [None]
    for i, group in enumerate(groups):
        mine = [r for r in drawn if colour_by is None or r[colour_by] == group]
        colour = PALETTE[i % len(PALETTE)]
        sizes = [60 + 1800 * r["legs_handled"] / biggest for r in mine]
        ax.scatter(
            [r["aht_seconds"] / 60 for r in mine],
            [r["real_resolution_rate"] for r in mine],
            s=[x / 4 for x in sizes] if colour_by else sizes,
            c=[colour] if colour_by else [PALETTE[j % len(PALETTE)] for j in range(len(mine))],
            alpha=0.45 if colour_by else 0.55,
            edgecolors="white",
            linewidths=0.6,
            label=group,
        )
    if colour_by:
        ax.legend(title=colour_by, fontsize=8, loc="best", frameon=False, markerscale=0.6)
    ax.set_xlabel("Average handle time (minutes)  — output")
    ax.set_ylabel("Confirmed resolution (no repeat within W)  — outcome")
    _pct_axis(ax)
    ax.grid(alpha=0.3)
    ax.margins(0.15)
    if label_key:
        labels = []
        for r in drawn:
            false = r["false_resolution_rate"]
            note = "false res. n/a" if false is None else f"false res. {false:.0%}"
            label = ax.annotate(
                f"{r[label_key]}\n{note}",
                (r["aht_seconds"] / 60, r["real_resolution_rate"]),
                xytext=LABEL_OFFSETS[0],
                textcoords="offset points",
                fontsize=9,
            )
            _move(label, LABEL_OFFSETS[0])
            labels.append(label)
        _place_labels(fig, labels)
        for label in labels:
            # A thin line from the bubble to the text's corner next to it: a label moved
            # aside stays attributable.
            ax.annotate(
                "",
                label.xy,
                xytext=label.xyann,
                textcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": "#444444", "lw": 0.8, "shrinkA": 0},
            )
    return fig


# Where a bubble's label may go, in points from its centre to the text's nearest corner, in
# order of preference: up-right first (as before), then the other corners, then further out.
LABEL_OFFSETS: tuple[tuple[int, int], ...] = (
    (8, 8),
    (10, -10),
    (-10, 8),
    (-10, -10),
    (24, 30),
    (24, -30),
    (-24, 30),
    (-24, -30),
)


def _place_labels(fig: Figure, labels: list) -> None:
    """Move each label to the first offset where its box overlaps no label placed before it
    and its line to its bubble crosses none of theirs (teams with close figures would
    otherwise print their names on top of each other); when none is free, the offset that
    does least harm. Labels are placed top to bottom so that the result does not depend on
    the order of the rows."""
    if len(labels) < 2:
        return
    fig.draw_without_rendering()  # the layout, so that the boxes are final
    boxes: list = []
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for label in sorted(labels, key=lambda a: (-a.xy[1], a.xy[0], a.get_text())):
        best, least = LABEL_OFFSETS[0], float("inf")
        for offset in LABEL_OFFSETS:
            _move(label, offset)
            box, leader = _text_box(label), _leader(label)
            crossings = sum(_cross(leader, other) for other in leaders)
            # A crossing misleads more than a partial overlap: it weighs as a whole label.
            harm = sum(_area(box, other) for other in boxes) + crossings * box.width * box.height
            if harm < least:
                best, least = offset, harm
            if harm == 0:
                break
        _move(label, best)
        boxes.append(_text_box(label))
        leaders.append(_leader(label))


def _move(label, offset: tuple[int, int]) -> None:
    """The text's corner nearest the bubble at ``offset`` points from it."""
    label.xyann = offset
    label.set_horizontalalignment("left" if offset[0] > 0 else "right")
    label.set_verticalalignment("bottom" if offset[1] > 0 else "top")


def _text_box(label):
    # The text's own box: an Annotation's window extent also covers an arrow (it is still
    # asked for first: it moves the text to the annotation's current offset).
    label.get_window_extent()
    return Text.get_window_extent(label).padded(2)


def _leader(label) -> tuple[tuple[float, float], tuple[float, float]]:
    """The label's line in display coordinates: from its bubble's centre to its corner."""
    x, y = label.axes.transData.transform(label.xy)
    scale = label.figure.dpi / 72  # offsets are in points
    return (x, y), (x + label.xyann[0] * scale, y + label.xyann[1] * scale)


def _cross(a, b) -> bool:
    """Whether two segments cross (touching ends do not count)."""

    def side(p, q, r) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    (p1, p2), (q1, q2) = a, b
    return (side(p1, p2, q1) * side(p1, p2, q2) < 0) and (side(q1, q2, p1) * side(q1, q2, p2) < 0)


def _area(a, b) -> float:
    """The area two display boxes share (0 when they do not touch)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0


def _provisional_band(ax, days: list[date], final: list[bool]) -> None:
    """Grey spans over the runs of provisional days (one span per run, not per day)."""
    run: list[date] = []
    for d, f in [*zip(days, final, strict=True), (None, True)]:
        if not f and (not run or d.toordinal() == run[-1].toordinal() + 1):
            run.append(d)
            continue
        if run:
            ax.axvspan(
                run[0].toordinal() - 0.5,
                run[-1].toordinal() + 0.5,
                color=PROVISIONAL,
                alpha=0.5,
                lw=0,
            )
        run = [d] if d is not None and not f else []


def _day_axis(ax, days: list[date]) -> None:
    step = max(1, len(days) // 8)
    ticks = [d.toordinal() for d in days][::step]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _: date.fromordinal(int(x)).strftime("%d %b"))
    )
    ax.tick_params(axis="x", labelsize=8, rotation=30)


def _series(ax, rows: Rows, column: str, final_column: str, fmt: str, colour: str) -> None:
    days = [r["partition_date"] for r in rows]
    final = [bool(r[final_column]) for r in rows]
    _provisional_band(ax, days, final)
    xs = [d.toordinal() for d in days]
    ys = [float("nan") if r[column] is None else r[column] for r in rows]
    ax.plot(xs, ys, color=colour, lw=1.5)
    # Two marker calls: solid for final days, hollow for provisional ones.
    for is_final, face in ((True, colour), (False, "white")):
        pts = [(x, y) for x, y, f in zip(xs, ys, final, strict=True) if f == is_final]
        if pts:
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                "o",
                ls="",
                ms=4,
                color=colour,
                markerfacecolor=face,
                mew=1.2,
            )
    if fmt == "pct":
        _pct_axis(ax)
    _day_axis(ax, days)
    ax.grid(alpha=0.3)


def trends(chart: Chart, rows: Rows) -> Figure:
    panels = chart.options["panels"]
    fig = _figure(11.0, 6.5, layout=None)
    if not rows:
        return _empty(fig)
    axes = fig.subplots(2, 3, sharex=True)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.95, bottom=0.16, hspace=0.25, wspace=0.22)
    for i, (ax, (column, title, fmt, final)) in enumerate(zip(axes.flat, panels, strict=True)):
        _series(ax, rows, column, final, fmt, PALETTE[i % len(PALETTE)])
        ax.set_title(title, fontsize=10)
    fig.legend(
        handles=[
            Line2D([], [], marker="o", ls="", color="#333333"),
            Line2D([], [], marker="o", ls="", color="#333333", markerfacecolor="white"),
            Patch(color=PROVISIONAL, alpha=0.5),
        ],
        labels=["final", "provisional (is_final false)", "provisional day"],
        loc="lower center",
        ncols=3,
        frameon=False,
        fontsize=9,
    )
    return fig


def daily_line(chart: Chart, rows: Rows) -> Figure:
    fig = _figure(8.0, 3.8)
    if not rows:
        return _empty(fig)
    ax = fig.add_subplot()
    o = chart.options
    _series(ax, rows, o["y"], o["final"], o["fmt"], PALETTE[0])
    ax.set_ylabel(chart.title)
    ax.set_ylim(bottom=min(1.0, ax.get_ylim()[0]))
    return fig


def switch_matrix(chart: Chart, rows: Rows) -> Figure:
    from outcome_pipeline.contracts.feeds import CHANNELS

    fig = _figure(6.5, 5.2)
    if not rows:
        return _empty(fig, "no channel switches in these days")
    ax = fig.add_subplot()
    index = {c: i for i, c in enumerate(CHANNELS)}
    grid = [[0] * len(CHANNELS) for _ in CHANNELS]
    for r in rows:
        grid[index[r["from_channel"]]][index[r["to_channel"]]] = r["channel_switches"]
    image = ax.imshow(grid, cmap="Blues")
    top = max(max(row) for row in grid) or 1
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if i != j:
                ax.text(
                    j,
                    i,
                    f"{value:,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > top / 2 else "black",
                )
    ax.set_xticks(range(len(CHANNELS)), CHANNELS, rotation=30)
    ax.set_yticks(range(len(CHANNELS)), CHANNELS)
    ax.set_xlabel("came back on")
    ax.set_ylabel("left")
    fig.colorbar(image, ax=ax, label="switches", shrink=0.8)
    return fig


def bars(chart: Chart, rows: Rows) -> Figure:
    fig = _figure(8.0, 3.8)
    if not rows or not any(r[chart.options["y"]] for r in rows):
        return _empty(fig, "no resolved journeys in these days")
    ax = fig.add_subplot()
    xs = [r[chart.options["x"]] for r in rows]
    ys = [r[chart.options["y"]] for r in rows]
    ax.bar(xs, ys, color=PALETTE[0])
    for x, y in zip(xs, ys, strict=True):
        ax.annotate(f"{y:,}", (x, y), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("resolved journeys")
    ax.grid(axis="y", alpha=0.3)
    return fig


def churn_bars(chart: Chart, rows: Rows) -> Figure:
    fig = _figure(8.0, 4.0)
    if not rows or not any(r["journeys_ended"] for r in rows):
        return _empty(fig, "no ended journeys in these days")
    ax = fig.add_subplot()
    width = 0.38
    for k, (window, final) in enumerate(
        (("churn_30d_rate", "is_churn_30d_final"), ("churn_90d_rate", "is_churn_90d_final"))
    ):
        for i, r in enumerate(rows):
            value = r[window] or 0.0
            colour = PALETTE[3] if r["journey_outcome"] == "unresolved" else PALETTE[2]
            ax.bar(
                i + (k - 0.5) * width,
                value,
                width,
                color=colour,
                alpha=0.6 if k == 0 else 0.95,
                hatch=None if r[final] else "//",
                edgecolor="white",
            )
            text = "n/a" if r[window] is None else f"{r[window]:.1%}"
            ax.annotate(
                f"{window[6:9]}\n{text}",
                (i + (k - 0.5) * width, value),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_xticks(range(len(rows)), [f"{r['journey_outcome']} journeys" for r in rows])
    _pct_axis(ax)
    at_risk = sum(r["mrr_at_stake"] or 0 for r in rows if r["journey_outcome"] == "unresolved")
    ax.set_title(f"Revenue at risk (MRR of unresolved journeys): {at_risk:,.0f}", fontsize=10)
    ax.set_ylabel("customers churned / journeys ended")
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.25)
    return fig


def feeds(chart: Chart, rows: Rows) -> Figure:
    names = sorted({r["feed"] for r in rows})
    panel_rows = max(1, (len(names) + 1) // 2)
    fig = _figure(11.0, 2.2 * panel_rows + 0.8, layout=None)
    if not rows:
        return _empty(fig, "no load audit rows for these days")
    axes = fig.subplots(panel_rows, 2, squeeze=False)
    fig.subplots_adjust(
        left=0.07,
        right=0.94,
        top=1 - 0.3 / fig.get_figheight(),
        bottom=0.9 / fig.get_figheight(),
        hspace=0.6,
        wspace=0.25,
    )
    for ax, name in zip(axes.flat, names, strict=False):
        mine = [r for r in rows if r["feed"] == name]
        days = [r["partition_date"] for r in mine]
        xs = [d.toordinal() for d in days]
        # One filled step area, not a bar per day: 90 days x 5 feeds of rectangles are slow.
        ax.fill_between(
            xs, [r["rows_staged"] for r in mine], step="mid", color=PALETTE[5], alpha=0.7, lw=0
        )
        ax.set_ylim(bottom=0)
        right = ax.twinx()
        right.plot(
            xs,
            [r["rows_quarantined"] for r in mine],
            "o-",
            color=PALETTE[3],
            ms=3,
            label="quarantined",
        )
        right.plot(xs, [r["rows_late"] for r in mine], "s--", color=PALETTE[1], ms=3, label="late")
        right.set_ylim(bottom=0)
        ax.set_title(name, fontsize=10)
        _day_axis(ax, days)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_axis_off()
    fig.legend(
        handles=[
            Patch(color=PALETTE[5]),
            Line2D([], [], marker="o", color=PALETTE[3]),
            Line2D([], [], marker="s", ls="--", color=PALETTE[1]),
        ],
        labels=["rows staged (left)", "rows quarantined (right)", "rows late (right)"],
        loc="lower center",
        ncols=3,
        frameon=False,
        fontsize=9,
    )
    return fig


def reasons(chart: Chart, rows: Rows) -> Figure:
    fig = _figure(10.0, 4.0)
    if not rows:
        return _empty(fig, "nothing quarantined in these days")
    ax = fig.add_subplot()
    keys = sorted({(r["feed"], r["reason_code"]) for r in rows})
    days = sorted({r["partition_date"] for r in rows})
    bottom = {d: 0 for d in days}
    for i, key in enumerate(keys):
        mine = {
            r["partition_date"]: r["rows_quarantined"]
            for r in rows
            if (r["feed"], r["reason_code"]) == key
        }
        ys = [mine.get(d, 0) for d in days]
        ax.bar(
            [d.toordinal() for d in days],
            ys,
            bottom=[bottom[d] for d in days],
            color=PALETTE[i % len(PALETTE)],
            label=f"{key[0]}: {key[1]}",
        )
        for d, y in zip(days, ys, strict=True):
            bottom[d] += y
    _day_axis(ax, days)
    ax.set_ylabel("rows quarantined")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


DRAW: dict[str, Callable[[Chart, Rows], Figure]] = {
    f.__name__: f
    for f in (bubbles, trends, daily_line, switch_matrix, bars, churn_bars, feeds, reasons)
}
