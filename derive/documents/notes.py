"""`render`: a derivation written up as lecture notes (LaTeX or Markdown).

The document is assembled from the engine's steps: this module groups them into
sections, prints every equation with `NotesLatexPrinter`, numbers them, and hands
the printed math to Jinja templates (``templates/latex``, ``templates/markdown`` and
the shared step partials in ``templates/common``). Templates hold the prose and the
layout only; every formula they show arrives here already printed.

>>> from derive import Network, backprop
>>> text = render(backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")),
...               "markdown")
>>> "\\\\boldsymbol{\\\\delta}_{2} = \\\\mathbf{z}_{2} - \\\\mathbf{y}" in text
True
"""
import os
import re

from sympy import Integer, KroneckerDelta, Symbol, Transpose
from sympy.matrices.expressions import MatAdd

from ..engine.derivation import Derivation
from ..errors import SpecError
from ..ir.nodes import MatPartial, Var
from ..ir.steps import Rule
from ..printing import notation as _notation
from ..printing.latex import INDICATOR, NotesLatexPrinter
from ..spec import rules
from ..spec.conv import refuse_unbuilt
from ..util.templates import environment
from ..vocab import DATA_LOSS, DEPTH, LAMBDA, LAYER, LOSS, WIDTH
from .answers import hz_answer
from .chains import FAMILY, Numbers, displays
from .diagram import chain, svg
from .facts import activations, assumptions
from .fragment import check_prefix, default_prefix, levels
from .graph_diagram import graph_svg
from .graph_notes import is_graph, render_graph
from .norm import page as norm_page
from .norm_forms import letters, short_forms, short_rows
from .one_node import one_node_chain, scalar_steps
from .rows import ROW_SECTIONS, row, row_results, row_steps, transpose_chain
from .scalars import applies, scalar
from .sections import ORDER, kind_results, squashed_input
from .sections import sections as _sections
from .worked import example

FORMATS = ("latex", "markdown")
DETAILS = ("brief", "standard", "full")


_TEX_PLAIN = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
              "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
              "^": r"\textasciicircum{}", "σ": r"$\sigma$", "Σ": r"$\Sigma$",
              "ᵀ": r"$^{\top}$", "−": "-", "δ": r"$\delta$", "η": r"$\eta$",
              "…": r"\ldots{}", "’": "'", "∈": r"$\in$", "ℝ": r"$\mathbb{R}$"}
_MD_PLAIN = {c: "\\" + c for c in "\\`*_{}[]<>$#|"}


def plain(value, fmt):
    """Escape a plain-text fact (a rule note, an assumption) for the output format."""
    table = _TEX_PLAIN if fmt == "latex" else _MD_PLAIN
    out = "".join(table.get(c, c) for c in str(value))
    if fmt == "latex":
        out = "".join(c if ord(c) < 128 or c in "$" else "?" for c in out)
    return out


def code(value, fmt):
    """A name shown as code (an activation such as ``leaky_relu`` or ``custom:x^2``):
    whitespace collapsed; ``\\texttt`` in LaTeX (backticks there print as quotes), a code
    span in Markdown."""
    value = " ".join(str(value).split())
    return rf"\texttt{{{plain(value, fmt)}}}" if fmt == "latex" else f"`{value}`"


class _Doc:
    """The printer of one document, with the helpers the displays need."""

    def __init__(self, d, nt, fmt="latex", shapes=False):
        self.d, self.nt = d, nt
        self.scalar = applies(d.net, nt)     # a one-node chain: written with numbers
        depth = None if d.net.symbolic else Integer(d.net.depth)
        self.p = NotesLatexPrinter(dict(notation=nt, depth=depth, indicator=INDICATOR[fmt],
                                        human=True, shapes=shapes and not self.scalar))
        self.names = letters(nt, d.net)     # the letters of g_l and σ_l (a normalization)

    def tex(self, expr):
        return self.p.doprint(scalar(expr) if self.scalar else expr)

    def layer(self, layer):
        return self.p.layer_tex(layer) if layer is not None else ""

    def var(self, kind, layer, rows=1, cols=1):
        return self.tex(Var(kind, layer, rows, cols))




def _plain_display(doc, steps, kind):
    """Several results in one display, each line with its own left-hand side."""
    lines = [dict(lhs=doc.tex(s.lhs), rhs=doc.tex(s.rhs), why=[],
                  rel=r"\leftarrow" if s.topic == "update" else "=") for s in steps]
    return dict(kind=kind, rule=kind, lines=lines, number=0, layer="", note="",
                topic=kind, has={}, lhs=lines[-1]["lhs"], rhs=lines[-1]["rhs"],
                steps=list(steps), own_lines=True)


def _results(steps):
    """The last (matrix) line of every family of the general layer's steps: the results
    the general layer is stated with, without re-deriving them."""
    last = {}
    for s in steps:     # (the lecturer's σ_l and g_l are results of their own)
        if s.form == "matrix" and s.group not in ("out", "wbar", "dJdz"):
            last[(FAMILY.get(s.group, s.group), getattr(s.lhs, "letter", ""))] = s
    return list(last.values())


def _displays(doc, sec, detail="standard"):
    numbers = Numbers()
    out = {k: [] for k in ORDER}
    if detail == "brief":
        return out
    out["forward"] = [_plain_display(doc, sec["forward"], "forward")] if sec["forward"] else []
    out["updates"] = [_plain_display(doc, sec["updates"], "updates")] if sec["updates"] else []
    general = _results(sec["general"])
    out["general"] = [_plain_display(doc, general, "general")] if general else []
    out["rest"] = [_plain_display(doc, sec["rest"], "rest")] if sec["rest"] else []
    full = ("rest",) + (("general",) if doc.d.net.symbolic else ()) if detail == "full" else ()
    for name in ("loss", "output", "hidden", "below") + full:
        out[name] = displays(sec[name], doc, numbers)
    numbers.finish([out[name] for name in ORDER])
    return out


def _shapes(doc):
    net = doc.d.net
    L = net.L
    if net.symbolic:
        layers = [Integer(1), LAYER, DEPTH]
    elif net.depth <= 6:
        layers = [Integer(l) for l in range(1, net.depth + 1)]
    else:
        layers = [Integer(1), Integer(2), LAYER, L - 1, L]
    rows = []
    extra = 1 if net.bias == "augmented" else 0
    for l in layers:
        if l == LAYER or net.widths is None:
            n_out, n_in = _w(l), _w(l - 1)
        else:
            n_out, n_in = net.width(l), net.width(l - 1)
        cols = n_in + extra
        m = net.samples
        shape = [f"{doc.var('W', l, n_out, cols)} \\in \\mathbb{{R}}^{{{doc.tex(n_out)} "
                 f"\\times {doc.tex(cols)}}}",
                 f"{doc.var('h', l, n_out, m)}, {doc.var('z', l, n_out, m)} \\in "
                 f"\\mathbb{{R}}^{{{doc.tex(n_out)}"
                 + (f" \\times {doc.tex(m)}}}" if net.batch else "}")]
        if net.bias == "explicit":
            shape.append(f"{doc.var('b', l, n_out)} \\in \\mathbb{{R}}^{{{doc.tex(n_out)}}}")
        shape += _kind_shapes(doc, l, n_out, m)
        if doc.scalar:     # a one-node chain: numbers, not 1 × 1 matrices
            shape = [", ".join(doc.p.scalar_tex(Var(k, l, 1, 1)) for k in ("W", "h", "z"))
                     + " \\in \\mathbb{R}"]
        act = net.activation(l) if (l != LAYER or net.symbolic) else \
            rules.activation(net.activations[0])
        rows.append(dict(layer=doc.layer(l), shapes=", \\quad ".join(shape),
                         act=_notation.act_latex(act.name), act_name=act.name))
    return rows


def _kind_shapes(doc, layer, n, m):
    """A hidden layer's §1b quantities: the dropout mask M_l (shaped like h_l), the
    normalization's scale γ_l and shift β_l (one per feature)."""
    net = doc.d.net
    if layer == net.L or not net.kinds:
        return []
    out = []
    if net.dropout:
        cols = f" \\times {doc.tex(m)}" if net.batch else ""
        out.append(f"{doc.var('M', layer, n, m)} \\in \\mathbb{{R}}^{{{doc.tex(n)}{cols}}}")
    if net.norm != "none":
        out.append(f"{doc.var('gamma', layer, n)}, {doc.var('beta', layer, n)} \\in "
                   f"\\mathbb{{R}}^{{{doc.tex(n)}}}")
    return out


def _w(layer):
    return WIDTH[layer]


def _rows(doc):
    """The summary's results; with a symbolic depth the layer below the output is left
    out, as the general layer gives it by renaming (l = L - 1). In numerator layout the
    results are the row forms (`derive.documents.rows`)."""
    rows, net = short_rows(kind_results(doc.d) or doc.d.summary(), doc.names), doc.d.net
    k = 2 + (net.bias == "explicit")
    if not net.kinds and (net.symbolic or net.depth > 4) and len(rows) > 2 * k:
        rows = rows[:k] + rows[-k:]
    return row_results(rows) if _rowvec(doc) else rows


def _rowvec(doc):
    """Row-vector results: numerator layout, except in a one-node chain (numbers); with
    the §1b options the named cotangents and the γ_l, β_l gradients are rows too
    (`derive.documents.rows`)."""
    return doc.nt.layout == "numerator" and not doc.scalar


def _row_rule(doc):
    """Numerator layout: the transpose rule printed for one recursion (the general
    layer's, else the deepest one in the summary), from SymPy's transpose; None for a
    network with no recursion (one layer)."""
    if not _rowvec(doc):
        return None
    if doc.d.net.kinds:     # δ_{l+1} is read by ∂J/∂z_l = W_{l+1}ᵀ δ_{l+1} (one route)
        deltas = [(s.lhs, s.rhs) for s in doc.d.steps if s.group == "dJdz"
                  and s.form == "matrix" and isinstance(s.lhs, MatPartial)
                  and not isinstance(s.rhs, MatAdd)]
    else:
        deltas = [(lhs, rhs) for lhs, rhs in doc.d.summary()
                  if isinstance(lhs, Var) and lhs.kind == "delta"]
    recursion = [r for r in deltas if any(isinstance(a, Var) and a.kind == "delta"
                                          for a in r[1].atoms(Var))]
    if not recursion:
        return None
    lhs, rhs = recursion[-1]
    lines = [dict(lhs="" if left is None else doc.tex(left), rhs=doc.tex(right), rel="=",
                  why=[]) for left, right in transpose_chain(lhs, rhs)]
    delta = lhs if isinstance(lhs, Var) else next(
        a for a in rhs.atoms(Var) if a.kind == "delta")
    return dict(lines=lines, number=0, delta=doc.tex(delta), walked=doc.d.net.kinds,
                row=doc.tex(row(delta)))


def _summary(doc):
    rows = _rows(doc)
    return [dict(lhs=doc.tex(lhs), rhs=doc.tex(rhs), name=_bp_name(doc, lhs) if
                 doc.nt.name == "za" else "", pair=(lhs, rhs)) for lhs, rhs in rows]


def _bp_name(doc, lhs):
    """Nielsen's names of the four equations (za): BP1 the output error, BP2 the
    recursion, BP3 the bias gradient, BP4 the weight gradient. With a symbolic depth
    the general layer's rows carry BP2–BP4; with a concrete one every layer's do. In
    numerator layout the row ∂C/∂z^l (our h) is the error (and ∂C/∂b^l a row); the row
    ∂C/∂a^l is an intermediate step and carries no name."""
    if isinstance(lhs, Transpose) and isinstance(lhs.arg, MatPartial):
        wrt = lhs.arg.wrt
        if not (isinstance(wrt, Var) and wrt.kind in ("h", "b")):
            return ""
        lhs = Var("delta", wrt.layer, *wrt.shape) if wrt.kind == "h" else lhs.arg
    target = lhs.wrt if isinstance(lhs, MatPartial) else lhs
    if not isinstance(target, Var):
        return ""
    net = doc.d.net
    named = target.layer == LAYER or not net.symbolic
    if target.kind == "delta":     # BP2 is the plain recursion: not through a norm,
        plain_walk = not (net.norm != "none" or net.dropout or net.residual)   # mask, skip
        return "BP1" if target.layer == net.L else ("BP2" if named and plain_walk else "")
    if target.kind == "W" and net.weight_decay:     # λW_l + δ_l a_{l-1}ᵀ is not BP4
        return ""
    return {"b": "BP3", "W": "BP4"}.get(target.kind, "") if named else ""


def _algorithm(doc):
    d, net = doc.d, doc.d.net
    fwd = [s for s in d.steps if s.topic == "forward" and s.form == "matrix"]
    if net.symbolic:
        fwd = [s for s in fwd if s.layer == LAYER] + [s for s in fwd if s.layer == DEPTH]
    elif net.depth > 4:
        keep = {Integer(1), net.L}
        fwd = [s for s in fwd if s.layer in keep]
    rows = _rows(doc)
    l, L = doc.layer(LAYER), doc.layer(net.L)
    return dict(forward=[doc.tex(s.lhs) + " = " + doc.tex(s.rhs) for s in fwd],
                backward=[doc.tex(l) + " = " + doc.tex(r) for l, r in rows],
                long=not net.symbolic and net.depth > 4,
                up=f"{l} = 1, \\ldots, {L}", hidden=f"{l} = 1, \\ldots, {doc.layer(net.L - 1)}",
                down=f"{l} = {doc.layer(net.L - 1)}, \\ldots, 1", L=L,
                step=[doc.tex(s.lhs) + r" \leftarrow " + doc.tex(s.rhs)
                        for s in d.steps if s.topic == "update"])


def context(d, notation="hz", layout=None, fmt="latex", svg_name="diagram.svg", title=None,
            detail="standard", shapes=False):
    nt = _notation.get(notation, layout)
    doc = _Doc(d, nt, fmt, shapes)
    net = d.net
    sym = dict(loss=nt.loss, rate=doc.tex(Var("W", 1, 1, 1)) and nt.rate,
               x=doc.var("z", 0), y=doc.var("y", net.L),
               delta_L=doc.var("delta", net.L), delta_l=doc.var("delta", LAYER),
               delta_l1=doc.var("delta", LAYER + 1), W_l=doc.var("W", LAYER, 2, 2),
               W_l1=doc.var("W", LAYER + 1, 2, 2), z_l=doc.var("z", LAYER),
               h_l=doc.var("h", LAYER), z_L=doc.var("z", net.L), h_L=doc.var("h", net.L),
               z_l0=doc.var("z", LAYER - 1), L=doc.layer(net.L),
               Lm1=doc.layer(net.L - 1), l=doc.layer(LAYER), l1=doc.layer(LAYER + 1),
               dJdz_l=doc.tex(MatPartial(LOSS, Var("z", LAYER, 2, 1))),
               p0=doc.var("h", 0) if squashed_input(nt, net) else "",
               kron=doc.tex(KroneckerDelta(Symbol("i"), Symbol("k"))), j="j", k="k", a="a",
               b="b", odot=r"\odot", oslash=r"\oslash", delta=nt.delta,
               sigma0=_notation.act_latex("input"), u="u", two=doc.layer(Integer(2)),
               data_loss=doc.tex(DATA_LOSS), lam=doc.tex(LAMBDA),
               gamma_l=doc.var("gamma", LAYER), beta_l=doc.var("beta", LAYER))
    sec = _sections(doc, detail)
    one_node = one_node_chain(doc, [s for s in sec["forward"] if isinstance(s.lhs, Var)]) \
        if doc.scalar and detail != "brief" else None
    sec = {name: short_forms(steps, doc.names, compact=name == "rest" and detail != "full")
           for name, steps in sec.items()}     # a normalized layer's error: g, σ, mean
    if doc.scalar:
        sec = {name: scalar_steps(steps) for name, steps in sec.items()}
    if _rowvec(doc):     # the errors and gradients as rows (SPEC §4, layout)
        sec.update({name: row_steps(sec[name]) for name in ROW_SECTIONS})
    sections = _displays(doc, sec, detail)
    loss_row = rules.loss(net.loss)
    cancel = any(s.rule == Rule.CANCELLATION for s in d.steps)
    return dict(
        net=dict(depth="L" if net.symbolic else net.depth, symbolic=net.symbolic,
                 activations=list(net.activations), loss=net.loss, loss_title=loss_row.title,
                 bias=net.bias, batch=net.batch, widths=net.widths, kinds=net.kinds,
                 residual=net.residual, norm=net.norm, dropout=net.dropout,
                 weight_decay=net.weight_decay,
                 description=net.describe()),
        nt=dict(name=nt.name, title=nt.title, layout=nt.layout, script=nt.script,
                rowvec=_rowvec(doc), sigma0=squashed_input(nt, net),
                output_name=nt.output_name),
        scalars=doc.scalar,
        sym=sym, shapes=_shapes(doc), sections=sections,
        activations=activations(doc),
        summary=_summary(doc), algorithm=_algorithm(doc), cancel=cancel,
        answer=hz_answer(doc) if detail != "brief" else None, row_rule=_row_rule(doc),
        one_node=one_node, norm_page=norm_page(doc) if detail != "brief" else None,
        worked=example(doc) if detail != "brief" else None,
        assumptions=assumptions(doc, lambda fact: plain(fact, fmt)), diagram=_diagram(doc), svg_name=svg_name,
        title=title, detail=detail, m=lambda tex: f"${tex}$", t=lambda value: plain(value, fmt),
        c=lambda value: code(value, fmt), ref=lambda n: f"({n})")


def _diagram(doc):
    return chain(doc)


def render(d, fmt="latex", notation="hz", layout=None, svg_name="diagram.svg", title=None,
           detail="standard", standalone=True, templates=None, tag_prefix=None,
           section_level="section", shapes=False):
    """A complete document: ``fmt`` is ``"latex"`` (a .tex file) or ``"markdown"``;
    ``title`` names the network in the heading (by default one is made from the network).

    ``detail``: ``"brief"`` (the boxed results and the algorithm), ``"standard"`` (the
    derivation: output layer and the one before it in full, the rest by renaming and the
    recursion) or ``"full"`` (also the general or remaining layers derived in full).
    ``standalone=False`` gives a fragment: no preamble (LaTeX: to ``\\input`` into a
    document that loads amsmath, amssymb, xcolor and tikz), no title block (Markdown).
    ``templates`` is a folder whose files replace the shipped templates of the same name.
    LaTeX: ``tag_prefix`` names the labels of the numbered displays (default: one made
    from the document, so two fragments in one host never clash); ``section_level``
    (``chapter``, ``section``, ``subsection``) is the command of the sections.
    ``shapes=True`` writes each matrix factor's shape under it.

    ``layout`` defaults to the notation's own (``numerator``, i.e. row-vector
    derivatives, for ``gh``; ``denominator`` otherwise).
    """
    if is_graph(d):      # a network of calls (conv1d, conv2d, …): documents/graph_notes.py
        if shapes or section_level != "section":
            raise SpecError("shapes and section_level are not built for the notes of a "
                            f"{getattr(d.net, 'arch', 'call')} network yet; leave them at their defaults")
        return render_graph(d, fmt, notation, layout, svg_name, title, detail, standalone,
                            templates)
    refuse_unbuilt(getattr(d, "net", None), "documents")
    if not isinstance(d, Derivation):
        raise SpecError(f"render takes a Derivation (from backprop), got {type(d).__name__}")
    if fmt not in FORMATS:
        raise SpecError(f"format {fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    if detail not in DETAILS:
        raise SpecError(f"detail {detail!r} is not allowed; allowed: {', '.join(DETAILS)}")
    if templates is not None and not os.path.isdir(templates):
        raise SpecError(f"templates: {templates!r} is not a folder")
    level, sublevel = levels(section_level)
    if level == "chapter" and standalone and fmt == "latex":
        raise SpecError("section level 'chapter' needs a fragment (standalone=False, "
                        "--body-only): the standalone document is an article")
    prefix = check_prefix(tag_prefix) if tag_prefix is not None else \
        default_prefix(d.net, notation, layout, detail, title)
    ctx = context(d, notation, layout, fmt, svg_name, title, detail, bool(shapes))
    ctx.update(standalone=bool(standalone), level=level, sublevel=sublevel, tag_prefix=prefix)
    if fmt == "latex":     # "by (n)" cites the labelled display
        ctx["ref"] = lambda n: rf"\eqref{{{ctx['tag_prefix']}:{n}}}"
    template = environment("latex", templates).get_template(f"notes/{fmt}/document.j2")
    text = re.sub(r"\n{3,}", "\n\n", template.render(**ctx))
    if fmt == "latex":    # a lead-in and its display are one paragraph: no page break
        text = re.sub(r"(\S)\n\n(\\begin\{equation\*?\})", r"\1\n\2", text)   # between
    return text


def render_svg(d, notation="hz"):
    """The network diagram as a standalone SVG (forward chain above, δ chain below)."""
    if is_graph(d):
        return graph_svg(d)
    nt = _notation.get(notation)
    return svg(_Doc(d, nt))
