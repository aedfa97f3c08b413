"""Charts drawn on the server as SVG (no script, no CDN): bars per day, stacked or side by side, and
horizontal bars for a funnel. Colours from the Okabe-Ito palette, which colour-blind readers can tell
apart, ordered so the first five have at least 3:1 contrast on white; every bar has a dark outline (its
edge stands out whatever its fill), every series is named in a legend, more series than colours fold
into "Other", and the page shows each chart's numbers as a table too. Text is drawn large enough to read
at the narrowest size the page shows a chart (520 px, scrolled sideways on a phone)."""
from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#000000", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
OUTLINE = 'stroke="#333" stroke-width="0.75"'
WIDTH, PLOT_H = 640, 184
LEFT, RIGHT, TOP = 48, 8, 12
TICK, TEXT = 13, 14  # font sizes: at 520 px wide they read as 10.6 and 11.4 px


def bars(title: str, labels: list[str], series: list[tuple[str, list[float]]], stacked: bool = True) -> Markup:
    """One group of bars per label (a day); `series` are (name, value per label)."""
    series = _fold(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, PLOT_H
    totals = [sum(values[i] for _, values in series) if stacked else max((v[i] for _, v in series), default=0)
              for i in range(len(labels))]
    top = _nice(max(totals, default=0))
    slot = plot_w / max(len(labels), 1)
    width = max(slot * 0.8 / (1 if stacked else max(len(series), 1)), 1)
    parts = [_axis(top, plot_h, plot_w)]
    for i in range(len(labels)):
        base = 0.0
        for k, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top
            x = LEFT + slot * i + slot * 0.1 + (0 if stacked else k * width)
            y = TOP + plot_h - h - (plot_h * base / top if stacked else 0)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{PALETTE[k]}" {OUTLINE}>'
                         f'<title>{escape(labels[i])}: {escape(name)} {value:g}</title></rect>')
            base += value if stacked else 0
    step = max(1, round(len(labels) / 8))
    for i in range(0, len(labels), step):
        x = LEFT + slot * i + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" font-size="{TICK}" text-anchor="middle">'
                     f'{escape(labels[i])}</text>')
    legend, bottom = _legend([name for name, _ in series], TOP + plot_h + 32)
    parts.append(legend)
    return _svg(title, "".join(parts), bottom + 6)


def _fold(series: list[tuple[str, list[float]]]) -> list[tuple[str, list[float]]]:
    """At most one series per colour: the rest are summed into "Other"."""
    if len(series) <= len(PALETTE):
        return series
    kept, rest = series[:len(PALETTE) - 1], series[len(PALETTE) - 1:]
    return [*kept, ("Other", [sum(values[i] for _, values in rest) for i in range(len(rest[0][1]))])]


def funnel(title: str, rows: list[tuple[str, float]]) -> Markup:
    """Horizontal bars, one per step, largest first as given."""
    height = TOP + 24 * max(len(rows), 1) + 8
    top = _nice(max((v for _, v in rows), default=0))
    label_w = 150
    parts = []
    for i, (label, value) in enumerate(rows):
        y = TOP + i * 24
        w = (WIDTH - label_w - 60) * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="{TEXT}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="{PALETTE[0]}" {OUTLINE}>'
                     f'<title>{escape(label)}: {value:g}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="{TEXT}">{value:g}</text>')
    return _svg(title, "".join(parts), height)


def _axis(top: float, plot_h: float, plot_w: float) -> str:
    out = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
                   f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="{TICK}" text-anchor="end">{top * fraction:g}</text>')
    return "".join(out)


def _legend(names: list[str], y: float) -> tuple[str, float]:
    """The legend from `y` down, wrapping as the names need; returns it and where it ends."""
    out, x = [], LEFT
    for k, name in enumerate(names):
        width = 30 + 8 * len(name)
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, y = LEFT, y + 20
        out.append(f'<rect x="{x}" y="{y}" width="13" height="13" fill="{PALETTE[k]}" {OUTLINE}/>'
                   f'<text x="{x + 18}" y="{y + 11}" font-size="{TEXT}">{escape(name)}</text>')
        x += width
    return "".join(out), y + 16


def _nice(value: float) -> float:
    """A round top for the scale, at least 1."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _svg(title: str, body: str, height: float) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(title)}" '
                  f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">{body}</svg>')
