"""The diagram of a network of calls as a standalone SVG: the quantities the calls write
in one row, left to right, each arrow labelled with its call (the forward pass; an arc
where a call also reads an earlier quantity), and under them the same row of cotangents
with the arrows reversed (the backward pass).

Labels are printed by the plain-text printer (`derive.printing.text`), escaped for XML.

>>> from derive import Network, backprop
>>> svg = graph_svg(backprop(Network.conv1d(channels=(1, 2), kernel=2, length=4,
...                                         head_widths=(2,))))
>>> svg.startswith("<svg") and "conv1d" in svg and "∂J/∂H_1" in svg
True
"""
from xml.sax.saxutils import escape

from sympy import Symbol

from ..ir.nodes import MatPartial, Var
from ..ir.quantities import KINDS
from ..printing.text import text

BOX, GAP, ROW = 70, 50, 90     # a quantity's box width, the arrow between, a row's height
FONT = 'font-family="sans-serif" font-size="12" text-anchor="middle"'


def _chain(d):
    """[(label of the quantity, label of its cotangent or "", the call writing it, the
    0-based places of the earlier outputs it also reads)] in forward order, starting
    with the first call's input."""
    first = d.forward[0]
    start = sorted((a for a in first.rhs.atoms(Var) if not KINDS[a.kind].trained), key=str)
    head = start[0] if start else Symbol("x")
    out = [(text(head), "", "", [])]      # the input: no cotangent is computed for it
    place = {(v.kind, v.layer): 0 for v in start[:1]}
    for s in d.forward:
        cot = "" if not isinstance(s.lhs, Var) else text(MatPartial(Symbol("J"), s.lhs))
        reads = {place[v.kind, v.layer] for v in s.rhs.atoms(Var) if (v.kind, v.layer) in place}
        out.append((text(s.lhs), cot, s.op, sorted(n for n in reads if n < len(out) - 1)))
        if isinstance(s.lhs, Var):
            place[s.lhs.kind, s.lhs.layer] = len(out) - 1
    return out


def _box(x, y, label):
    return (f'<rect x="{x}" y="{y}" width="{BOX}" height="28" rx="6" fill="#eef" '
            f'stroke="#446"/><text x="{x + BOX / 2}" y="{y + 18}" {FONT}>{escape(label)}</text>')


def graph_svg(d):
    """The diagram of ``d`` (the module docstring)."""
    chain = _chain(d)
    width = len(chain) * (BOX + GAP) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{2 * ROW + 20}">',
             '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#446"/></marker></defs>']
    for n, (name, cot, op, skips) in enumerate(chain):
        x = 10 + n * (BOX + GAP)
        for k in skips:        # a call that also reads an earlier quantity: an arc below
            a, b = 10 + k * (BOX + GAP) + BOX / 2, x + BOX / 2
            parts.append(f'<path d="M{a},48 Q{(a + b) / 2},90 {b},48" fill="none" '
                         'stroke="#446" marker-end="url(#a)"/>')
        parts.append(_box(x, 20, name))
        if cot:
            parts.append(_box(x, 20 + ROW, cot))
        if n:
            left = x - GAP
            parts.append(f'<line x1="{left}" y1="34" x2="{x - 2}" y2="34" stroke="#446" '
                         'marker-end="url(#a)"/>')
            parts.append(f'<text x="{left + GAP / 2}" y="14" {FONT}>{escape(op)}</text>')
            if cot and chain[n - 1][1]:
                parts.append(f'<line x1="{x}" y1="{34 + ROW}" x2="{left + 2}" y2="{34 + ROW}"'
                             ' stroke="#a44" marker-end="url(#a)"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
