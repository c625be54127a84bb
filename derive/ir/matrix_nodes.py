"""SymPy nodes for free-standing matrix expressions (the catalogue of matrix derivatives).

Variables are SymPy `MatrixSymbol`s; on top of SymPy's matrix algebra (MatMul, MatAdd,
Transpose, HadamardProduct, Trace) we need three nodes:

- `Elem(f, A, order)`: a function applied to every entry of A (order 1: its derivative);
- `AsScalar(S)`: a 1×1 matrix used as a number (``(xᵀx) A``);
- `SqNorm(A)`: the squared (Frobenius) norm ‖A‖², the sum of the squared entries.

`scalar_function(name, order)` gives the SymPy function of one entry: SymPy's own
`exp`, `log`, `tanh`, `sqrt`; for ``sigmoid`` and for the generic σ, σ_1, φ an opaque function
whose derivative is another opaque function (σ → σ' → σ''), so that a derivation never
contains SymPy's ``Derivative``/``Subs`` objects. For numeric checks every opaque
function has a realization (`realize`): the logistic function for ``sigmoid``, and a
fixed smooth function per generic name, distinct names getting distinct functions.

>>> from sympy import Symbol
>>> s = scalar_function("sigma_{1}")
>>> s(Symbol("a")).diff(Symbol("a"))
sigma_{1}_prime(a)
"""
import hashlib
from functools import lru_cache

from sympy import Expr, Function, Rational, Symbol, exp, log, sqrt, tanh

from . import display
from .nodes import Act

BUILTIN = {"exp": exp, "log": log, "tanh": tanh, "sqrt": sqrt}
_t = Symbol("t", real=True)


@lru_cache(maxsize=None)
def scalar_function(name, order=0):
    """The function of one entry for an elementwise function name (order: derivative)."""
    if name in BUILTIN:
        if order == 0:
            return BUILTIN[name]
        return _Lambda(BUILTIN[name](_t).diff(_t, order))
    fn = Function(name + "_prime" * order, real=True)
    fn.catalogue_name, fn.order = name, order
    fn.fdiff = lambda self, argindex=1: scalar_function(name, order + 1)(self.args[0])
    return fn


class _Lambda:
    """A derivative of exp, log, tanh or sqrt as a callable on one entry."""

    def __init__(self, body):
        self.body = body

    def __call__(self, arg):
        return self.body.xreplace({_t: arg})


def definition(name):
    """The realization of an opaque elementwise function, as an expression in ``t``."""
    if name == "sigmoid":
        return 1 / (1 + exp(-_t))
    # a fixed, smooth, non-polynomial function per generic name (σ, σ_1, φ, …)
    seed = int(hashlib.sha1(name.encode()).hexdigest()[:6], 16)
    a = Rational(seed % 7 + 3, 4)
    b = Rational(seed % 5 + 1, 8)
    return tanh(_t / a) + b * _t


def realize(expr):
    """Replace the opaque functions (σ, σ', sigmoid, …) by their realizations."""
    def is_opaque(f):
        return isinstance(f, Function) and hasattr(type(f), "catalogue_name")

    def value(f):
        body = definition(type(f).catalogue_name)
        for _ in range(type(f).order):
            body = body.diff(_t)
        return body.xreplace({_t: realize(f.args[0])})

    return expr.replace(is_opaque, value)


class Elem(Act):
    """f applied to every entry of a matrix: ``Elem("sigma", A)`` is σ(A), order 1 σ'(A).

    The node of `derive.ir.nodes.Act`, for the catalogue's functions (σ, σ_1, exp, …)
    rather than a network's activation rules.
    """

    def _entry(self, i, j, **kwargs):
        return scalar_function(self.name, self.order)(self.arg._entry(i, j, **kwargs))

    def _latex(self, printer):
        return display.latex(self, "catalogue")


class AsScalar(Expr):
    """A 1×1 matrix expression used as a number."""

    is_commutative = True

    def __new__(cls, matrix):
        return Expr.__new__(cls, matrix)

    @property
    def matrix(self):
        return self.args[0]

    def _latex(self, printer):
        return display.latex(self, "catalogue")

    def _sympystr(self, printer):
        return f"({printer._print(self.matrix)})"


class SqNorm(Expr):
    """‖A‖²: the sum of the squares of the entries of A."""

    is_commutative = True

    def __new__(cls, arg):
        return Expr.__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    def _latex(self, printer):
        return display.latex(self, "catalogue")

    def _sympystr(self, printer):
        return f"||{printer._print(self.arg)}||^2"


def derivative(name, order, arg):
    """The elementwise derivative of f^(order) at a matrix ``arg``: exp' is exp itself,
    otherwise f'(A) (printed 1 ⊘ A for log)."""
    if name == "exp":
        return Elem("exp", arg, 0)
    return Elem(name, arg, order + 1)

