"""Printing free matrix expressions: LaTeX for the catalogue documents, and the claim
syntax (plain and LaTeX) for a verifier's "correct form".

Vectors are bold (𝐱), matrices upper-case italic, components plain with their indices
(x_i, A_{ij}); elementwise functions print as σ(A), σ_1'(A); the Kronecker delta as the
indicator 𝟙[i=j], as everywhere in our documents.

>>> from sympy import MatrixSymbol, symbols
>>> m, n = symbols("m n", integer=True, positive=True)
>>> A, x, y = MatrixSymbol("A", m, n), MatrixSymbol("x", n, 1), MatrixSymbol("y", m, 1)
>>> latex(y * x.T)
'\\\\mathbf{y} \\\\mathbf{x}^{\\\\top}'
>>> to_claim(y * x.T)
'y x^T'
"""
from sympy import (
    Determinant,
    Indexed,
    Inverse,
    KroneckerDelta,
    MatrixSymbol,
    Mul,
    Sum,
    Transpose,
)
from sympy.printing.latex import LatexPrinter

from ..ir.matrix_nodes import AsScalar, SqNorm
from .claim_text import GREEK, ClaimPrinter, function_tex, is_vector
from .latex import NotesLatexPrinter


class CatalogueLatexPrinter(NotesLatexPrinter):
    """The notes printer, taught the catalogue's nodes and free names. ``names`` (the
    expression's names in order) orders the factors of a product as written."""

    _default_settings = dict(NotesLatexPrinter._default_settings, names=())

    def _print_Mul(self, expr):
        if not expr.is_Mul:     # SymPy prints 1/x through here: not ours to reorder
            return super()._print_Mul(expr)
        names = list(self._settings["names"])

        def rank(f):
            if f.is_number:
                return (0, 0)
            if isinstance(f, KroneckerDelta):
                return (1, 0)
            base = f.base if f.is_Pow else f
            if isinstance(base, Indexed) and str(base.base.label) in names:
                return (2, names.index(str(base.base.label)))
            if isinstance(base, Sum):
                return (4, 0)
            return (3, 0)
        args = sorted(expr.args, key=rank)
        if args == list(expr.args) or any(a.is_Pow and a.exp.is_negative for a in args):
            return super()._print_Mul(expr)
        return LatexPrinter._print_Mul(self, Mul(*args, evaluate=False))

    def _print_MatrixSymbol(self, expr):
        base, _, sub = expr.name.partition("_")
        text = rf"\mathbf{{{base}}}" if is_vector(expr) and base.islower() else base
        return text + (f"_{sub}" if sub else "")

    def _print_Indexed(self, expr):
        label = str(expr.base.label)
        idx = [self._print(i) for i in expr.indices]
        joined = "".join(idx) if all(len(i) == 1 for i in idx) else ",".join(idx)
        if "_" in label:
            base, _, sub = label.partition("_")
            return rf"({base}_{sub})_{{{joined}}}"
        return f"{label}_{{{joined}}}"

    def _needs_mul_brackets(self, expr, first=False, last=False):
        """σ(…) carries its own brackets, even around a sum."""
        if hasattr(type(expr), "catalogue_name"):
            return False
        if isinstance(expr, Sum) and expr.function.could_extract_minus_sign():
            return True           # SymPy prints it -Σ …: in a product, "a (-Σ …)"
        return super()._needs_mul_brackets(expr, first, last)

    def _print_Elem(self, expr):
        if expr.name == "log" and expr.order == 1:
            return rf"\mathbf{{1}} \oslash {self._wrap(expr.arg)}"
        return rf"{function_tex(expr.name, expr.order)}\left({self._print(expr.arg)}\right)"

    def _print_Function(self, expr, exp=None):
        cls = type(expr)
        if hasattr(cls, "catalogue_name"):
            text = rf"{function_tex(cls.catalogue_name, cls.order)}\left(" \
                   rf"{self._print(expr.args[0])}\right)"
            return text if exp is None else rf"\left({text}\right)^{{{exp}}}"
        if len(expr.args) == 1 and isinstance(expr.args[0], AsScalar) and exp is None:
            name = GREEK.get(cls.__name__, rf"\operatorname{{{cls.__name__}}}")
            return rf"{name}\left({self._print(expr.args[0].matrix)}\right)"
        return super()._print_Function(expr, exp)

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        if exp is None and isinstance(arg, Determinant):      # log det X
            return rf"\log\det\left({self._print(arg.arg)}\right)"
        if isinstance(arg, AsScalar):
            return self._print_Function(expr, exp)
        power = "" if exp is None else f"^{{{exp}}}"
        return rf"\log{power}\left({self._print(arg)}\right)"

    def _print_AsScalar(self, expr):
        return rf"\left({self._print(expr.matrix)}\right)"

    def _print_SqNorm(self, expr):
        return rf"\left\lVert {self._print(expr.arg)} \right\rVert^{{2}}"

    def _print_Pow(self, expr):
        if isinstance(expr.base, SqNorm):
            inner = rf"\left\lVert {self._print(expr.base.arg)} \right\rVert"
            return rf"{inner}^{{{self._print(2 * expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_MatrixElement(self, expr):
        parent, i, j = expr.args
        rows, cols = parent.shape
        idx = [self._print(k) for k, size in ((i, rows), (j, cols)) if size != 1]
        joined = "".join(idx) if all(len(k) == 1 for k in idx) else ",".join(idx)
        return rf"\left({self._print(parent)}\right)_{{{joined}}}"

    def _print_Inverse(self, expr):
        """X^{-1}; X^{-⊤} for the inverse of a transposed name; (A X B)^{-1}."""
        base = expr.arg
        if isinstance(base, Transpose) and isinstance(base.arg, MatrixSymbol):
            return rf"{self._print(base.arg)}^{{-\top}}"
        text = self._print(base)
        if not isinstance(base, MatrixSymbol):
            text = rf"\left({text}\right)"
        return rf"{text}^{{-1}}"

    def _print_MatPow(self, expr):
        base = self._print(expr.base)
        if not isinstance(expr.base, MatrixSymbol):
            base = rf"\left({base}\right)"
        return rf"{base}^{{{self._print(expr.exp)}}}"

    def _print_Determinant(self, expr):
        return rf"\det\left({self._print(expr.arg)}\right)"

    def _print_InverseEntry(self, expr):
        """An entry of an inverse in index notation: (X^{-1})_{ij}."""
        idx = [self._print(k) for k in expr.indices]
        joined = "".join(idx) if all(len(k) == 1 for k in idx) else ",".join(idx)
        return rf"\left({self._print(Inverse(expr.matrix))}\right)_{{{joined}}}"

    def _print_DeterminantValue(self, expr):
        return self._print(Determinant(expr.matrix))

    def _print_Trace(self, expr):
        return rf"\operatorname{{tr}}\left({self._print(expr.arg)}\right)"

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_Symbol(self, expr, style="plain"):
        base, _, sub = expr.name.partition("_")
        if sub and base.isalpha() and len(base) == 1:
            return f"{base}_{sub}"
        return super()._print_Symbol(expr, style)


def latex(expr, names=()):
    """LaTeX of a catalogue expression; ``names`` orders the factors of products."""
    return CatalogueLatexPrinter(dict(names=tuple(names))).doprint(expr)


# -- the claim syntax --------------------------------------------------------------------
def to_claim(expr):
    """A matrix form in the plain claim syntax (parseable by `parse_free`)."""
    return ClaimPrinter(dict(policy="free")).doprint(expr)


def to_claim_latex(expr):
    """A matrix form in the LaTeX claim syntax."""
    return ClaimPrinter(dict(policy="free", latex=True)).doprint(expr)
