"""The notes' LaTeX printer for the matrix nodes of networks of calls (a convolution's
correlation, flip, padding, pooling, scatter, flattening, …).

`GraphLatexPrinter` is `derive.printing.latex.NotesLatexPrinter` (every notation preset,
the human forms) with one more row per node: `NODES` maps a node's class name to its
operator name and to which of its scalar arguments, if any, is written as a subscript
(``\\operatorname{pad}_{w}(G)``). Its matrix arguments are printed in order, as the
plain-text printer (``_sympystr``) lists them. A node that has no row is printed by the
same rule with its class name in lower case, so a new architecture's nodes print with no
change here; a row only chooses a better name. `Inside` (an Iverson bracket) is printed
as the indicator of its limits, as a Kronecker delta is.

>>> from derive.ir.conv import Corr, Flip, Inside, Pad
>>> from derive.ir.nodes import Var
>>> from sympy import Symbol
>>> K, Z, G = Var("K", 1, 2, 6), Var("zc", 0, 3, 5), Var("hc", 1, 2, 4)
>>> p = GraphLatexPrinter()
>>> p.doprint(Corr(Z, K, 2))
'\\\\operatorname{corr}\\\\left(Z_{0}, K_{1}\\\\right)'
>>> p.doprint(Pad(G, 1))
'\\\\operatorname{pad}_{1}\\\\left(H_{1}\\\\right)'
>>> p.doprint(Flip(K, 2))
'\\\\operatorname{flip}\\\\left(K_{1}\\\\right)'
>>> p.doprint(Inside(Symbol("t"), 1, 4))
'\\\\mathbb{1}[1 \\\\le t \\\\le 4]'
"""
from sympy import Basic, Symbol

from .latex import NotesLatexPrinter

#: node class name -> (operator name, the index of the scalar argument written as a
#: subscript, or None); a max pooling's mask argument names it (`_pool_name`)
NODES = {
    "Corr": ("corr", None), "Corr2": ("corr", None),
    "Flip": ("flip", None), "Flip2": ("flip", None),
    "Pad": ("pad", 1), "Pad2": ("pad", 1),
    "Spread": ("spread", 1), "Spread2": ("spread", 1),
    "Scatter": ("scatter", None), "Scatter2": ("scatter", None),
    "Unflatten": ("unvec", None), "Unflatten2": ("unvec", None),
    "Flatten": ("vec", None), "Flatten2": ("vec", None),
    "Pool": ("pool", 1), "Pool2": ("pool", 1),
    "Total2": ("sum", None),
}
#: the summation indices the nodes' components introduce, printed as plain letters with
#: a prime (c′, j′, …) so that they never read as a free index of the same letter
PRIMED = ("c_", "j_", "t_", "u_", "v_", "y_", "x_")


def operator_name(node):
    """The operator name a node prints with (its `NODES` row, or its class name)."""
    name = type(node).__name__
    if name in ("Pool", "Pool2"):
        return "avgpool" if node.args[-1] == 0 else "maxpool"
    return NODES.get(name, (name.lower(), None))[0]


class GraphLatexPrinter(NotesLatexPrinter):
    """The notes' printer with every matrix node of a network of calls (module
    docstring)."""

    def _print_node(self, expr):
        name = type(expr).__name__
        sub = NODES.get(name, ("", None))[1]
        mats = [self._print(a) for a in expr.args if getattr(a, "is_Matrix", False)]
        if name in ("Pool", "Pool2") and expr.args[-1] != 0:
            mats = mats[:1]        # the mask is a detail of the max pooling, not an input
        low = f"_{{{self._print(expr.args[sub])}}}" if sub is not None else ""
        return rf"\operatorname{{{operator_name(expr)}}}{low}\left({', '.join(mats)}\right)"

    def _print_Basic(self, expr):
        if getattr(expr, "is_Matrix", False) and hasattr(expr, "component"):
            return self._print_node(expr)
        return super()._print_Basic(expr)

    def _letter(self, kind):
        """A kind's letter; one that has an index of its own (a projection's ``W_Q``, a
        norm's ``\\gamma_1``) is grouped, so that the layer's index attached to it is
        not a double subscript."""
        letter = super()._letter(kind)
        return "{" + letter + "}" if "_" in letter or "^" in letter else letter

    @staticmethod
    def _bold(letter):
        if letter.startswith("{") and letter.endswith("}") and not letter.endswith("{}}"):
            return "{" + NotesLatexPrinter._bold(letter[1:-1]) + "}"
        return NotesLatexPrinter._bold(letter)

    def _print_Inside(self, expr, exp=None):
        x, lo, hi = (self._print(a) for a in expr.args)
        return rf"{self._settings['indicator']}[{lo} \le {x} \le {hi}]"

    def _print_Symbol(self, expr, style="plain"):
        if expr.name in PRIMED:
            return expr.name[0] + "'"
        return super()._print_Symbol(expr, style)


def is_node(expr):
    """Whether ``expr`` is a matrix node read by components (printed by `_print_node`)."""
    return isinstance(expr, Basic) and getattr(expr, "is_Matrix", False) and \
        hasattr(expr, "component") and not isinstance(expr, Symbol)
