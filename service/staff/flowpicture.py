"""A flow drawn as a picture, on the server, as SVG: steps as boxes (top to bottom, in the order a
texter meets them), answers, `next` steps, timeouts and `otherwise` as labelled arrows, each kind with
its own line style (not only colour). With results, each box and arrow carries its count."""
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import quote
from xml.sax.saxutils import escape

from markupsafe import Markup

from flows.model import Flow

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN, MARGIN_X = 190, 64, 40, 70, 20, 110  # room on the left for arrows back up
STYLE = {"answer": "", "next": "", "timeout": ' stroke-dasharray="7 4"', "otherwise": ' stroke-dasharray="2 3"'}


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    kind: str  # answer, next, timeout, otherwise
    label: str
    count: int | None = None


def arrows(flow: Flow, language: str, results: dict | None = None) -> list[Arrow]:
    """With results (even none yet), every counted arrow carries its count."""
    out, counted = [], results is not None
    results = results or {}
    for step in flow.steps.values():
        for i, answer in enumerate(step.answers):
            words = answer.match.get(language) or next(iter(answer.match.values()), ())
            out.append(Arrow(step.name, answer.go, "answer", ", ".join(words[:4]),
                             results.get(f"answer:{step.name}:{i}", 0) if counted else None))
        if step.next:
            out.append(Arrow(step.name, step.next.go, "next", f"after {_span(step.next.after)}" if step.next.after
                             else "then"))
        if step.timeout:
            out.append(Arrow(step.name, step.timeout.go, "timeout", f"no answer in {_span(step.timeout.after)}",
                             results.get(f"timeout:{step.name}", 0) if counted else None))
        if step.asks:
            out.append(Arrow(step.name, step.otherwise or step.name, "otherwise", "anything else",
                             results.get(f"otherwise:{step.name}", 0) if counted else None))
    return [a for a in out if a.target in flow.steps]


def layers(flow: Flow) -> list[list[str]]:
    """Rows of steps: the start, then what it leads to, and so on; steps nothing leads to come last."""
    rows, seen, row = [], set(), [flow.start] if flow.start in flow.steps else []
    edges = arrows(flow, "")
    while row:
        rows.append(row)
        seen.update(row)
        row = list(dict.fromkeys(a.target for name in row for a in edges if a.source == name and a.target not in seen))
    rest = [name for name in flow.steps if name not in seen]
    return rows + ([rest] if rest else [])


def sketch(form: dict, language: str) -> SimpleNamespace:
    """The builder's form as a flow to draw, even while it has problems (a step it names that does not
    exist has no arrow; its problem is shown on the step)."""
    def jump(go, after, default=None):
        return SimpleNamespace(go=go, after=after or default) if go else None

    steps = {}
    for s in form["steps"]:
        if not s["name"] or s["name"] in steps:
            continue
        answers = tuple(SimpleNamespace(match={k: [w.strip() for w in v.split(",") if w.strip()]
                                               for k, v in a["match"].items()}, go=a["go"]) for a in s["answers"])
        steps[s["name"]] = SimpleNamespace(name=s["name"], text=s["text"], answers=answers, asks=bool(answers),
                                           otherwise=s["otherwise"] or None, next=jump(s["next_go"], s["next_after"]),
                                           timeout=jump(s["timeout_go"], s["timeout_after"], "?"))
    return SimpleNamespace(name=form["flow"], start=form["start"] or next(iter(steps), ""), steps=steps)


def svg(flow: Flow, language: str, results: dict | None = None, texts: dict[str, str] | None = None,
        editing: str | None = None, problems: dict[str, int] | None = None) -> Markup:
    """With `editing` (the step open in the builder), every box is a link that opens its step, and a
    step with problems is drawn with a thick red border and how many."""
    rows = layers(flow) or [[]]  # a flow with no step yet is an empty frame
    inner = max(BOX_W, max(len(r) for r in rows) * (BOX_W + GAP_X) - GAP_X)
    width, height = MARGIN_X * 2 + inner, MARGIN * 2 + len(rows) * (BOX_H + GAP_Y) - GAP_Y
    where = {name: (MARGIN_X + (inner - (len(row) * (BOX_W + GAP_X) - GAP_X)) / 2 + i * (BOX_W + GAP_X),
                    MARGIN + r * (BOX_H + GAP_Y)) for r, row in enumerate(rows) for i, name in enumerate(row)}
    role = "img" if editing is None else "group"  # an image hides its children: the builder's links would vanish
    parts = [f'<svg class="flow-picture" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
             f'height="{height:.0f}" role="{role}" '
             f'aria-labelledby="pic-{flow.name}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="pic-{flow.name}">Flow {escape(flow.name)}: {len(flow.steps)} steps '
             f'(a table below lists the same)</title>',
             '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>']
    parts += [_arrow(a, where) for a in arrows(flow, language, results)]
    parts += [_box(flow, name, where[name], language, results or {}, texts or {}) if editing is None else
              _link(_box(flow, name, where[name], language, results or {}, texts or {}, name == editing,
                         (problems or {}).get(name, 0)), name, (problems or {}).get(name, 0))
              for name in flow.steps]
    parts.append("</svg>")
    return Markup("".join(parts))


def _link(box: str, name: str, problems: int) -> str:
    """A box the keyboard reaches and a screen reader names: it opens the step in the panel beside it."""
    said = f"Edit step {name}" + (f" ({problems} problem{'s' if problems != 1 else ''})" if problems else "")
    attr = {'"': "&quot;", "'": "&#39;"}
    return (f'<a href="?step={quote(name)}" class="step-link" data-edit="{escape(name, attr)}" '
            f'aria-label="{escape(said, attr)}">{box}</a>')


def _box(flow: Flow, name: str, at: tuple[float, float], language: str, results: dict, texts: dict,
         chosen: bool = False, problems: int = 0) -> str:
    x, y = at
    step = flow.steps[name]
    text = texts.get(name) or step.text.get(language) or next(iter(step.text.values()), "")
    width = 4 if problems else 3 if name == flow.start or chosen else None
    start = f' stroke-width="{width}"' if width else ""
    people = results.get(f"people:{name}")
    lines = [text[:30], text[30:60] + ("..." if len(text) > 60 else "")]
    fill, stroke = ("#fff4cc" if chosen else "#f3f6f8"), ("#b00020" if problems else "#1f4e5f")
    flag = f" - {problems} to fix" if problems else ""
    return (f'<g class="step{" chosen" if chosen else ""}{" has-problems" if problems else ""}" data-step="{escape(name)}">'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="8" fill="{fill}" stroke="{stroke}"{start}/>'
            f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" font-weight="bold">{escape(name)}{flag}'
            f'{f" ({people} people)" if people is not None else ""}</text>'
            + "".join(f'<text x="{x + 8:.0f}" y="{y + 36 + 16 * i:.0f}" font-size="12">{escape(line)}</text>'
                      for i, line in enumerate(lines) if line) + "</g>")


def _arrow(arrow: Arrow, where: dict) -> str:
    (sx, sy), (tx, ty) = where[arrow.source], where[arrow.target]
    label = arrow.label + (f" ({arrow.count})" if arrow.count is not None else "")
    style = f'class="arrow {arrow.kind}" fill="none" stroke="#333" stroke-width="1.5"{STYLE[arrow.kind]}'
    if arrow.source == arrow.target:  # a loop on the box's right side
        x, y = sx + BOX_W, sy + BOX_H / 2
        path = f"M{x:.0f},{y - 14:.0f} C{x + 45:.0f},{y - 30:.0f} {x + 45:.0f},{y + 30:.0f} {x + 2:.0f},{y + 14:.0f}"
        lx, ly = x + 8, y + 36
    elif ty > sy:  # down to a later row: labelled near its end, where arrows from one box have spread apart
        x1, y1, x2, y2 = sx + BOX_W / 2, sy + BOX_H, tx + BOX_W / 2, ty
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{y1 + 35:.0f} {x2:.0f},{y2 - 35:.0f} {x2:.0f},{y2 - 2:.0f}"
        lx, ly = x2 + 4, y2 - 14
    else:  # back up (or across): around the boxes' left side
        x1, y1, x2, y2 = sx, sy + BOX_H / 2, tx, ty + BOX_H / 2
        path = f"M{x1:.0f},{y1:.0f} C{x1 - 60:.0f},{y1:.0f} {x2 - 60:.0f},{y2:.0f} {x2 - 2:.0f},{y2:.0f}"
        lx, ly = min(x1, x2) - 55, (y1 + y2) / 2
    return (f'<path d="{path}" {style} marker-end="url(#arrowhead)"/>'
            f'<text class="arrow-label" x="{lx:.0f}" y="{ly:.0f}" font-size="11" paint-order="stroke" stroke="#fff" '
            f'stroke-width="3">{escape(label)}</text>')


def _span(delta) -> str:
    if delta is None or isinstance(delta, str):  # as typed in the builder (perhaps not yet)
        return delta or "?"
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
