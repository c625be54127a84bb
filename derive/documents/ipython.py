"""Jupyter's ``text/latex`` formatter for SymPy expressions, as `sympy.init_printing`
registers one with IPython's ``for_type``.

SymPy's own ``_repr_latex_`` prints our leaves through their ``_latex`` hooks but the
operators around them (Transpose, HadamardProduct, MatMul) in its stock form:
``((W_3)^T δ_3) ∘ σ'(h_2)``. The formatter prints a whole expression that holds a node of
ours with the notes' printer instead (⊙, ⊤, the display preset's letters, and the output
layer's letter F of gh where the expression came from a derivation of known depth,
`notebook.remember`), a free matrix expression (a `matrix_derivative` result) with the
catalogue's printer (bold vectors, ⊤), and hands anything else back to the formatter
registered for ``Basic`` (`sympy.init_printing`'s) or the object's own ``_repr_latex_``.

It is registered for ``MatrixExpr`` and ``Expr``: more specific than the ``Basic`` of
`sympy.init_printing`, so it stays in force when a notebook calls that after importing
derive. IPython is never imported: `install` looks for a running shell among the
modules already loaded (a Jupyter kernel has loaded IPython).

>>> from derive.ir.nodes import Var
>>> from sympy import HadamardProduct
>>> W, d, h = Var("W", 3, 3, 2), Var("delta", 3, 3, 1), Var("h", 2, 2, 1)
>>> expression_latex(HadamardProduct(W.T * d, h))
'\\\\left(W_{3}^{\\\\top} \\\\boldsymbol{\\\\delta}_{3}\\\\right) \\\\odot \\\\mathbf{h}_{2}'
>>> from sympy import Symbol
>>> expression_latex(Symbol("a")) is None
True
"""
import sys

from sympy import Basic, Expr, MatrixBase
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..ir.matrix_nodes import AsScalar, Elem, SqNorm
from ..ir.nodes import Act, Jacobian, MatPartial, Partial, Times, Var
from . import notebook

#: the network's nodes: an expression holding one prints with the notes' printer
NETWORK = (Var, Act, Partial, MatPartial, Jacobian, Times)
#: the catalogue's nodes (a scalar holding one prints with the catalogue's printer)
CATALOGUE = (Elem, AsScalar, SqNorm)


def expression_latex(expr):
    """The LaTeX (no delimiters) a notebook shows for ``expr``, or None where the
    expression is not ours to print."""
    if not isinstance(expr, Basic):
        return None
    if expr.has(*CATALOGUE):
        return notebook.catalogue_latex(expr)
    if expr.has(*NETWORK):
        return notebook.network_latex(expr)
    if isinstance(expr, MatrixExpr) and not isinstance(expr, MatrixBase):
        return notebook.catalogue_latex(expr)          # symbols, not explicit entries
    return None


def running_shell():
    """The IPython shell this process runs in, or None (IPython not loaded, or loaded
    but with no shell: a plain script)."""
    ipython = sys.modules.get("IPython")
    getter = getattr(ipython, "get_ipython", None)
    return getter() if getter is not None else None


def install(shell=None):
    """Register the formatter with ``shell``'s (default: the running shell's)
    ``text/latex`` formatter; True when it was registered."""
    shell = shell if shell is not None else running_shell()
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "text/latex" not in formatters:
        return False
    latex_formatter = formatters["text/latex"]

    def show(obj):
        tex = expression_latex(obj)
        if tex is not None:
            return f"$\\displaystyle {tex}$"
        fallback = latex_formatter.type_printers.get(Basic)
        return fallback(obj) if fallback is not None else obj._repr_latex_()

    for cls in (MatrixExpr, Expr):
        latex_formatter.for_type(cls, show)
    return True
