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

from sympy import Integer

from ..printing import notation as _notation
from ..printing.latex import NotesLatexPrinter
from ..printing.matrix_latex import CatalogueLatexPrinter
from ..util.templates import environment
from .catalogue import render_one
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
    """A MatrixDerivation's notebook display: its steps (`render_one`)."""
    return render_one(d, "markdown")


def verdict_markdown(v):
    """A Verdict's notebook display: HOLDS or DOES NOT HOLD, why (the reason names the
    counterexample), and the correct form typeset."""
    template = environment("latex").get_template("display/verdict.j2")
    return template.render(v=v, reason=plain(v.reason, "markdown"))
