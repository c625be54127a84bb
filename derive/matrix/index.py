"""Free matrix expressions in index notation.

`entry(e, i, j)` writes entry (i, j) of a matrix expression with explicit sums
(SymPy `Sum` over `Indexed` components; a product introduces one summation index per
inner dimension); `scalar_index(e)` does the same for a scalar. An inverse and a
determinant have no sum form: their index values are `InverseEntry` ((M⁻¹)_ij) and
`DeterminantValue` (det M), nodes that SymPy's ``diff`` differentiates by the rules
d(M⁻¹) = −M⁻¹ dM M⁻¹ and d det M = det M tr(M⁻¹ dM), written in components. The explicit form of the
same expression at concrete sizes, the brute-force route the certificates compare
against, is `derive.calculus.evaluate.explicit`. Neither shares code with
`derive.matrix.adjoint`.

>>> from sympy import MatrixSymbol, symbols
>>> m, n = symbols("m n", integer=True, positive=True)
>>> A, x, y = MatrixSymbol("A", m, n), MatrixSymbol("x", n, 1), MatrixSymbol("y", m, 1)
>>> scalar_index(y.T * A * x, Indices("ij"))
Sum(A[i, j]*x[j]*y[i], (i, 1, m), (j, 1, n))
"""
from itertools import permutations

from sympy import (
    Add,
    Determinant,
    Dummy,
    Expr,
    Identity,
    Indexed,
    IndexedBase,
    Integer,
    Inverse,
    KroneckerDelta,
    MatAdd,
    MatMul,
    MatPow,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Sum,
    Symbol,
    Trace,
    ZeroMatrix,
)
from sympy.core.sympify import _sympify
from sympy.matrices.expressions import HadamardPower, HadamardProduct, Transpose
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ClaimError
from ..ir import display
from ..ir.matrix_nodes import AsScalar, Elem, SqNorm, scalar_function

ONE = Integer(1)


class Indices:
    """A supply of summation indices, in the order given."""

    def __init__(self, letters):
        self.letters, self.used = list(letters), 0

    def fresh(self):
        if self.used >= len(self.letters):
            name = f"i_{self.used - len(self.letters) + 1}"
        else:
            name = self.letters[self.used]
        self.used += 1
        return Symbol(name, integer=True, positive=True)


class _Fresh(Indices):
    """Summation indices that cannot clash with any other (SymPy Dummies)."""

    def __init__(self, name="k"):
        super().__init__("")
        self.name = name

    def fresh(self):
        return Dummy(self.name, integer=True, positive=True)


class _MatrixFunctionEntry(Expr):
    """An index-notation value of a function of a whole square matrix M (its inverse's
    entry, its determinant). It has no sum form; its derivative with respect to a
    component goes through ∂M_pq, M's entries written with fresh indices."""

    is_commutative = True

    @property
    def matrix(self):
        return self.args[0]

    @property
    def free_symbols(self):
        """Also the labels of M's components, so that SymPy's ``diff`` by a component
        reaches `_eval_derivative` instead of answering 0."""
        labels = {Symbol(X.name) for X in self.matrix.atoms(MatrixSymbol)}
        return super().free_symbols | labels

    def _through(self, s, weight):
        """Σ_{p,q} weight(p, q) ∂M_pq/∂s, or 0 when M does not depend on s."""
        n = self.matrix.shape[0]
        p, q = Dummy("p", integer=True, positive=True), Dummy("q", integer=True, positive=True)
        d = entry(self.matrix, p, q, _Fresh()).diff(s)
        if d == 0:
            return Integer(0)
        return Sum(weight(p, q) * d, (p, 1, n), (q, 1, n))

    def _latex(self, printer):
        return display.latex(self, "catalogue")


class InverseEntry(_MatrixFunctionEntry):
    """(M⁻¹)_ij; its derivative is −Σ_pq (M⁻¹)_ip ∂M_pq (M⁻¹)_qj (d(M⁻¹) = −M⁻¹ dM M⁻¹)."""

    def __new__(cls, matrix, i, j):
        return Expr.__new__(cls, matrix, _sympify(i), _sympify(j))   # strict: no text

    @property
    def indices(self):
        return self.args[1:]

    def _eval_derivative(self, s):
        M, (i, j) = self.matrix, self.indices
        return self._through(s, lambda p, q: -InverseEntry(M, i, p) * InverseEntry(M, q, j))

    def _sympystr(self, printer):
        i, j = (printer._print(k) for k in self.indices)
        return f"({printer._print(Inverse(self.matrix))})[{i}, {j}]"


class DeterminantValue(_MatrixFunctionEntry):
    """det M; its derivative is det M Σ_pq (M⁻¹)_qp ∂M_pq (d det M = det M tr(M⁻¹ dM))."""

    def __new__(cls, matrix):
        return Expr.__new__(cls, matrix)

    def _eval_derivative(self, s):
        M = self.matrix
        return self * self._through(s, lambda p, q: InverseEntry(M, q, p))

    def _sympystr(self, printer):
        return f"det({printer._print(self.matrix)})"


def component(X, i, j):
    """The (i, j) component of a variable: x_i for a vector, A_ij for a matrix."""
    rows, cols = X.shape
    base = IndexedBase(X.name)
    if rows == 1 and cols == 1:
        return Symbol(X.name)
    if cols == 1:
        return base[i]
    if rows == 1:
        return base[j]
    return base[i, j]


def entry(e, i, j, ix):
    """Entry (i, j) of matrix expression ``e``; unit dimensions take the index 1."""
    if isinstance(e, MatrixSymbol):
        return component(e, i, j)
    if isinstance(e, Transpose):
        return entry(e.arg, j, i, ix)
    if isinstance(e, MatAdd):
        return Add(*(entry(t, i, j, ix) for t in e.args))
    if isinstance(e, MatMul):
        scalars = [scalar_index(a, ix) for a in e.args if not isinstance(a, MatrixExpr)]
        mats = [a for a in e.args if isinstance(a, MatrixExpr)]
        return _product_entry(scalars, mats, i, j, ix)
    if isinstance(e, Inverse):
        return InverseEntry(e.arg, i, j)
    if isinstance(e, MatPow) and e.exp.is_Integer and e.exp > 0:   # X^n = X ⋯ X
        return _product_entry([], [e.base] * int(e.exp), i, j, ix)
    if isinstance(e, MatPow) and e.exp.is_Integer and e.exp < 0:   # X^-n = X⁻¹ ⋯ X⁻¹
        return _product_entry([], [Inverse(e.base)] * int(-e.exp), i, j, ix)
    return _elementwise_entry(e, i, j, ix)


def _product_entry(scalars, mats, i, j, ix):
    """Entry (i, j) of the product of ``mats`` times ``scalars``: one summation index
    per inner dimension that is not 1."""
    idx, limits = [i], []
    for factor in mats[:-1]:
        size = factor.shape[1]
        if size == 1:
            idx.append(ONE)
        else:
            k = ix.fresh()
            idx.append(k)
            limits.append((k, 1, size))
    idx.append(j)
    body = Mul(*scalars) * Mul(*(entry(f, idx[n], idx[n + 1], ix)
                                 for n, f in enumerate(mats)))
    return Sum(body, *limits) if limits else body


def _elementwise_entry(e, i, j, ix):
    if isinstance(e, HadamardProduct):
        return Mul(*(entry(a, i, j, ix) for a in e.args))
    if isinstance(e, HadamardPower):
        return entry(e.base, i, j, ix) ** e.exp
    if isinstance(e, Elem):
        return scalar_function(e.name, e.order)(entry(e.arg, i, j, ix))
    if isinstance(e, Identity):
        return ONE if e.shape == (1, 1) else KroneckerDelta(i, j)
    if isinstance(e, OneMatrix):
        return ONE
    if isinstance(e, ZeroMatrix):
        return Integer(0)
    raise ClaimError(f"no index form for {type(e).__name__}")


def scalar_index(e, ix):
    """A scalar expression in index notation."""
    if isinstance(e, MatrixExpr):
        if e.shape != (1, 1):
            raise ClaimError("a matrix where a scalar is needed")
        return entry(e, ONE, ONE, ix)
    if isinstance(e, AsScalar):
        return entry(e.matrix, ONE, ONE, ix)
    if isinstance(e, Determinant):
        return DeterminantValue(e.arg)
    if isinstance(e, Trace):
        size = e.arg.shape[0]
        if size == 1:
            return entry(e.arg, ONE, ONE, ix)
        k = ix.fresh()
        return Sum(entry(e.arg, k, k, ix), (k, 1, size))
    if isinstance(e, SqNorm):
        rows, cols = e.arg.shape
        i = ix.fresh() if rows != 1 else ONE
        j = ix.fresh() if cols != 1 else ONE
        limits = [(v, 1, s) for v, s in ((i, rows), (j, cols)) if s != 1]
        body = entry(e.arg, i, j, ix) ** 2
        return Sum(body, *limits) if limits else body
    if e.is_Atom:
        return e
    return e.func(*(scalar_index(a, ix) for a in e.args))


def rename_dummies(expr, letters):
    """Each term of a sum with its summation indices renamed in order of appearance
    (``letters``), so terms equal up to the names of their indices become equal and
    SymPy adds them up: Σ_i A_ci x_i + Σ_k A_ck x_k → 2 Σ_i A_ci x_i."""

    def bound_to_dummies(e):
        if isinstance(e, Sum):
            mapping = {lim[0]: Dummy(str(lim[0])) for lim in e.limits}
            limits = [(mapping[v], lo, hi) for v, lo, hi in e.limits]
            return Sum(bound_to_dummies(e.function.xreplace(mapping)), *limits)
        if e.is_Atom or isinstance(e, Indexed):
            return e
        return e.func(*(bound_to_dummies(a) for a in e.args))

    def to_letters(e, supply):
        if isinstance(e, Sum):
            names = [Symbol(next(supply), integer=True, positive=True) for _ in e.limits]
            best = None
            orders = permutations(names) if len(names) <= 5 else [names]
            for order in orders:      # the naming that prints first: a canonical form
                mapping = dict(zip((lim[0] for lim in e.limits), order))
                body = e.function.xreplace(mapping)
                limits = sorted(((mapping[v], lo, hi) for v, lo, hi in e.limits),
                                key=lambda lim: str(lim[0]))
                key = str(body)
                if best is None or key < best[0]:
                    best = (key, body, limits)
            return Sum(to_letters(best[1], supply), *best[2])
        if e.is_Atom or isinstance(e, Indexed):
            return e
        return e.func(*(to_letters(a, supply) for a in e.args))

    terms = Add.make_args(bound_to_dummies(expr))
    return Add(*(to_letters(t, _supply(letters)) for t in terms))


def _supply(letters):
    yield from letters
    n = 1
    while True:
        yield f"i_{n}"
        n += 1
