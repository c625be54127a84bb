"""`matrix_derivative`: d(scalar)/d(matrix) for an expression in the claim syntax (seed 003).

The derivation goes the way 003 proves its catalogue, each step a SymPy object:

1. the scalar C as written (matrix form) and in index notation (explicit sums);
2. ∂C/∂A_cd by SymPy's differentiation of the components (Kronecker deltas appear);
3. the deltas contracted by our rules (`derive.calculus.kronecker.contract`), the summation
   indices renamed so that equal terms add up;
4. the matrix form, found by reverse accumulation (`derive.matrix.adjoint`), and its
   entry (c, d) written in index notation, which matches step 3.

`MatrixDerivation.certify` then compares every entry of the matrix form, and of the
contracted index form, with the derivative of the fully expanded C at small concrete
sizes: exactly (zero difference) and at random points with 50 significant digits.

>>> from derive import matrix_derivative
>>> d = matrix_derivative("1/2 x^T A^T A x", "A")
>>> d.result
A*x*x.T
>>> bool(d.certify())
True
"""
import random

from sympy import (
    Add,
    Determinant,
    Dummy,
    Identity,
    Indexed,
    Integer,
    Inverse,
    MatPow,
    MatrixSymbol,
    OneMatrix,
    Rational,
    S,
    Sum,
    Symbol,
    Transpose,
    diff,
    log,
    preorder_traversal,
)
from sympy.matrices.expressions.matexpr import MatrixElement

from ..calculus.compare import DIGITS, TOLERANCE, exactly_zero, relative_gap
from ..calculus.evaluate import explicit, explicit_symbols
from ..calculus.kronecker import contract
from ..calculus.numeric import value
from ..engine.certificate import Certificate
from ..errors import ClaimError, as_claim_error
from ..ir import display
from ..ir.matrix_nodes import realize
from ..ir.nodes import MatPartial, Partial
from ..ir.steps import Rule, Step
from .adjoint import gradient
from .index import (
    ONE,
    DeterminantValue,
    Indices,
    InverseEntry,
    component,
    entry,
    rename_dummies,
    scalar_index,
)

COST = Symbol("C")
ATTEMPTS = 20                   # draws of a point before an inverse is declared hopeless
REGULAR = 1e-20                 # |det| above this: a matrix is regular at a point
EXACT_INVERSE_SIZE = 2          # the largest inverted variable proved exactly
FIRST_SIZE = 2                  # the small size set: 2, 3, 4, … one per dimension
LARGE_SIZE = 3                  # the large size set: 3, 4, 5, … (every dimension ≥ 3)
SUM_LETTERS = "ijkuvwefgh"      # summation indices, skipping names already taken
FREE_LETTERS = "cdabst"         # the entry of the derivative: c, d as in 003 if free


class MatrixDerivation:
    """The derivation of ∂C/∂wrt for one scalar expression C.

    ``steps`` are `derive.ir.steps.Step`s (topic "weights"); ``result`` is the matrix
    form, ``index_form`` the contracted component expression ∂C/∂wrt_cd.
    """

    def __init__(self, text, scalar, wrt, steps, result, index_form, free):
        self.text, self.scalar, self.wrt = text, scalar, wrt
        self.steps, self.result, self.index_form, self.free = steps, result, index_form, free
        self.assumptions = []

    @property
    def expr(self):
        return self.scalar.expr

    @property
    def shapes(self):
        return dict(self.scalar.shapes)

    def dimensions(self):
        """The symbolic dimensions, inverted matrices' first (they get the smallest
        sizes, so that a product such as A X B, inverted, is not singular for lack of
        rank), then the differentiation variable's, then in order of appearance."""
        order = [M.shape[0] for M in inverted(self.expr)[0] if M.shape[0].is_Symbol]
        order += [s for label in [self.wrt.name] + self.scalar.order
                  for s in self.shapes[label] if s.is_Symbol]
        order += sorted((s for m in self.expr.atoms(Identity, OneMatrix) for s in m.shape
                         if s.is_Symbol), key=str)       # an identity of its own size
        return sorted(set(order), key=order.index)

    def sizes(self, given=None, first=FIRST_SIZE):
        """Concrete sizes for the checks: pairwise distinct numbers from ``first`` up,
        one per dimension (``given`` overrides some)."""
        dims = self.dimensions()
        sizes = {s: first + n for n, s in enumerate(dims)}
        for name, size in (given or {}).items():
            matches = [s for s in dims if str(s) == name]
            if not matches or not isinstance(size, int) or size < 1 or size > 6:
                raise ClaimError(f"sizes: {name}={size!r}; allowed: the dimensions "
                                 f"{', '.join(map(str, dims))} with values 1 … 6")
            sizes[matches[0]] = size
        return sizes

    def size_sets(self, given=None):
        """The size sets every verdict checks: the small one (``given`` where the user
        chose sizes) and one with every dimension at least 3, pairwise distinct, so that
        an identity true only at size 2 (det X = tr(X) I - Xᵀ … for 2×2) cannot pass.
        With no symbolic dimension (every shape given), the one set there is.

        >>> from derive import matrix_derivative
        >>> matrix_derivative("det(X)", "X").size_sets()
        [{m: 2}, {m: 3}]
        """
        sets = [self.sizes(given), self.sizes(None, LARGE_SIZE)]
        return [s for n, s in enumerate(sets) if s not in sets[:n]]

    @as_claim_error
    def certify(self, sizes=None, exact=True, points=2, seed=0):
        """Every entry of the matrix form and of the contracted index form equals the
        derivative of the expanded C: exactly and at random high-precision points."""
        sizes = self.sizes(sizes)
        check = Checker(self.scalar, self.wrt, sizes, seed, points, [self.result])
        exact = exact and check.exact_feasible
        cert = Certificate(holds=True, widths=tuple((str(k), v) for k, v in sizes.items()),
                           exact=exact)
        claimed = check.explicit(self.result)
        c, d = self.free
        for (r, col), truth in check.truth.items():
            index_value = self.index_form.xreplace({k: v + 1 for k, v in ((c, r), (d, col))
                                                    if k != ONE})
            index_value = check.components(check.concrete(index_value).doit())
            for claim in (claimed[r, col], index_value):
                cert.entries += 1
                if exact and cert.exact:
                    cert.exact = exactly_zero(truth - claim, expand_first=True)
                gap = check.gap(truth, claim)
                cert.worst = max(cert.worst, gap)
                if gap > TOLERANCE:
                    cert.holds = False
                    cert.failures.append((self.wrt.name, r + 1, col + 1, gap))
        if not cert.holds:
            cert.exact = False
        return cert

    def _repr_markdown_(self):
        return display.markdown(self)

    def __repr__(self):
        return f"<MatrixDerivation of d/d{self.wrt.name} ({self.text}): {len(self.steps)} steps>"


class Checker:
    """The brute-force side: C expanded at concrete sizes, its derivative entry by entry,
    and random rational points at which to compare."""

    def __init__(self, scalar, wrt, sizes, seed=0, points=2, claims=()):
        self.sizes = {k: Integer(v) for k, v in sizes.items()}
        self.env, self.memo = {}, {}
        total = explicit(self.concrete(scalar.expr), self.env)
        self.total = total[0, 0] if hasattr(total, "shape") else total
        X = self.concrete(wrt)
        self.X = self.env[wrt.name] if wrt.name in self.env else explicit_symbols(X)
        self.truth = {(r, c): diff(self.total, self.X[r, c])
                      for r in range(self.X.rows) for c in range(self.X.cols)}
        nonzero, positive = inverted(self.concrete(scalar.expr), *map(self.concrete, claims))
        self.determinants = [(self.explicit(Determinant(M)), M in positive)
                             for M in nonzero]
        #: exact proofs through an inverse cost a cancellation of rational functions:
        #: feasible when every inverted matrix is a variable (or its transpose) of at
        #: most 2×2; otherwise the check is numeric only (50 digits)
        self.exact_feasible = all(
            isinstance(M.arg if isinstance(M, Transpose) else M, MatrixSymbol)
            and M.shape[0] <= EXACT_INVERSE_SIZE for M in nonzero)
        rng = random.Random(seed)
        symbols = sorted(set().union(*(m.free_symbols for m in self.env.values())), key=str)
        self.points = [self._point(rng, symbols, self.total.has(log))
                       for _ in range(points)]

    def _point(self, rng, symbols, positive):
        """Random rationals for every entry (positive when a logarithm needs them). With
        inverses or determinants, square variables are drawn diagonally dominant and the
        point is redrawn until every inverted matrix is regular (and every matrix under
        a log det has a positive determinant): seeded, in the order of the names."""
        for _ in range(ATTEMPTS):
            point = {s: _rational(rng, positive) for s in symbols}
            if not self.determinants:
                return point
            for M in self.env.values():
                if M.rows == M.cols > 1:
                    for r in range(M.rows):
                        if M[r, r] in point:
                            point[M[r, r]] = abs(point[M[r, r]]) + 6 * (M.rows - 1) + 1
            if all(_regular(value(realize(det), point, DIGITS), needs_positive)
                   for det, needs_positive in self.determinants):
                return point
        raise ClaimError(f"no point found in {ATTEMPTS} tries at which every inverted "
                         "matrix is regular (and every log det positive): the expression "
                         "is undefined almost everywhere")

    def concrete(self, e):
        return e.xreplace(self.sizes)

    def explicit(self, e):
        return explicit(self.concrete(e), self.env)

    def once(self, e):
        """`explicit`, computed once per expression (inverses are met entry by entry)."""
        if e not in self.memo:
            self.memo[e] = self.explicit(e)
        return self.memo[e]

    def components(self, e):
        """Indexed components A[1, 2], x[3] → the symbols of the explicit matrices; an
        entry of an inverse and a determinant → their explicit values."""
        def lookup(ix):
            M = self.env[str(ix.base.label)]
            at = [int(k) - 1 for k in ix.indices]
            return M[at[0], at[1]] if len(at) == 2 else (M[at[0], 0] if M.cols == 1
                                                          else M[0, at[0]])

        def inverse_entry(a):
            i, j = (int(k) - 1 for k in a.indices)
            return self.once(Inverse(a.matrix))[i, j]
        e = e.replace(lambda a: isinstance(a, InverseEntry), inverse_entry)
        e = e.replace(lambda a: isinstance(a, DeterminantValue),
                      lambda a: self.once(Determinant(a.matrix)))
        return e.replace(lambda a: isinstance(a, Indexed), lookup)

    def gap(self, truth, claim):
        worst = 0.0
        for point in self.points:
            a = value(realize(truth), point, DIGITS)
            b = value(realize(claim), point, DIGITS)
            worst = max(worst, relative_gap(a, b))
        return worst


def inverted(*exprs):
    """The matrices that ``exprs`` invert or take the determinant of (all must be
    regular), and those under a log det (their determinant must be positive)."""
    nonzero, positive = [], []
    for e in exprs:
        for node in preorder_traversal(e):
            if isinstance(node, (Inverse, Determinant)):
                nonzero.append(node.arg)
            elif isinstance(node, MatPow) and node.exp.is_negative:
                nonzero.append(node.base)
            elif isinstance(node, log) and isinstance(node.args[0], Determinant):
                positive.append(node.args[0].arg)
    return list(dict.fromkeys(nonzero)), positive


def _regular(det, needs_positive):
    return det > 0 if needs_positive else abs(det) > REGULAR


def _rational(rng, positive):
    """A small random rational; positive when a logarithm needs it."""
    v = Rational(rng.randint(1, 12), rng.randint(2, 7))
    return v if positive or rng.random() < 0.5 else -v


def _letters(pool, taken):
    return [x for x in pool if x not in taken and x.upper() not in taken]


def _readable(expr, letters):
    """The derivative of an inverse or a determinant brings summation indices of its
    own (SymPy Dummies, all alike in print): renamed to letters for the steps."""
    if not any(isinstance(s, Dummy) for s in expr.free_symbols | _bound(expr)):
        return expr
    return rename_dummies(expr, letters)


def _bound(expr):
    return {lim[0] for s in expr.atoms(Sum) for lim in s.limits}


@as_claim_error
def derive_scalar(text, scalar, label):
    """The derivation for an already built `Scalar` (shared with `verify_identity`)."""
    X = scalar.symbols[label]
    taken = {name[0] for name in scalar.order} | {str(s) for shape in scalar.shapes.values()
                                                  for s in shape if s.is_Symbol}
    free_pool = _letters(FREE_LETTERS, taken)
    c, d = (Symbol(v, integer=True, positive=True) for v in free_pool[:2])
    sums = _letters(SUM_LETTERS, taken | {str(c), str(d)})
    if X.shape == (1, 1):      # a 1×1 variable: no free index
        c = d = ONE
    elif X.shape[1] == 1:      # a column vector: one free index
        d = ONE
    elif X.shape[0] == 1:      # a row vector
        c, d = ONE, c
    index = scalar_index(scalar.expr, Indices(sums))
    wrt_entry = component(X, c, d)
    differentiated = _readable(diff(index, wrt_entry), sums)
    contracted = _readable(contract(differentiated), sums)
    combined = contract(rename_dummies(contracted, sums))
    result = gradient(scalar.expr, X)
    if result.has(S.NaN, S.ComplexInfinity, S.Infinity, S.NegativeInfinity):
        raise ClaimError("the expression is undefined everywhere (after SymPy's own "
                         "simplification it takes a log of 0 or divides by 0, as in "
                         "log(tr(A - A)))")
    result_entry = contract(rename_dummies(contract(entry(result, c, d, Indices(sums))),
                                           sums))
    lhs = Partial(COST, wrt_entry)
    i, j = (Symbol(v, integer=True, positive=True) for v in sums[:2])
    generic = component(X, i, j if X.shape[0] != 1 and X.shape[1] != 1 else i)
    steps = [
        Step(COST, scalar.expr, Rule.DEFINITION, None, "loss", "matrix", "C"),
        Step(COST, index, Rule.INDEX, None, "loss", "index", "C"),
        Step(Partial(generic, wrt_entry), diff(generic, wrt_entry), Rule.COMPONENT, None,
             "weights", "index", "dX"),
        Step(lhs, differentiated, Rule.CHAIN_RULE, None, "weights", "index", "dC"),
        Step(lhs, contracted, Rule.KRONECKER, None, "weights", "index", "dC"),
    ]
    if len(Add.make_args(combined)) < len(Add.make_args(contracted)):
        steps.append(Step(lhs, combined, Rule.RENAME, None, "weights", "index", "dC"))
    if result_entry != combined:
        steps.append(Step(lhs, result_entry, Rule.REARRANGE, None, "weights", "index", "dC"))
    element = MatrixElement(result, *(k - 1 if k == ONE else k for k in (c, d)))
    steps.append(Step(lhs, element, Rule.MATRIX_FORM, None, "weights",
                      "index", "dC"))
    steps.append(Step(MatPartial(COST, X), result, Rule.MATRIX_FORM, None, "weights",
                      "matrix", "result"))
    return MatrixDerivation(text, scalar, X, steps, result, combined, (c, d))
