"""Bar charts drawn as SVG on the server: geometry here, markup in the templates."""

from collections.abc import Sequence
from dataclasses import dataclass

from app.web.render import span


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    """A vertical bar chart `width` × `height`, its bars, and gridlines (y, label)."""

    width: int
    height: int
    bars: list[Bar]
    grid: list[tuple[float, str]]
    empty: bool
    label_every: int


WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 56, 28, 12


def bar_chart(points: Sequence[tuple[str, float | None]]) -> Chart:
    """Bars for (label, seconds) points; a None value draws no bar but keeps its slot."""
    values = [value for _, value in points if value is not None]
    top = _nice(max(values)) if values else 3600.0
    plot_height, slot = HEIGHT - BOTTOM - TOP, (WIDTH - LEFT) / max(len(points), 1)
    width = min(slot * 0.7, 64.0)
    bars = []
    for index, (label, value) in enumerate(points):
        size = 0.0 if value is None else plot_height * value / top
        bars.append(
            Bar(
                x=LEFT + index * slot + (slot - width) / 2,
                y=TOP + plot_height - size,
                width=width,
                height=size,
                label=label if len(label) <= 14 else label[:13] + "…",
                value="" if value is None else span(value),
            )
        )
    grid = [(TOP + plot_height * (1 - part / 4), span(top * part / 4)) for part in range(5)]
    return Chart(WIDTH, HEIGHT, bars, grid, empty=not values, label_every=-(-len(points) // 14))


def _nice(seconds: float) -> float:
    """A round axis top at or above `seconds`: 1m, 5m, 15m, 30m, 1h, 2h, 4h, 8h, 12h, 1d, …"""
    for step in (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400):
        if seconds <= step:
            return float(step)
    days = 86400.0
    while days < seconds:
        days *= 2
    return days
