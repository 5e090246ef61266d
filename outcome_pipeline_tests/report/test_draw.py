"""The bubble chart's labels (``report/draw.py``): teams with close figures keep readable names."""

from __future__ import annotations

from matplotlib.text import Text

from outcome_pipeline.report import CHARTS
from outcome_pipeline.report.draw import _area, bubbles

TEAMS = next(c for c in CHARTS if c.id == "teams_outputs_vs_outcomes")


def _team(name: str, aht: float, real: float, legs: int = 500) -> dict:
    return {
        "team": name,
        "aht_seconds": aht,
        "real_resolution_rate": real,
        "false_resolution_rate": 0.1,
        "legs_handled": legs,
    }


def _label_boxes(rows: list[dict]) -> dict[str, object]:
    fig = bubbles(TEAMS, rows)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    # The texts without words are the labels' lines to their bubbles.
    return {
        t.get_text().split("\n")[0]: Text.get_window_extent(t) for t in ax.texts if t.get_text()
    }


def test_labels_of_teams_with_close_figures_do_not_overlap() -> None:
    # Two teams 6 s of handle time and one point of resolution apart, as `retention_desk` and
    # `tech_experts` were in the demo: their labels were drawn on top of each other.
    rows = [
        _team("retention_desk", 540.0, 0.61),
        _team("tech_experts", 546.0, 0.62),
        _team("billing", 300.0, 0.75),
        _team("general", 420.0, 0.68),
        _team("escalations", 545.0, 0.60),
    ]
    boxes = _label_boxes(rows)
    assert set(boxes) == {r["team"] for r in rows}
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert _area(boxes[a], boxes[b]) == 0, (a, b)


def test_the_placement_does_not_depend_on_the_order_of_the_rows() -> None:
    rows = [_team("a", 540.0, 0.61), _team("b", 546.0, 0.62), _team("c", 543.0, 0.615)]

    def placed(rows: list[dict]) -> dict[str, tuple[float, ...]]:
        return {k: tuple(round(x, 3) for x in v.bounds) for k, v in _label_boxes(rows).items()}

    assert placed(rows) == placed(rows[::-1])


def test_a_lone_label_stays_up_and_right_of_its_bubble() -> None:
    fig = bubbles(TEAMS, [_team("only", 500.0, 0.7)])
    label = fig.axes[0].texts[0]
    assert label.xyann == (8, 8) and label.get_horizontalalignment() == "left"
    assert label.get_verticalalignment() == "bottom"
