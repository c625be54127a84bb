"""The normalization's group-wise forms, as a lecturer writes them, and how they print.

The engine states a normalized layer's error as one matrix expression in which every
group statistic is a product with a ones vector. Lecture notes write the same thing one
group at a time: the cotangent g = γ ⊙ ∂J/∂ĥ, the standard deviation σ = √(v + ε) and
``mean`` over the group (the features of a column for layer norm, the samples of a row
for batch norm), δ = (1/σ)(g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)). The nodes here are those
written forms; each one's `meaning` is the engine's matrix expression it stands for
(ones vectors and all), so an evaluator can check every displayed equality.

* `Broadcast(x, rows, cols)`: a per-feature column (γ), a per-group row or column (σ) or a
  number (ε) used at every entry of a rows × cols block, printed as ``x`` itself;
* `GroupMean(x, along)`: the mean of each column (``along="columns"``, layer norm) or
  of each row (``"rows"``, batch norm), copied back over it; printed ``mean(x)``;
* `Named(letter, layer, meaning, bold)`: a name for an intermediate (g_l, σ_l);
* `PerGroup(sigma, body)`: every group of ``body`` divided by its σ, printed (1/σ)(body).

>>> from derive.ir.nodes import Var
>>> from sympy import Symbol
>>> n, m = Symbol("n"), Symbol("m")
>>> GroupMean(Var("z", 2, n, m), "columns").meaning().shape
(n, m)
"""
from sympy import Basic, Integer, MatAdd, MatMul, OneMatrix, Rational, S
from sympy.core.symbol import Str
from sympy.core.sympify import _sympify
from sympy.matrices.expressions import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixExpr

ALONG = ("columns", "rows")


def _str(value):
    return value if isinstance(value, Str) else Str(value)


def _name(value):
    return value.name if isinstance(value, Str) else value


class Shorthand(MatrixExpr):
    """A written form of a matrix expression: ``meaning()`` is the expression itself."""

    def meaning(self):
        raise NotImplementedError


class Broadcast(Shorthand):
    """``arg`` (a column, a row or a number) used at every entry of a rows × cols block."""

    def __new__(cls, arg, rows, cols):
        return Basic.__new__(cls, _sympify(arg), _sympify(rows), _sympify(cols))

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.args[1], self.args[2]

    def meaning(self):
        arg, (rows, cols) = self.arg, self.shape
        if not getattr(arg, "is_Matrix", False):
            return arg * OneMatrix(rows, cols)
        if arg.shape == (rows, cols):
            return arg
        if arg.shape[0] == rows:
            return MatMul(arg, OneMatrix(1, cols))
        return MatMul(OneMatrix(rows, 1), arg)


class GroupMean(Shorthand):
    """The mean over each group of ``arg``, copied back over the group."""

    def __new__(cls, arg, along):
        if _name(along) not in ALONG:
            raise ValueError(f"along must be one of {ALONG}, got {along!r}")
        return Basic.__new__(cls, arg, _str(along))

    @property
    def arg(self):
        return self.args[0]

    @property
    def along(self):
        return self.args[1].name

    @property
    def shape(self):
        return self.arg.shape

    def meaning(self):
        rows, cols = self.arg.shape
        if self.along == "columns":
            return MatMul(Rational(1) / rows, OneMatrix(rows, 1), OneMatrix(1, rows), self.arg)
        return MatMul(Rational(1) / cols, self.arg, OneMatrix(cols, 1), OneMatrix(1, cols))


class Named(Shorthand):
    """A letter with a layer index standing for ``meaning`` (bold: a vector quantity)."""

    def __new__(cls, letter, layer, meaning, bold=True):
        return Basic.__new__(cls, _str(letter), _sympify(layer), meaning, Integer(bool(bold)))

    @property
    def letter(self):
        return self.args[0].name

    @property
    def layer(self):
        return self.args[1]

    @property
    def bold(self):
        return bool(self.args[3])

    @property
    def shape(self):
        return self.args[2].shape

    def meaning(self):
        return self.args[2]


class PerGroup(Shorthand):
    """Each group (column or row) of ``body`` divided by its entry of ``sigma``."""

    def __new__(cls, sigma, body):
        return Basic.__new__(cls, sigma, body)

    @property
    def sigma(self):
        return self.args[0]

    @property
    def body(self):
        return self.args[1]

    @property
    def shape(self):
        return self.body.shape

    def meaning(self):
        return HadamardProduct(Broadcast(HadamardPower(self.sigma, -1), *self.shape).meaning(),
                               self.body)


def in_order(first, *subtracted):
    """first − subtracted[0] − …, a matrix sum kept in the order written."""
    return MatAdd(first, *[MatMul(S.NegativeOne, t) for t in subtracted], evaluate=False)


class GroupLatex:
    """The printer methods of the group-wise forms (a mixin of `NotesLatexPrinter`)."""

    def _print_Broadcast(self, expr):
        return self._print(expr.arg)

    def _print_GroupMean(self, expr):
        return rf"\operatorname{{mean}}\left({self._print(expr.arg)}\right)"

    def _print_Named(self, expr):
        letter = self._bold(expr.letter) if expr.bold else expr.letter
        return self._attach(letter, self.layer_tex(expr.layer))

    def _print_PerGroup(self, expr):
        return rf"\frac{{1}}{{{self._print(expr.sigma)}}} \left({self._print(expr.body)}\right)"
