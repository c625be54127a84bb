"""Open dimensions: sizes a claim leaves to its context (SPEC §3, the rule for ones).

The literal ``1`` in a product with a matrix is a ones vector (``1`` a column, ``1^T``
a row, ``1 1^T`` the all-ones matrix), and ``I`` an identity, whose lengths the text
does not give. `derive.claims.network_build` builds them with an `Open` dimension, a
placeholder that the first product, sum or elementwise product that needs a size
fixes (`unify`); whatever is still open when the whole claim is built takes the
target's shape where it stands in the claim's shape, and 1 elsewhere (`settle`).

>>> from sympy import OneMatrix
>>> k = Open()
>>> ones = OneMatrix(k, 1)
>>> unify(ones, OneMatrix(3, 1))[0].shape
(3, 1)
>>> settle(OneMatrix(1, k), (1, 4)).shape
(1, 4)
>>> settle(OneMatrix(k, 1)).shape        # nothing fixed it: length 1
(1, 1)
"""
from sympy import Dummy, Integer
from sympy.matrices.expressions.matexpr import MatrixExpr


class Open(Dummy):
    """A size not yet known: fixed by the first partner that needs it."""

    def __new__(cls):
        return Dummy.__new__(cls, "k", integer=True, positive=True)


def is_open(size):
    return isinstance(size, Open)


def _same(x, y, fixes):
    x, y = x.xreplace(fixes), y.xreplace(fixes)
    if x == y:
        return True
    if is_open(x):
        fixes[x] = y
        return True
    if is_open(y):
        fixes[y] = x
        return True
    return False


def unify(a, b, pairs=((0, 0), (1, 1))):
    """(a, b, fitted) with their open sizes fixed so that a.shape[i] == b.shape[j] for
    each (i, j) in ``pairs`` where one side is open; ``fitted`` is False when two known
    sizes differ (nothing is fixed then)."""
    fixes = {}
    for i, j in pairs:
        if not _same(a.shape[i], b.shape[j], fixes):
            return a, b, False
    return a.xreplace(fixes), b.xreplace(fixes), True


def open_sizes(expr):
    return {s for s in expr.free_symbols if is_open(s)} if isinstance(expr, MatrixExpr) \
        else set()


def settle(expr, target=None):
    """``expr`` with its open sizes fixed: to the target's size where the open size is
    the claim's own row or column count, to 1 everywhere else."""
    if not open_sizes(expr):
        return expr
    if target is not None:
        fixes = {}
        for have, want in zip(expr.shape, target):
            if is_open(have) and not open_sizes_of(want):
                fixes.setdefault(have, Integer(want) if isinstance(want, int) else want)
        expr = expr.xreplace(fixes)
    return expr.xreplace({s: 1 for s in open_sizes(expr)})


def open_sizes_of(size):
    return {s for s in getattr(size, "free_symbols", ()) if is_open(s)}

