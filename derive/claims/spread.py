"""`Spread`: a ones vector whose length the claim leaves to its context (SPEC §3, "1 a
ones vector where the shape asks").

A row r under a ones column, ``1 r`` (``1 (1^T X)`` sums X's rows and spreads the sum
down them), and a column c beside a ones row, ``c 1^T``, need a length for their ones
that the text does not give. `derive.claims.network_build` builds them as `Spread`
nodes; a sum, a difference or an elementwise product with a partner of another shape
fixes the length (`fitted`), and whatever is left unfixed when the claim is built reads
as r (or c) itself, the ones having length 1 (`settled`).

>>> from derive.ir.nodes import Var
>>> r = Var("var", 2, 1, 4)
>>> fitted(Spread(r, "rows"), (3, 4))
1*var_2
>>> settled(2 * Spread(r, "rows"))
2*var_2
"""
from sympy import OneMatrix
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatMul
from sympy.matrices.expressions.matexpr import MatrixExpr


class Spread(MatrixExpr):
    """``inner`` (a row for ``axis="rows"``, a column for ``"cols"``) to be spread along
    ``axis`` over as many rows or columns as its partner has; until then its own shape."""

    def __new__(cls, inner, axis):
        return MatrixExpr.__new__(cls, inner, axis if isinstance(axis, Str) else Str(axis))

    @property
    def inner(self):
        return self.args[0]

    @property
    def axis(self):
        return self.args[1].name

    @property
    def shape(self):
        return self.inner.shape

    def to(self, shape):
        """The spread at ``shape``, or None where the inner vector does not fit it."""
        rows, cols = shape
        if self.axis == "rows" and self.inner.shape[1] == cols:
            return MatMul(OneMatrix(rows, 1), self.inner)
        if self.axis == "cols" and self.inner.shape[0] == rows:
            return MatMul(self.inner, OneMatrix(1, cols))
        return None


def fitted(expr, shape):
    """``expr`` with its spread fixed to ``shape``: a `Spread`, or a scalar multiple of
    one; None for anything else or a spread that does not fit."""
    if isinstance(expr, Spread):
        return expr.to(shape)
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], Spread):
            spread = mats[0].to(shape)
            return None if spread is None else MatMul(coeff, spread)
    return None


def settled(expr):
    """``expr`` with every spread still open read as its inner vector."""
    while isinstance(expr, MatrixExpr) and expr.has(Spread):
        expr = expr.xreplace({s: s.inner for s in expr.atoms(Spread)})
    return expr
