"""The second pass of `derive.claims.free_build`: a free-expression tree to SymPy
objects, the sizes already inferred (`FreeBuilder`), with the claim syntax's rules for
products (a 1×1 factor multiplies as a scalar, a literal 1 beside a matrix is a ones
vector), elementwise division and powers.

>>> from derive.claims.free_build import build_scalar
>>> from derive.claims.free_names import parse_free
>>> build_scalar(parse_free("1^T exp(X a)"), "X").expr.shape
(1, 1)
"""
from sympy import (
    Add,
    Determinant,
    Identity,
    Integer,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    OneMatrix,
    Rational,
    Trace,
    ZeroMatrix,
)
from sympy.matrices.expressions import HadamardPower, HadamardProduct, Transpose
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ClaimError
from ..ir.matrix_nodes import AsScalar, Elem, SqNorm, scalar_function
from .dims import ONE

ONES = (("num", 1), ("T", ("num", 1)))     # a product's 1 and 1^T: ones where a matrix is


class FreeBuilder:
    """Second pass: SymPy objects, with the sizes now known."""

    def __init__(self, symbols, shaper, size):
        self.symbols, self.shaper, self.size = symbols, shaper, size

    def build(self, node):
        kind = node[0]
        if kind == "name" and node in self.shaper.identities:
            return Identity(self.size(self.shaper.identities[node]))
        if kind == "name":
            return self.symbols[node[1]]
        if kind == "num":
            return node[1]
        if kind == "neg":
            return -self.build(node[1])
        if kind == "T":
            a = self.build(node[1])
            return Transpose(a).doit() if _is_matrix(a) else a
        if kind in ("add", "sub"):
            a, b = self.build(node[1]), self.build(node[2])
            if kind == "sub":
                b = -b
            big = [e for e in (a, b) if _is_matrix(e) and e.shape != (1, 1)]
            if len(big) == 1:           # a scalar plus a matrix: the scalar times ones
                small = b if big[0] is a else a
                return MatAdd(big[0], _scalar(small) * OneMatrix(*big[0].shape))
            if _is_matrix(a) and _is_matrix(b):
                return MatAdd(a, b)
            return Add(_scalar(a), _scalar(b))
        if kind == "had":
            a, b = self.build(node[1]), self.build(node[2])
            if not (_is_matrix(a) and _is_matrix(b)):
                return _scalar(a) * _scalar(b)
            return HadamardProduct(a, b)
        if kind == "matmul":
            items = [self.ones(item) if id(item) in self.shaper.ones else self.build(item)
                     for item in chain(node)]
            product = items[0]
            for item in items[1:]:
                product = _product(product, item)
            return product
        if kind == "times":
            return _product(self.build(node[1]), self.build(node[2]))
        if kind == "div":
            return _quotient(self.build(node[1]), self.build(node[2]))
        if kind in ("pow", "epow"):
            return self.power(node)
        if kind == "norm":         # ‖v‖ = (‖v‖²)^{1/2}
            return _norm(self.build(node[1]))
        if kind == "tr":
            a = self.build(node[1])
            return Trace(a) if _is_matrix(a) else a
        if kind == "det":
            a = self.build(node[1])
            if _is_zero(a):                   # A - A: SymPy's doit cancels it to 0
                return Integer(0)
            return Determinant(a) if _is_matrix(a) and a.shape != (1, 1) else _scalar(a)
        if kind == "call":
            fname, order, arg = node[1], node[2], self.build(node[3])
            if _is_matrix(arg) and arg.shape != (1, 1):
                return Elem(fname, arg, order)
            return scalar_function(fname, order)(_scalar(arg))
        raise ClaimError(f"{kind} is not allowed in a matrix expression")

    def ones(self, item):
        """A literal 1 of a product: the ones vector the shapes gave it, or 1."""
        d = self.shaper.ones[id(item)]
        if d == ONE:
            return Integer(1)
        return OneMatrix(self.size(d), 1) if item == ONES[0] else OneMatrix(1, self.size(d))

    def power(self, node):
        """‖v‖^k, X^k, X^{-1} (kept as written: SymPy's doit would split (A B)^{-1}), s^k;
        the elementwise X^{∘k}."""
        if node[0] == "epow":
            base = self.build(node[1])
            if _is_matrix(base) and base.shape != (1, 1):
                return HadamardPower(base, node[2])
            return _scalar(base) ** node[2]
        if node[1][0] == "norm":
            inner = self.build(node[1][1])
            if not _is_matrix(inner):
                return inner ** node[2]
            return SqNorm(inner) ** Rational(node[2], 2)
        base, k = self.build(node[1]), node[2]
        if _is_matrix(base) and base.shape != (1, 1):
            if k < 0 and _is_zero(base):
                raise ClaimError("the inverse of a matrix that is 0 (such as A - A): it "
                                 "is singular")
            if k < 0:
                return Inverse(base) if k == -1 else MatPow(base, k)
            return MatPow(base, k).doit() if k > 1 else base
        return _scalar(base) ** k


def chain(node):
    """The factors of a product of juxtaposed (or @) factors, left to right."""
    items = []
    while node[0] == "matmul":
        items.append(node[2])
        node = node[1]
    return [node] + items[::-1]


def _product(a, b):
    if _is_matrix(a) and _is_matrix(b) and a.shape[1] == b.shape[0]:
        return MatMul(a, b).doit(deep=False)
    if _is_matrix(a) and _is_matrix(b):   # a 1×1 matrix scaling the other one
        return _scalar(a) * b if a.shape == (1, 1) else _scalar(b) * a
    return _scalar(a) * b if not _is_matrix(a) else _scalar(b) * a


def _quotient(a, b):
    """a / s for a scalar s; a ⊘ B elementwise for a matrix B (a of B's shape, or a
    scalar over each entry)."""
    if not _is_matrix(b) or b.shape == (1, 1):
        b = _scalar(b)
        return a * b ** -1 if _is_matrix(a) else a / b
    reciprocal = HadamardPower(b, -1)
    if not _is_matrix(a) or a.shape == (1, 1):
        return _scalar(a) * reciprocal
    return HadamardProduct(a, reciprocal)


def _norm(inner):
    return SqNorm(inner) ** Rational(1, 2) if _is_matrix(inner) else abs(inner)


def _is_zero(e):
    """A matrix expression that SymPy cancels to the zero matrix (A - A)."""
    return isinstance(e, MatrixExpr) and isinstance(e.doit(), ZeroMatrix)


def _is_matrix(e):
    return isinstance(e, MatrixExpr)


def _scalar(e):
    """A scalar from a number, a scalar expression or a 1×1 matrix."""
    if _is_matrix(e):
        if e.shape != (1, 1):
            raise ClaimError(f"a {e.shape[0]}×{e.shape[1]} matrix where a scalar is needed")
        return AsScalar(e)
    return e if not isinstance(e, (int,)) else Rational(e)
