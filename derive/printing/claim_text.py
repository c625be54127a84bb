"""The claim printer: matrix expressions in the claim syntax (SPEC §3), plain or LaTeX,
so that a correct form can be pasted back into `verify` or `verify_identity`; and
shapes as the verdicts write them.

`ClaimPrinter` is one SymPy `StrPrinter` with two name policies, as the grammar has:
``policy="network"`` prints our network nodes (`Var`, `Act`, ``diag``) in a notation
preset (``notation``: hz, gh, pq, za), every scalar in SymPy's text; ``policy="free"``
prints the catalogue's free expressions (MatrixSymbol, `Elem`, `AsScalar`, `SqNorm`,
Trace, Identity, sizes) and raises ValueError for what the claim syntax cannot say.
``latex=True`` gives the LaTeX claim syntax.

>>> from derive.ir.nodes import Var
>>> to_claim(Var("W", 3, 2, 4).T * Var("delta", 3, 2, 1))
'W_3^T delta_3'
>>> from sympy import HadamardPower, Identity, MatAdd, MatMul
>>> from derive.vocab import EPSILON
>>> inv_std = HadamardPower(MatAdd(MatMul(EPSILON, Identity(1)), Var("var", 2, 1, 1)), -Rational(1, 2))
>>> print(to_claim(inv_std))
1 ⊘ sqrt(var_2 + epsilon)
>>> shape_text((Var("W", 3, 2, 4).shape[0], 4))
'2×4'
>>> from sympy import MatrixSymbol, Symbol
>>> A, n = MatrixSymbol("A", 2, 3), Symbol("n")
>>> ClaimPrinter(dict(policy="free", latex=True)).doprint(Rational(1, 2) * n * A.T)
'\\\\frac{1}{2} n A^\\\\top'
"""
import re
from functools import lru_cache

from sympy import (
    Add,
    Determinant,
    Function,
    Identity,
    Mul,
    OneMatrix,
    Pow,
    Rational,
    Symbol,
    Trace,
    ZeroMatrix,
)
from sympy.matrices.expressions import (
    HadamardPower,
    HadamardProduct,
    MatAdd,
    MatMul,
    MatPow,
    MatrixSymbol,
    Transpose,
)
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.printing.str import StrPrinter

from ..ir.matrix_nodes import BUILTIN, AsScalar, Elem, SqNorm
from ..ir.nodes import Act, MatPartial, Var
from .claim_network import NetworkNames


def dim(value):
    def one(match):
        inner = match.group(1).replace(" ", "")
        return f"n_{inner}" if len(inner) == 1 else f"n_{{{inner}}}"
    return re.sub(r"n\[([^\]]*)\]", one, str(value)).replace(" ", "")


def shape_text(shape):
    a, b = (dim(x) for x in shape)
    return "×".join(f"({d})" if "+" in d or "-" in d.replace("_{", "").split("}")[-1]
                    else d for d in (a, b))


GREEK = {"sigma": r"\sigma", "phi": r"\varphi", "sigmoid": r"\operatorname{sigmoid}",
         "exp": r"\exp", "log": r"\log", "tanh": r"\tanh"}


def function_tex(name, order):
    """σ_{1}' for ('sigma_{1}', 1)."""
    base, _, sub = name.partition("_")
    text = GREEK.get(base, rf"\operatorname{{{base}}}") + (f"_{sub}" if sub else "")
    return text + "'" * order


def is_vector(X):
    return X.shape[1] == 1 or X.shape[0] == 1


TEXT = {"had": " ⊙ ", "T": "^T", "x": "x", "delta": "delta", "prime": "'", "one": "1",
        "ones": "1", "tr": "tr", "det": "det", "lnorm": "||", "rnorm": "||", "ediv": " ⊘ ",
        "sqrt": "sqrt({})", "epow": "^{{∘{}}}"}
LATEX = {"had": " \\odot ", "T": "^\\top", "x": "x", "delta": "\\delta", "prime": "'",
         "one": "1", "ones": "\\mathbf{1}", "tr": "\\operatorname{tr}", "det": "\\det",
         "lnorm": "\\lVert ", "rnorm": " \\rVert", "ediv": " \\oslash ", "sqrt": "\\sqrt{{{}}}",
         "epow": "^{{\\circ {}}}"}
HALF = Rational(1, 2)
LETTERS = {"hz": {}, "gh": {"h": "g", "z": "h"}, "pq": {"h": "p", "z": "q"},
           "za": {"h": "z", "z": "a"}}
#: per name policy: the nodes it prints (anything else is a scalar in SymPy's text for
#: a network, and has no claim syntax for a free expression), the nodes printed without
#: brackets in a product, and the name whose transpose needs none
NODES = {"network": (Var, Act, DiagMatrix, Transpose, OneMatrix, HadamardPower,
                     HadamardProduct, MatMul, MatAdd, MatPartial),
         "free": (MatrixSymbol, Transpose, Identity, OneMatrix, ZeroMatrix, Elem,
                  HadamardPower, HadamardProduct, MatMul, MatAdd, MatPow, Add, AsScalar,
                  Trace, Determinant, SqNorm, Rational, Symbol, Mul, Pow, Function)}
ATOMIC = {"network": (Var, Act, OneMatrix), "free": (MatrixSymbol, Elem, Identity, AsScalar,
                                                     SqNorm, Trace, MatPow, Determinant)}
NAMED = {"network": Var, "free": MatrixSymbol}


@lru_cache(maxsize=4096)
def _negated(term):
    """−term, kept: SymPy's ``-term`` runs ``doit`` through every factor, most of the
    time of printing a long correct form, and a form is printed again in every
    notation, as text and as LaTeX."""
    return -term


def _negative(term):
    coeff = term.as_coeff_mmul()[0] if term.is_Matrix else term.as_coeff_Mul()[0]
    return bool(coeff.is_number and coeff.is_extended_negative)


class ClaimPrinter(NetworkNames, StrPrinter):
    """Matrix expressions in the claim syntax (see the module docstring for settings)."""

    printmethod = "_claim_text"
    _default_settings = dict(StrPrinter._default_settings, latex=False, notation="hz",
                             policy="network")

    def __init__(self, settings=None):
        super().__init__(settings)
        self.t = LATEX if self._settings["latex"] else TEXT
        self.policy = self._settings["policy"]
        notation = self._settings["notation"]
        self.letters = LETTERS.get(notation, {})
        self.mark = "^" if notation in ("gh", "za") else "_"

    def _print(self, expr, **kwargs):
        if isinstance(expr, NODES[self.policy]):
            return super()._print(expr, **kwargs)
        if self.policy == "network":
            return self._network_scalar(expr)
        raise ValueError(f"no claim syntax for {expr}")

    # -- shared structure ------------------------------------------------------------
    def _atomic(self, e):
        return isinstance(e, ATOMIC[self.policy]) or (
            isinstance(e, Transpose) and isinstance(e.arg, NAMED[self.policy])) or (
            isinstance(e, HadamardPower) and e.exp == HALF)       # sqrt(…)

    def _wrap(self, e):
        return self._print(e) if self._atomic(e) else f"({self._print(e)})"

    def _scalar(self, c):
        """A scalar as a factor: a sum in brackets."""
        return f"({self._print(c)})" if isinstance(c, Add) else self._print(c)

    def _print_Transpose(self, e):
        if self._settings["latex"] and self._superscripted(e.arg):
            return "{" + self._print(e.arg) + "}" + self.t["T"]   # {W^3}^\top, not W^3^\top
        return self._wrap(e.arg) + self.t["T"]

    def _superscripted(self, e):
        """Does ``e`` print with a superscript layer (W^3 in gh and za)?"""
        return self.mark == "^" and isinstance(e, Var) and e.kind != "y" and \
            not (e.kind == "z" and e.layer == 0)

    def _print_OneMatrix(self, e):
        """The claim syntax's ones (SPEC §3): 1 a column, 1^T a row, 1 1^T the all-ones
        matrix (their lengths come from the context when read back); 1×1 is 1."""
        rows, cols = e.shape
        if rows == cols == 1:
            return self.t["one"]
        one = self.t["ones"]
        if rows == 1:
            return one + self.t["T"]
        return one if cols == 1 else f"{one} {one}{self.t['T']}"

    def _print_HadamardProduct(self, e):
        return self.t["had"].join(self._wrap(a) for a in e.args)

    def _print_HadamardPower(self, e):
        """X ⊙ X for k = 2; sqrt(X) and 1 ⊘ sqrt(X) for the powers ±1/2 (a network's
        normalization); X^{-1} (network) or X^{∘-1} (catalogue) for a negative k."""
        whole = e.exp.is_Integer and e.exp > 0
        if e.exp in (HALF, -HALF):
            root = self.t["sqrt"].format(self._print(e.base))
            return root if e.exp > 0 else self.t["ones"] + self.t["ediv"] + root
        if self.policy == "free" and e.exp.is_Integer and e.exp < 0:
            return self._wrap(e.base) + self.t["epow"].format(e.exp)
        if self.policy == "network" and not whole:
            base = self._wrap(e.base)
            if self._settings["latex"] and self._superscripted(e.base):
                base = "{" + base + "}"                          # {h^L}^{-1}
            return f"{base}^{{{e.exp}}}"
        if not whole:
            raise ValueError("no claim syntax for an elementwise reciprocal")
        return self.t["had"].join([self._wrap(e.base)] * int(e.exp))

    def _print_MatPow(self, e):
        """A matrix power X^{n}, an inverse X^{-1} (catalogue syntax); the inverse of a
        transposed name X^{-T}; any other base in brackets."""
        if e.exp == -1 and isinstance(e.base, Transpose) and \
                isinstance(e.base.arg, MatrixSymbol):
            return f"{self._print(e.base.arg)}^{{-{self.t['T'][1:]}}}"
        base = self._print(e.base)
        if not isinstance(e.base, MatrixSymbol):
            base = f"({base})"
        return f"{base}^{{{int(e.exp)}}}"

    _print_Inverse = _print_MatPow

    def _print_Determinant(self, e):
        return f"{self.t['det']}({self._print(e.arg)})"

    def _print_MatMul(self, e):
        if self.policy == "network":
            coeff, mats = e.as_coeff_matrices()
            ones = self._ones_product(mats)
            if ones is not None:
                return ones if coeff == 1 else "-" + ones if coeff == -1 else \
                    f"{self._scalar(coeff)} ({ones})"
        else:
            coeff = Mul(*[a for a in e.args if not isinstance(a, MatrixExpr)])
            mats = [a for a in e.args if isinstance(a, MatrixExpr)]
        body = " ".join(self._wrap(a) for a in mats)
        if coeff == 1:
            return body
        if coeff == -1:
            return "-" + body
        return f"{self._scalar(coeff)} {body}"

    def _negative(self, e):
        if self.policy == "network":
            return isinstance(e, MatMul) and e.as_coeff_matrices()[0].could_extract_minus_sign()
        return _negative(e)

    def _print_MatAdd(self, e):
        factor = self._common_factor(e) if self.policy == "network" else None
        if factor is not None:     # 2 z_L - 2 y → 2 (z_L - y), as the notes write it
            inner = MatAdd(*(MatMul(t.as_coeff_matrices()[0] / factor,
                                    *t.as_coeff_matrices()[1]).doit() for t in e.args))
            return f"{self._network_scalar(factor)} ({self._print(inner)})"
        terms = sorted(e.args, key=lambda t: (self._negative(t), self._constant_term(t)))
        out = self._term(terms[0])
        for a in terms[1:]:
            out += f" - {self._term(_negated(a))}" if self._negative(a) else \
                f" + {self._term(a)}"
        return out

    @staticmethod
    def _common_factor(e):
        """The positive number every term of a matrix sum carries (up to sign), or None."""
        if not isinstance(e, MatAdd) or not all(isinstance(t, MatMul) for t in e.args):
            return None
        coeffs = {abs(t.as_coeff_matrices()[0]) for t in e.args}
        if len(coeffs) != 1:
            return None
        (c,) = coeffs
        return c if c.is_Rational and c != 1 else None

    # -- free names ------------------------------------------------------------------
    def _function(self, name, order):
        if self._settings["latex"]:
            return function_tex(name, order)
        return name + "'" * order

    def _print_MatrixSymbol(self, X):
        base, _, sub = X.name.partition("_")
        if self._settings["latex"] and is_vector(X) and base.islower():
            base = rf"\mathbf{{{base}}}"
        return base + (f"_{sub}" if sub else "")

    def _print_Identity(self, e):
        return "I"

    def _print_ZeroMatrix(self, e):
        return "0"

    def _print_Elem(self, e):
        if e.name == "exp" and e.order == 1:
            return f"{self._function('exp', 0)}({self._print(e.arg)})"
        return f"{self._function(e.name, e.order)}({self._print(e.arg)})"

    def _print_AsScalar(self, c):
        return f"({self._print(c.matrix)})"

    def _print_Trace(self, c):
        return f"{self.t['tr']}({self._print(c.arg)})"

    def _print_SqNorm(self, c):
        return f"{self.t['lnorm']}{self._print(c.arg)}{self.t['rnorm']}^2"

    def _norm_power(self, arg, k):
        norm = f"{self.t['lnorm']}{self._print(arg)}{self.t['rnorm']}"
        power = norm if abs(k) == 1 else f"{norm}^{{{abs(k)}}}"
        return power if k > 0 else f"1/{power}"

    def _print_Rational(self, c):
        if self._settings["latex"]:
            return f"\\frac{{{c.p}}}{{{c.q}}}"
        return f"({c.p}/{c.q})"

    def _print_Integer(self, c):
        return str(c) if c >= 0 else f"({c})"

    def _print_Symbol(self, c):      # a size (m, n): printed, though claims have no sizes
        return str(c)

    def _print_Mul(self, c):
        return " ".join(self._scalar(f) for f in c.args)

    def _print_Pow(self, c):
        if isinstance(c.base, SqNorm) and c.exp.is_Rational and c.exp.q == 2:
            return self._norm_power(c.base.arg, int(c.exp * 2))   # (‖v‖²)^{k/2} = ‖v‖^k
        if c.exp.is_integer and c.exp.free_symbols:    # det(A)^m: a size, printed as such
            return f"{self._wrap_power_base(c.base)}^{{{self._print(c.exp)}}}"
        if c.exp in (HALF, -HALF):                      # a scalar's square root
            root = f"{self._function('sqrt', 0)}({self._print(c.base)})"
            return root if c.exp > 0 else f"1/{root}"
        if not c.exp.is_Integer:
            raise ValueError(f"no claim syntax for {c}")
        base = self._scalar(c.base)
        if c.exp > 0:
            return f"{base}^{int(c.exp)}"
        if c.exp == -1:
            return f"1/{base}"
        if isinstance(c.base, SqNorm):    # 1/(||A||^2)^2: the power after the norm's ^2
            base = f"({base})"
        return f"1/{base}^{-int(c.exp)}"

    def _wrap_power_base(self, b):
        return self._print(b) if isinstance(b, (Symbol, Determinant, Trace, Function)) \
            else f"({self._print(b)})"

    def _print_Function(self, c):
        f = type(c)
        name = getattr(f, "catalogue_name", f.__name__ if f in BUILTIN.values() else None)
        if name is None:
            raise ValueError(f"no claim syntax for {c}")
        return f"{self._function(name, getattr(f, 'order', 0))}({self._print(c.args[0])})"


def to_claim(expr, notation="hz"):
    """Our network expression in the plain claim syntax (parseable by `claims.parse`)."""
    return ClaimPrinter(dict(notation=notation)).doprint(expr)


def to_latex(expr, notation="hz"):
    """Our network expression in the LaTeX claim syntax."""
    return ClaimPrinter(dict(notation=notation, latex=True)).doprint(expr)
