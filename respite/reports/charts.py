"""Charts as shapes: pure functions that place bars, lines and labels in an SVG's coordinates.

Each returns a `Chart`, which templates/reports/_chart.html draws as inline SVG: the numbers
here are coordinates, and every piece of text (a name, a reason, a title) stays plain text that
Jinja escapes when it writes it. Nothing here builds markup. The drawing is 360 units wide and
scales to its box (viewBox, width 100%); the page's table carries the same numbers.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 360.0
HEIGHT = 230.0
# Room for the value labels and the vertical axis's title on the left; for the category labels
# and the horizontal axis's title below.
LEFT = 58.0
RIGHT = 10.0
TOP = 14.0
BOTTOM = 46.0
FONT = 14.0  # the labels' size (static/css/app.css, .chart text), in the drawing's units
CHARACTER = FONT * 0.56  # a character's width, near enough to fit labels
LABEL_SPACE = 60.0  # the width a category label needs, so that neighbours never touch
ROW = 40.0  # a row of a bar-per-name chart: its name above, its bar below
BAR = 14.0

Format = Callable[[float], str]


def plain_number(value: float) -> str:
    """12 → "12", 12.25 → "12.3"."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True)
class Tick:
    """A label along an axis, at `at` (x for categories, y for a vertical chart's values)."""

    at: float
    text: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int  # which colour (the legend's order)
    title: str  # what a pointer over it shows


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    series: int
    title: str


@dataclass(frozen=True)
class Polyline:
    series: int
    points: str  # "x,y x,y ..."


@dataclass(frozen=True)
class Rule:
    """A short line across a bar: the mark of a limit (an allotment)."""

    x1: float
    y1: float
    x2: float
    y2: float
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"  # SVG text-anchor: start, middle, end


@dataclass(frozen=True)
class Chart:
    """What the template draws. `horizontal`: bars run left to right, one row per name, and the value
    ticks stand along the bottom; otherwise categories run along the bottom and values up the side."""

    title: str
    series: tuple[str, ...]
    x_title: str
    y_title: str
    width: float = WIDTH
    height: float = HEIGHT
    plot: Box = field(default_factory=lambda: Box(LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM))
    horizontal: bool = False
    category_ticks: tuple[Tick, ...] = ()
    value_ticks: tuple[Tick, ...] = ()
    rects: tuple[Rect, ...] = ()
    lines: tuple[Polyline, ...] = ()
    dots: tuple[Dot, ...] = ()
    rules: tuple[Rule, ...] = ()
    labels: tuple[Label, ...] = ()
    marker: str = ""  # the legend's name for the rules, if any
    empty: bool = False


# --- Scales ------------------------------------------------------------------------------


def nice_scale(largest: float, *, whole: bool = False, steps: int = 4) -> tuple[float, float]:
    """(top, step): a round top at or above `largest`, reached in about `steps` round steps
    (1, 2, 2.5 or 5 times a power of ten; whole numbers only when `whole`)."""
    if largest <= 0:
        return (float(steps), 1.0) if whole else (1.0, 0.25)
    raw = largest / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    if whole:
        step = max(1.0, round(step))
    top = step * math.ceil(largest / step - 1e-9)
    return top, step


def _value_ticks(top: float, step: float, place: Callable[[float], float], fmt: Format) -> tuple[Tick, ...]:
    count = round(top / step)
    return tuple(Tick(place(step * n), fmt(step * n)) for n in range(count + 1))


def _category_ticks(labels: Sequence[str], centres: Sequence[float], room: float) -> tuple[Tick, ...]:
    """Every label that fits: every one, or every second, third... from the first."""
    fits = max(1, int(room // LABEL_SPACE))
    every = max(1, math.ceil(len(labels) / fits))
    return tuple(Tick(centres[i], labels[i]) for i in range(0, len(labels), every))


def _empty(values: Sequence[Sequence[float | None]]) -> bool:
    return not any(v for series in values for v in series)


# --- Charts -------------------------------------------------------------------------------


def column_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    x_title: str,
    y_title: str,
    stacked: bool = False,
    whole: bool = False,
    fmt: Format = plain_number,
    describe: Callable[[int, int, float], str] | None = None,
) -> Chart:
    """Vertical bars, one group per category: one bar (one series), side by side (several), or one on
    another (`stacked`). `describe(category, series, value)` words each bar's title."""
    names = tuple(name for name, _ in series)
    values = [list(v) for _, v in series]
    chart = Chart(title, names, x_title, y_title, empty=_empty(values) or not categories)
    if chart.empty:
        return chart
    plot = chart.plot
    totals = [sum(column) for column in zip(*values, strict=True)] if stacked else [max(c) for c in zip(*values)]
    top, step = nice_scale(max(totals), whole=whole)

    def y(value: float) -> float:
        return plot.bottom - plot.height * value / top

    band = plot.width / len(categories)
    groups = 1 if stacked else len(series)
    bar = band * 0.72 / groups
    rects = []
    for index in range(len(categories)):
        left = plot.left + band * index + (band - bar * groups) / 2
        base = 0.0
        for number, column in enumerate(values):
            value = column[index]
            if not value:
                continue
            lower = base if stacked else 0.0
            x = left if stacked else left + bar * number
            words = describe(index, number, value) if describe else f"{categories[index]}: {fmt(value)}"
            rects.append(Rect(x, y(lower + value), bar, y(lower) - y(lower + value), number, words))
            if stacked:
                base += value
    centres = [plot.left + band * (i + 0.5) for i in range(len(categories))]
    return Chart(
        title,
        names,
        x_title,
        y_title,
        category_ticks=_category_ticks(categories, centres, plot.width),
        value_ticks=_value_ticks(top, step, y, fmt),
        rects=tuple(rects),
    )


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    x_title: str,
    y_title: str,
    fmt: Format = plain_number,
) -> Chart:
    """A line per series through each category's value; a category without a value breaks the line."""
    names = tuple(name for name, _ in series)
    values = [list(v) for _, v in series]
    known = [v for column in values for v in column if v is not None]
    chart = Chart(title, names, x_title, y_title, empty=not known or not categories)
    if chart.empty:
        return chart
    plot = chart.plot
    top, step = nice_scale(max(known))

    def y(value: float) -> float:
        return plot.bottom - plot.height * value / top

    band = plot.width / len(categories)
    centres = [plot.left + band * (i + 0.5) for i in range(len(categories))]
    lines, dots = [], []
    for number, column in enumerate(values):
        run: list[str] = []
        for index, value in enumerate(column):
            if value is None:
                if len(run) > 1:
                    lines.append(Polyline(number, " ".join(run)))
                run = []
                continue
            point = (centres[index], y(value))
            run.append(f"{point[0]:.1f},{point[1]:.1f}")
            dots.append(Dot(point[0], point[1], number, f"{categories[index]}: {names[number].lower()} {fmt(value)}"))
        if len(run) > 1:
            lines.append(Polyline(number, " ".join(run)))
    return Chart(
        title,
        names,
        x_title,
        y_title,
        category_ticks=_category_ticks(categories, centres, plot.width),
        value_ticks=_value_ticks(top, step, y, fmt),
        lines=tuple(lines),
        dots=tuple(dots),
    )


def _shorten(text: str, room: float) -> str:
    """`text`, cut with an ellipsis to what fits in `room` units (the whole name is in the table)."""
    fits = max(4, int(room // CHARACTER))
    return text if len(text) <= fits else text[: fits - 1].rstrip() + "…"


def row_chart(
    title: str,
    names: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    x_title: str,
    limits: Sequence[float] | None = None,
    marker: str = "",
    value_text: Callable[[int], str],
    fmt: Format = plain_number,
) -> Chart:
    """One row per name, its name above a bar of the series stacked left to right, with `value_text(row)`
    at the row's right; `limits` adds a rule across each bar (an allotment), named `marker` in the legend."""
    labels_ = tuple(name for name, _ in series)
    values = [list(v) for _, v in series]
    if not names or (_empty(values) and not any(limits or ())):
        return Chart(title, labels_, x_title, "", horizontal=True, empty=True)
    height = TOP + ROW * len(names) + BOTTOM - 8
    plot = Box(12.0, TOP, WIDTH - 14.0, TOP + ROW * len(names))
    totals = [sum(row) for row in zip(*values, strict=True)]
    top, step = nice_scale(max([*totals, *(limits or ())]))

    def x(value: float) -> float:
        return plot.left + plot.width * value / top

    rects, rules, labels = [], [], []
    for index, name in enumerate(names):
        row_top = plot.top + ROW * index
        text = value_text(index)
        room = plot.width - CHARACTER * (len(text) + 2)
        labels.append(Label(plot.left + 4, row_top + FONT, _shorten(name, room - 4)))
        labels.append(Label(plot.right, row_top + FONT, text, "end"))
        bar_top = row_top + FONT + 6
        base = 0.0
        for number, row in enumerate(values):
            value = row[index]
            if value:
                words = f"{name}: {fmt(value)} {labels_[number].lower()}"
                rects.append(Rect(x(base), bar_top, x(base + value) - x(base), BAR, number, words))
                base += value
        if limits is not None:
            at = x(limits[index])
            rules.append(Rule(at, bar_top - 4, at, bar_top + BAR + 4, f"{name}: {marker.lower()} {fmt(limits[index])}"))
    return Chart(
        title,
        labels_,
        x_title,
        "",
        height=height,
        plot=plot,
        horizontal=True,
        value_ticks=_value_ticks(top, step, x, fmt),
        rects=tuple(rects),
        rules=tuple(rules),
        labels=tuple(labels),
        marker=marker,
    )
