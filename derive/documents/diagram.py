"""The network diagram: the forward chain x → h_1 → z_1 → … → J, and below it the
backward chain δ_L → δ_{L−1} → … → δ_1, drawn in another colour with dashed arrows.
With the §1b options a normalized layer shows ĥ_l between h_l and z_l, a residual
layer an arc from z_{l−1} to z_l above the chain, and dropout its mask on the edge
into z_l.

`chain` gives the node labels (printed LaTeX) to the TikZ template; `svg` draws the
same picture as a standalone SVG (no extra dependency): Unicode labels whose layer index
is a smaller, shifted tspan (h with a lowered L−1), the edges into h_l and z_l named by
W_l and the activation.
"""
import re
from html import escape

from sympy import Integer

from ..printing.notation import act_latex
from ..vocab import DEPTH, LOSS

#: concrete depths above this are drawn with an ellipsis in the middle
FULL = 4


def layers(net):
    """The layers drawn, with None for an ellipsis."""
    if net.symbolic:
        return [Integer(1), None, DEPTH - 1, DEPTH]
    if net.depth <= FULL:
        return [Integer(l) for l in range(1, net.depth + 1)]
    return [Integer(1), Integer(2), None, net.L - 1, net.L]


def hidden(net, layer):
    """Whether a drawn layer is a hidden one (where the §1b options act)."""
    return layer != net.L


def forward_kinds(net, layer):
    """The quantities a layer's forward chain shows: h, (ĥ with a norm,) z."""
    if net.norm != "none" and hidden(net, layer):
        return ("h", "hhat", "z")
    return ("h", "z")


def skips(net, nodes):
    """The residual arcs: (index of z_{l−1}'s node, or of the ellipsis before it, index
    of z_l's node) for every drawn layer l that adds its input."""
    arcs, last = [], 0           # node 0 is the input z_0
    for index, (kind, layer) in enumerate(nodes):
        if kind in ("z", "dots"):
            if kind == "z" and net.is_residual(layer):
                arcs.append((last, index))
            last = index
    return arcs


def _nodes(net):
    """(kind, layer) of every forward node after the input, the loss left out."""
    nodes = []
    for l in layers(net):
        nodes += [("dots", None)] if l is None else [(kind, l) for kind in forward_kinds(net, l)]
    return nodes


def chain(doc):
    """Labels for the TikZ picture: forward nodes and backward nodes, left to right; the
    residual arcs; the dropout mask on the edge into a hidden z_l."""
    net = doc.d.net
    fwd = [dict(label=doc.var("z", 0), dots=False, x=0, edge="")]
    back = []
    for kind, l in _nodes(net):
        x = len(fwd)
        if kind == "dots":
            fwd.append(dict(label=r"\cdots", dots=True, x=x, edge=""))
            back.append(dict(label=r"\cdots", dots=True, x=x))
            continue
        mask = net.dropout and kind == "z" and hidden(net, l)
        fwd.append(dict(label=doc.var(kind, l), dots=False, x=x,
                        edge=r"\odot " + doc.var("M", l) if mask else ""))
        if kind == "h":
            back.append(dict(label=doc.var("delta", l), dots=False, x=x))
    fwd.append(dict(label=doc.tex(LOSS), dots=False, x=len(fwd), edge=""))
    arcs = [dict(source=a + 1, target=b + 1) for a, b in skips(net, [("x", 0)] + _nodes(net))]
    return dict(forward=fwd, backward=back, skips=arcs,
                weights=[doc.var("W", l, 2, 2) for l in layers(net) if l is not None])


#: TeX of an activation's name (`derive.printing.notation.act_latex`) as plain text
_GREEK = {r"\sigma": "σ", r"\varphi": "φ", r"\sigma_0": "σ₀", r"\tanh": "tanh",
          r"\log": "log", r"\exp": "exp"}


def act_text(tex):
    """An activation's printed name as plain text: σ, tanh, relu (no TeX in an SVG)."""
    if tex in _GREEK:
        return _GREEK[tex]
    inner = re.fullmatch(r"\\operatorname\{([^}]*)\}", tex)
    return inner.group(1) if inner else tex.lstrip("\\")


def _plain(doc, kind, layer):
    """A node's label in the preset's letters: (letter, index, "sub" or "super" or "")
    — g and N for g^N, q and 0 for q_0, δ and F for δ^F, x alone for the input."""
    nt = doc.nt
    letters = {"h": nt.pre, "z": nt.post, "delta": "δ", "hhat": nt.pre + "\u0302",
               "W": nt.weight}
    name = letters.get(kind, kind)
    if kind == "z" and layer == 0 and nt.input:
        return nt.input, "", ""
    if kind == "delta" and doc.scalar:       # a one-node chain: 003 counts from the output
        layer = doc.d.net.L - layer
    lay = doc.layer(layer).replace("-", "\u2212")
    if kind == "z" and nt.output_post and lay == nt.output_name:
        return nt.output_post, "", ""
    if kind == "W" and nt.pair_weights:      # pq: W_{ij} takes layer i to layer j
        lo = doc.layer(layer - 1).replace("-", "\u2212")
        return name, lo + ("" if len(lo) == 1 and len(lay) == 1 else ",") + lay, "sub"
    return name, lay, "super" if nt.script == "super" else "sub"


def label_svg(base, index="", script="sub", size=11):
    """SVG text content for a letter with a sub- or superscript (a tspan shifted with
    dy, which every SVG renderer honours, in a smaller size), escaped.

    >>> label_svg("h", "L−1")
    'h<tspan dy="5" font-size="11">L−1</tspan>'
    """
    if not index:
        return escape(base)
    dy = 5 if script == "sub" else -7
    return f'{escape(base)}<tspan dy="{dy}" font-size="{size}">{escape(index)}</tspan>'


def _edge_labels(doc, nodes, xs):
    """W_l above the edge into h_l, the activation's name above the edge into z_l."""
    net, out = doc.d.net, []
    for k, (kind, layer) in enumerate(nodes):
        if kind == "h":
            text = label_svg(*_plain(doc, "W", layer), size=9)
        elif kind == "z" and layer != 0:
            text = escape(act_text(act_latex(net.activation(layer).name)))
        else:
            continue
        out.append(f'<text x="{(xs[k - 1] + xs[k]) / 2}" y="50" text-anchor="middle" '
                   f'font-size="12">{text}</text>')
    return out


def svg(doc):
    """A standalone SVG of the forward chain (black) and the δ chain (red, dashed);
    labels in Unicode with shifted sub- and superscripts, edges named by their weights
    and activations."""
    net = doc.d.net
    nodes = [("x", _plain(doc, "z", 0))]
    drawn = [("z", 0)]
    backs = []
    for kind, l in _nodes(net):
        drawn.append((kind, l))
        if kind == "dots":
            nodes.append(("dots", ("…", "", "")))
            backs.append(("…", "", ""))
            continue
        nodes.append((kind, _plain(doc, kind, l)))
        if kind == "h":
            backs.append(_plain(doc, "delta", l))
    loss = doc.nt.loss if doc.nt.loss.isalpha() else "J"
    nodes.append(("J", (loss, "", "")))
    step, width = 80, 80 * len(nodes) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="170" '
           f'viewBox="0 0 {width} 170" font-family="serif" font-size="15">',
           '<defs><marker id="f" markerWidth="8" markerHeight="8" refX="7" refY="4" '
           'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="black"/></marker>'
           '<marker id="b" markerWidth="8" markerHeight="8" refX="7" refY="4" '
           'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#b22222"/></marker></defs>',
           '<text x="10" y="20">forward pass</text>',
           '<text x="10" y="160" fill="#b22222">backward pass (δ)</text>']
    xs = [40 + step * k for k in range(len(nodes))]
    for k, (_, label) in enumerate(nodes):
        out.append(f'<circle cx="{xs[k]}" cy="60" r="22" fill="white" stroke="black"/>'
                   f'<text x="{xs[k]}" y="65" text-anchor="middle">{label_svg(*label)}</text>')
        if k:
            out.append(f'<line x1="{xs[k-1] + 22}" y1="60" x2="{xs[k] - 24}" y2="60" '
                       'stroke="black" marker-end="url(#f)"/>')
    out += _edge_labels(doc, drawn, xs)
    for a, b in skips(net, [("x", 0)] + _nodes(net)):   # residual arcs, above the chain
        out.append(f'<path d="M{xs[a]},38 Q{(xs[a] + xs[b]) / 2},0 {xs[b]},36" fill="none" '
                   'stroke="black" marker-end="url(#f)"/>')
    hx = [xs[k] for k, (kind, _) in enumerate(nodes) if kind in ("h", "dots")]
    for k, label in enumerate(backs):
        out.append(f'<rect x="{hx[k] - 24}" y="100" width="48" height="28" rx="6" '
                   f'fill="white" stroke="#b22222" stroke-dasharray="4 3"/>'
                   f'<text x="{hx[k]}" y="119" text-anchor="middle" fill="#b22222">'
                   f'{label_svg(*label)}</text>')
        if k:
            out.append(f'<line x1="{hx[k] - 26}" y1="114" x2="{hx[k-1] + 26}" y2="114" '
                       'stroke="#b22222" stroke-dasharray="5 3" marker-end="url(#b)"/>')
    out.append(f'<line x1="{xs[-1]}" y1="84" x2="{hx[-1] + 26}" y2="110" stroke="#b22222" '
               'stroke-dasharray="5 3" marker-end="url(#b)"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
