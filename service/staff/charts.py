"""Charts drawn on the server as SVG (no script, no CDN): bars per day, stacked or side by side, and
horizontal bars for a funnel. Colours from the Okabe-Ito palette, which colour-blind readers can tell
apart; every series is named in a legend, and the page shows each chart's numbers as a table too."""
from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 64


def bars(title: str, labels: list[str], series: list[tuple[str, list[float]]], stacked: bool = True) -> Markup:
    """One group of bars per label (a day); `series` are (name, value per label)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
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
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{PALETTE[k % 8]}">'
                         f'<title>{escape(labels[i])}: {escape(name)} {value:g}</title></rect>')
            base += value if stacked else 0
    step = max(1, round(len(labels) / 8))
    for i in range(0, len(labels), step):
        x = LEFT + slot * i + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" font-size="11" text-anchor="middle">'
                     f'{escape(labels[i])}</text>')
    parts.append(_legend([name for name, _ in series], TOP + plot_h + 30))
    return _svg(title, "".join(parts), HEIGHT)


def funnel(title: str, rows: list[tuple[str, float]]) -> Markup:
    """Horizontal bars, one per step, largest first as given."""
    height = TOP + 24 * max(len(rows), 1) + 8
    top = _nice(max((v for _, v in rows), default=0))
    label_w = 150
    parts = []
    for i, (label, value) in enumerate(rows):
        y = TOP + i * 24
        w = (WIDTH - label_w - 60) * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="{PALETTE[0]}">'
                     f'<title>{escape(label)}: {value:g}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="12">{value:g}</text>')
    return _svg(title, "".join(parts), height)


def _axis(top: float, plot_h: float, plot_w: float) -> str:
    out = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
                   f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{top * fraction:g}</text>')
    return "".join(out)


def _legend(names: list[str], y: float) -> str:
    out, x = [], LEFT
    for k, name in enumerate(names):
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{PALETTE[k % 8]}"/>'
                   f'<text x="{x + 16}" y="{y + 10}" font-size="12">{escape(name)}</text>')
        x += 28 + 7 * len(name)
        if x > WIDTH - 120:
            x, y = LEFT, y + 16
    return "".join(out)


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
