"""The SymPy node types our derivations are made of.

`Var` is a layer quantity (W_l, b_l, h_l, z_l, y, δ_l, …) as a matrix expression whose
layer index is a SymPy expression, so `L - 1` substitutes to `2` when L = 3. `Act` is an
activation (or its derivative) applied elementwise to a matrix expression. `Partial` and
`MatPartial` are unevaluated derivatives used on the left-hand side of derivation steps.
"""
from sympy import Basic, Expr, IndexedBase, Integer, Mul
from sympy.core.symbol import Str
from sympy.core.sympify import _sympify  # strict: never parses a string
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from . import display
from .activations import act_function


def _str(value):
    return value if isinstance(value, Str) else Str(value)


class Var(MatrixExpr):
    """A named layer quantity: ``Var("W", 2, 3, 4)`` is W_2 of shape 3×4.

    >>> from derive.vocab import DEPTH, WIDTH
    >>> Var("W", DEPTH, WIDTH[DEPTH], WIDTH[DEPTH - 1]).subs(DEPTH, 3).layer
    3
    """

    is_symbol = True
    _diff_wrt = True

    def __new__(cls, kind, layer, rows, cols):
        return Basic.__new__(cls, _str(kind), _sympify(layer), _sympify(rows), _sympify(cols))

    @property
    def kind(self):
        return self.args[0].name

    @property
    def layer(self):
        return self.args[1]

    @property
    def shape(self):
        return self.args[2], self.args[3]

    @property
    def free_symbols(self):
        return set().union(*(a.free_symbols for a in self.args[1:]))

    def _entry(self, i, j, **kwargs):
        return MatrixElement(self, i, j)

    def _latex(self, printer):
        return display.latex(self)

    def _sympystr(self, printer):
        layer = str(self.layer).replace(" ", "")
        if self.kind == "y":
            return "y"
        return f"{self.kind}_{layer}" if self.layer.is_Atom else f"{self.kind}_{{{layer}}}"


class Act(MatrixExpr):
    """An activation applied elementwise: order 0 is σ(arg), order 1 is σ'(arg).

    The activation is named by its rule (``"sigmoid"``, ``"custom:…"``); the rule
    table knows what it means.
    """

    def __new__(cls, name, arg, order=0):
        return Basic.__new__(cls, _str(name), arg, Integer(order))

    @property
    def name(self):
        return self.args[0].name

    @property
    def arg(self):
        return self.args[1]

    @property
    def order(self):
        return int(self.args[2])

    @property
    def shape(self):
        return self.arg.shape

    def _entry(self, i, j, **kwargs):
        return act_function(self.name, self.order)(self.arg._entry(i, j, **kwargs))

    def _latex(self, printer):
        return display.latex(self)

    def _sympystr(self, printer):
        prime = "'" * self.order
        return f"{self.name}{prime}({printer._print(self.arg)})"


class Partial(Expr):
    """The unevaluated partial derivative ∂num/∂wrt of scalars (components)."""

    is_commutative = True

    def __new__(cls, num, wrt):
        return Expr.__new__(cls, _sympify(num), _sympify(wrt))

    @property
    def num(self):
        return self.args[0]

    @property
    def wrt(self):
        return self.args[1]

    def _latex(self, printer):
        return display.latex(self)

    def _sympystr(self, printer):
        return f"d{printer._print(self.num)}/d{printer._print(self.wrt)}"


class MatPartial(MatrixExpr):
    """∂J/∂V for a scalar J and a matrix V, laid out like V (denominator layout)."""

    def __new__(cls, num, wrt):
        return Basic.__new__(cls, _sympify(num), wrt)

    @property
    def num(self):
        return self.args[0]

    @property
    def wrt(self):
        return self.args[1]

    @property
    def shape(self):
        return self.wrt.shape

    def _latex(self, printer):
        return display.latex(self)

    def _sympystr(self, printer):
        return f"d{printer._print(self.num)}/d{printer._print(self.wrt)}"


class Jacobian(MatrixExpr):
    """∂u/∂v for vectors u, v: entry (i, j) is ∂u_i/∂v_j (numerator layout)."""

    def __new__(cls, num, wrt):
        return Basic.__new__(cls, num, wrt)

    @property
    def num(self):
        return self.args[0]

    @property
    def wrt(self):
        return self.args[1]

    @property
    def shape(self):
        return self.num.shape[0], self.wrt.shape[0]

    def _latex(self, printer):
        return display.latex(self)

    def _sympystr(self, printer):
        return f"d{printer._print(self.num)}/d{printer._print(self.wrt)}"


def component(var, i, s=None):
    """The component of a layer quantity: v_i (single sample) or v_{is} (batch)."""
    base = IndexedBase(var)
    return base[i] if s is None else base[i, s]


class Times(Expr):
    """A product shown as written, before SymPy multiplies it out: the substitution
    step just before a cancellation (e.g. (z − y)/(z(1 − z)) · z(1 − z))."""

    is_commutative = True

    def __new__(cls, *factors):
        return Expr.__new__(cls, *map(_sympify, factors))

    def doit(self, **hints):
        return Mul(*(f.doit(**hints) for f in self.args))

    def _latex(self, printer):
        return display.latex(self)

    def _sympystr(self, printer):
        return " * ".join(f"({printer._print(f)})" for f in self.args)

