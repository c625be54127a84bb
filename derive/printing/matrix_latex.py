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
    Add,
    Identity,
    Indexed,
    KroneckerDelta,
    MatAdd,
    MatMul,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Sum,
    Trace,
    ZeroMatrix,
)
from sympy.matrices.expressions import HadamardPower, HadamardProduct, Transpose
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.printing.latex import LatexPrinter

from ..ir.matrix_nodes import BUILTIN, AsScalar, Elem, SqNorm
from .latex import NotesLatexPrinter

_GREEK = {"sigma": r"\sigma", "phi": r"\varphi", "sigmoid": r"\operatorname{sigmoid}",
          "exp": r"\exp", "log": r"\log", "tanh": r"\tanh"}


def function_tex(name, order):
    """σ_{1}' for ('sigma_{1}', 1)."""
    base, _, sub = name.partition("_")
    text = _GREEK.get(base, rf"\operatorname{{{base}}}") + (f"_{sub}" if sub else "")
    return text + "'" * order


def _is_vector(X):
    return X.shape[1] == 1 or X.shape[0] == 1


class CatalogueLatexPrinter(NotesLatexPrinter):
    """The notes printer, taught the catalogue's nodes and free names. ``names`` (the
    expression's names in order) orders the factors of a product as written."""

    _default_settings = dict(NotesLatexPrinter._default_settings, names=())

    def _print_Mul(self, expr):
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
        text = rf"\mathbf{{{base}}}" if _is_vector(expr) and base.islower() else base
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
            name = _GREEK.get(cls.__name__, rf"\operatorname{{{cls.__name__}}}")
            return rf"{name}\left({self._print(expr.args[0].matrix)}\right)"
        return super()._print_Function(expr, exp)

    def _print_log(self, expr, exp=None):
        return self._print_Function(expr, exp)

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
_TEXT = dict(T="^T", had=" ⊙ ", tr="tr", lnorm="||", rnorm="||", prime="'")
_LATEX = dict(T="^\\top", had=" \\odot ", tr="\\operatorname{tr}", lnorm="\\lVert ",
              rnorm=" \\rVert", prime="'")


class _ClaimPrinter:
    def __init__(self, table, latex_names):
        self.t, self.tex = table, latex_names

    def name(self, X):
        base, _, sub = X.name.partition("_")
        if self.tex and _is_vector(X) and base.islower():
            base = rf"\mathbf{{{base}}}"
        return base + (f"_{sub}" if sub else "")

    def function(self, name, order):
        if self.tex:
            return function_tex(name, order)
        return name + "'" * order

    def atomic(self, e):
        return isinstance(e, (MatrixSymbol, Elem, Identity, AsScalar, SqNorm, Trace)) or (
            isinstance(e, Transpose) and isinstance(e.arg, MatrixSymbol))

    def wrap(self, e):
        return self.p(e) if self.atomic(e) else f"({self.p(e)})"

    def p(self, e):
        if isinstance(e, MatrixSymbol):
            return self.name(e)
        if isinstance(e, Transpose):
            return self.wrap(e.arg) + self.t["T"]
        if isinstance(e, Identity):
            return "I"
        if isinstance(e, OneMatrix):
            return "1"
        if isinstance(e, ZeroMatrix):
            return "0"
        if isinstance(e, Elem):
            if e.name == "exp" and e.order == 1:
                return f"{self.function('exp', 0)}({self.p(e.arg)})"
            return f"{self.function(e.name, e.order)}({self.p(e.arg)})"
        if isinstance(e, HadamardPower):
            if not (e.exp.is_Integer and e.exp > 0):
                raise ValueError("no claim syntax for an elementwise reciprocal")
            return self.t["had"].join([self.wrap(e.base)] * int(e.exp))
        if isinstance(e, HadamardProduct):
            return self.t["had"].join(self.wrap(a) for a in e.args)
        if isinstance(e, MatMul):
            scalars = [a for a in e.args if not isinstance(a, MatrixExpr)]
            mats = [a for a in e.args if isinstance(a, MatrixExpr)]
            body = " ".join(self.wrap(a) for a in mats)
            coeff = Mul(*scalars)
            if coeff == 1:
                return body
            if coeff == -1:
                return "-" + body
            return f"{self.scalar(coeff)} {body}"
        if isinstance(e, (MatAdd, Add)):
            terms = sorted(e.args, key=_negative)
            out = self.p(terms[0])
            for a in terms[1:]:
                out += f" - {self.p(-a)}" if _negative(a) else f" + {self.p(a)}"
            return out
        return self.scalar(e)

    def scalar(self, c):
        if isinstance(c, AsScalar):
            return f"({self.p(c.matrix)})"
        if isinstance(c, Trace):
            return f"{self.t['tr']}({self.p(c.arg)})"
        if isinstance(c, SqNorm):
            return f"{self.t['lnorm']}{self.p(c.arg)}{self.t['rnorm']}^2"
        if c.is_Rational and not c.is_Integer:
            return f"\\frac{{{c.p}}}{{{c.q}}}" if self.tex else f"({c.p}/{c.q})"
        if c.is_Integer:
            return str(c) if c >= 0 else f"({c})"
        if c.is_Symbol:      # a size (m, n): printed, though the claim syntax has no sizes
            return str(c)
        if isinstance(c, Mul):
            return " ".join(self.scalar(f) if not isinstance(f, Add) else f"({self.p(f)})"
                            for f in c.args)
        if isinstance(c, Add):
            return f"({self.p(c)})"
        if c.is_Pow and c.exp.is_Integer:
            return f"{self.scalar(c.base)}^{int(c.exp)}" if c.exp > 0 else \
                f"1/{self.scalar(c.base)}"
        f = type(c)
        name = getattr(f, "catalogue_name", f.__name__ if f in BUILTIN.values() else None)
        if name is not None:
            return f"{self.function(name, getattr(f, 'order', 0))}({self.p(c.args[0])})"
        raise ValueError(f"no claim syntax for {c}")


def _negative(term):
    coeff = term.as_coeff_mmul()[0] if term.is_Matrix else term.as_coeff_Mul()[0]
    return bool(coeff.is_number and coeff.is_extended_negative)


def to_claim(expr):
    """A matrix form in the plain claim syntax (parseable by `parse_free`)."""
    return _ClaimPrinter(_TEXT, False).p(expr)


def to_claim_latex(expr):
    """A matrix form in the LaTeX claim syntax."""
    return _ClaimPrinter(_LATEX, True).p(expr)

