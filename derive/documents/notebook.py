"""Notebook display: what a Derivation, a MatrixDerivation, a Verdict and an IR node show
in Jupyter. `derive.api` installs these functions as the display hooks of
`derive.ir.display`, so the IR, the engine and the claims never import this module.

A Derivation shows its boxed summary with the network diagram embedded (an SVG data
URI, no file beside the notebook); its full notes come from `document`. The prose is in
``templates/display``, every formula is printed by `NotesLatexPrinter`.

>>> from derive import Network, backprop
>>> d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
>>> text = summary_markdown(d)
>>> "data:image/svg+xml;base64," in text and r"\\boxed{" in text
True
>>> from derive.ir.nodes import Act, Var
>>> node_latex(Act("sigmoid", Var("h", 1, 3, 1), 1))
"\\\\sigma'(\\\\mathbf{h}_{1})"
"""
import base64
import weakref

from sympy import Eq, Integer, Symbol

from ..printing import notation as _notation
from ..printing.latex import NotesLatexPrinter
from ..printing.matrix_latex import CatalogueLatexPrinter
from ..util.templates import environment
from .catalogue import Entry, context
from .notes import plain, render, render_svg

#: the notation IR nodes print in (SymPy's ``latex()``, ``_repr_latex_``); `use_notation`
SETTINGS = {"notation": "hz", "layout": None}


def use_notation(notation="hz", layout=None):
    """Choose the notation of the notebook display (a preset name or a dict of overrides).

    >>> use_notation("gh").name
    'gh'
    >>> use_notation().name
    'hz'
    """
    nt = _notation.get(notation, layout)
    SETTINGS.update(notation=notation, layout=layout)
    return nt


def _printer(depth=None, notation=None, layout=None):
    nt = _notation.get(notation or SETTINGS["notation"],
                       layout if notation else SETTINGS["layout"])
    return NotesLatexPrinter(dict(notation=nt, depth=depth))


def node_latex(node):
    """One IR node (Var, Act, Partial, …) in the display notation."""
    return _printer().doprint(node)


#: the derivations made lately (weakly held), newest last: where an expression came from
_RECENT = []
#: how many derivations `remember` keeps in view
RECENT_LIMIT = 32


def remember(d):
    """Note a derivation, so that its results (``d.delta(2)``, ``d.grad("W", 1)``) print
    at its depth (the output layer's own letter, F in gh). Returns ``d``."""
    if getattr(d.net, "symbolic", True) is False:    # a concrete MLP (not conv1d: no depth)
        _RECENT.append(weakref.ref(d))
        del _RECENT[:-RECENT_LIMIT]
    return d


#: {derivation: the set of its boxed results}, computed once per derivation
_RESULTS = weakref.WeakKeyDictionary()


def depth_of(expr):
    """The depth of the newest remembered derivation whose results hold ``expr``."""
    for ref in reversed(_RECENT):
        d = ref()
        if d is None:
            continue
        if d not in _RESULTS:
            _RESULTS[d] = frozenset(rhs for _, rhs in d.summary())
        if expr in _RESULTS[d]:
            return Integer(d.net.depth)
    return None


def network_latex(expr):
    """A whole expression holding network nodes, printed by the notes' printer (not only
    its leaves: ⊙ and ⊤ for SymPy's Hadamard product and transpose)."""
    return _printer(depth_of(expr)).doprint(expr)


def catalogue_latex(node):
    """One node of the matrix catalogue (σ(A), ‖A‖², a 1×1 matrix as a number).

    >>> from sympy import MatrixSymbol
    >>> from derive.ir.matrix_nodes import SqNorm
    >>> catalogue_latex(SqNorm(MatrixSymbol("A", 2, 2)))
    '\\\\left\\\\lVert A \\\\right\\\\rVert^{2}'
    """
    return CatalogueLatexPrinter(dict(notation=SETTINGS["notation"])).doprint(node)


def svg_uri(d, notation=None):
    """The network diagram as an ``image/svg+xml`` data URI, to embed in Markdown."""
    text = render_svg(d, notation or SETTINGS["notation"])
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode("ascii")


def summary_markdown(d, notation=None, layout=None):
    """A Derivation's notebook display: the boxed results and the diagram, inline."""
    p = _printer(None if d.net.symbolic else Integer(d.net.depth), notation, layout)
    rows = [dict(lhs=p.doprint(lhs), rhs=p.doprint(rhs)) for lhs, rhs in d.summary()]
    template = environment("latex").get_template("display/derivation.j2")
    return template.render(rows=rows, svg=svg_uri(d, notation),
                           description=plain(d.net.describe(), "markdown"))


def equation_latex(d, lhs, rhs):
    """``lhs = rhs`` in the display notation, at the depth of ``d``."""
    p = _printer(None if d.net.symbolic else Integer(d.net.depth))
    return f"{p.doprint(lhs)} = {p.doprint(rhs)}"


def document(d, fmt="markdown", **options):
    """The full notes of ``d`` (`derive.render`); in Markdown the diagram is embedded."""
    if fmt == "markdown" and "svg_name" not in options:
        options["svg_name"] = svg_uri(d, options.get("notation"))
    return render(d, fmt, **options)


def matrix_markdown(d):
    """A MatrixDerivation's notebook display: its own title, definition, steps and boxed
    result, and its certificate (the comparisons counted as ``d.certify()`` counts
    them): not the catalogue's title and introduction."""
    section = context([(Entry(d.text, (d.wrt.name,), ""), [d])], False, "markdown")
    section = section["sections"][0]
    cert = d.certify()
    printer = CatalogueLatexPrinter(dict(notation=SETTINGS["notation"]))
    sizes = ", ".join(printer.doprint(Eq(Symbol(k), v, evaluate=False))
                      for k, v in cert.widths)
    template = environment("latex").get_template("display/matrix.j2")
    return template.render(s=section, p=section["parts"][0], cert=cert, sizes=sizes,
                           text=plain(d.text, "markdown"))


#: {id of a verdict: its correct form in the notes' typography}, dropped with the verdict
_CORRECT = {}


def note_correct_form(v, expr, notation="hz", depth=None):
    """Remember the correct form of verdict ``v`` as an expression (its text re-read by
    the face): the display prints it in the notes' typography (bold vectors, x̂, ĥ, γ)
    instead of the claim syntax's LaTeX. Returns ``v``."""
    if expr is not None:
        nt = _notation.get(notation, None)
        _CORRECT[id(v)] = NotesLatexPrinter(dict(notation=nt, depth=depth)).doprint(expr)
        weakref.finalize(v, _CORRECT.pop, id(v), None)
    return v


def verdict_markdown(v):
    """A Verdict's notebook display: HOLDS or DOES NOT HOLD, why (said once), the hint,
    what was checked (the network instances, or the catalogue's sizes) and the correct
    form typeset."""
    template = environment("latex").get_template("display/verdict.j2")
    correct = _CORRECT.get(id(v), v.correct_latex) if v.correct_latex else ""
    return template.render(v=v, reason=plain(_reason(v), "markdown"), checked=_checked(v),
                           hint=plain(v.hint, "markdown") if v.hint else "", correct=correct)


def _reason(v):
    """The reason without the hint it ends with (shown on its own) nor a leading
    "holds" (the heading says it)."""
    reason = v.reason.strip()
    if v.hint and reason.endswith(v.hint):
        reason = reason[:-len(v.hint)].rstrip(" ;,")
    if v.holds and reason.lower().startswith("holds"):
        reason = reason[len("holds"):].lstrip(" :;,")
    return reason


def _math(name, value):
    return "$" + _printer().doprint(Eq(Symbol(name), value, evaluate=False)) + "$"


def _instance(i):
    """One network instance checked: $L = 2$, $n = (5, 3, 2)$, $m = 1$."""
    parts = [_math("L", i["L"])] + ([_math("l", i["l"])] if "l" in i else [])
    widths = ", ".join(str(n) for n in i["widths"])
    return ", ".join(parts + [f"$n = ({widths})$", _math("m", i["m"])])


def _checked(v):
    """What a verdict checked, as a sentence (empty when nothing was)."""
    if not v.checked:
        return ""
    if "L" not in v.checked[0]:                  # a catalogue identity: its sizes
        sizes = ", ".join(_math(k, n) for k, n in v.checked[0].items())
        return f"Checked numerically (50 digits) at {sizes}" + \
            ("; proved exactly." if v.exact else ".")
    exact = [_instance(i) for i in v.checked if i.get("exact")]
    numeric = [_instance(i) for i in v.checked if not i.get("exact")]
    parts = (["proved exactly at " + "; ".join(exact)] if exact else []) + \
        (["checked numerically (50 digits) only at " + "; ".join(numeric)] if numeric else [])
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."
