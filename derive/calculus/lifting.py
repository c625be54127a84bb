"""Lifting a contracted component expression with sums to a matrix expression.

`derive.calculus.kronecker.lift` lifts an elementwise component (no sums). The VJPs
of the op table have sums left after contraction: over a summed-out output index
(Σ_i W_ik G_i), over the samples (Σ_r G_ar z_br) and, for the normalizations, over
the features or the samples of one group (Σ_p h_ps). `lift_entry` reads the component
at the free indices (row, col) and writes the matrix whose (row, col) entry it is, by
these rules, each a small function below:

* a component whose indices are (row, col) is its matrix, (col, row) its transpose;
  a column's component at row is the column, at col its transpose (a row);
* a product of factors is their Hadamard product, each spread with ones to the
  indices the product depends on, or an outer product u vᵀ where one group of factors
  depends on row only and the other on col only;
* **a sum over an index p** is a matrix product: the factors that depend on (row, p)
  make the left matrix, those on (p, col) or p alone the right one; where no factor
  depends on row (col), the left (right) matrix is a ones row 𝟏ᵀ (a ones column 𝟏):
  the sum over the feature index of a sample becomes 𝟏ᵀ H, the sum over the samples
  of a feature H 𝟏;
* sums and elementwise functions and powers apply entry by entry; a factor free of
  every component is a scalar.

An expression no rule covers (an index shared by three matrices) raises `LiftError`.

>>> from sympy import IndexedBase, Sum, symbols
>>> from derive.ir.nodes import Var
>>> k, s, p, n, m = symbols("k s p n m", integer=True, positive=True)
>>> h = Var("h", 1, n, m)
>>> mean = lift_entry(Sum(IndexedBase(h)[p, s], (p, 1, n)) / n, k, s, (n, m))
>>> mean, mean.args[1].shape        # (1/n) 𝟏𝟏ᵀ h: each sample's mean, spread
(1/n*1*h_1, (n, n))
"""
from dataclasses import dataclass

from sympy import Add, Basic, Function, Heaviside, Indexed, Mul, OneMatrix, Pow, S, Sum, exp, log, tanh
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, Transpose

from ..ir.nodes import Act, Var
from .kronecker import LiftError


@dataclass(frozen=True)
class _Lifted:
    """A matrix ``value`` of shape (R if rows else 1) × (C if cols else 1), or a scalar
    ``value`` (rows = cols = False, ``scalar`` True)."""
    value: Basic
    rows: bool
    cols: bool
    scalar: bool = False


@dataclass(frozen=True)
class _Frame:
    """The two free indices and their ranges the expression is read at."""
    row: Basic
    col: Basic
    R: Basic
    C: Basic


def lift_entry(expr, row, col, shape):
    """The matrix expression of ``shape`` whose (row, col) entry is ``expr``."""
    frame = _Frame(row, col, *shape)
    return _spread(_lift(expr, frame), frame, True, True)


def _spread(x, frame, rows, cols, matrix=False):
    """``x`` repeated with ones to depend on the indices asked for (a dimension of size 1
    needs no ones; a scalar stays one unless ``matrix``)."""
    R, C = frame.R, frame.C
    if x.scalar:
        shape = (R if rows else 1, C if cols else 1)
        return x.value * OneMatrix(*shape) if shape != (1, 1) or matrix else x.value
    M = x.value
    if rows and not x.rows and R != 1:
        M = OneMatrix(R, 1) * M
    if cols and not x.cols and C != 1:
        M = M * OneMatrix(1, C)
    return M


def _lift(e, f):
    if isinstance(e, Indexed) and isinstance(e.base.label, Var):
        return _component(e, f)
    if not _has_component(e):
        if e.has(f.row) and f.row != S.One or e.has(f.col) and f.col != S.One:
            raise LiftError(f"cannot lift {e}: a free index outside a component")
        return _Lifted(e, False, False, scalar=True)
    if isinstance(e, Add):
        return _combine_sum([_lift(t, f) for t in e.args], f)
    if isinstance(e, Mul):
        return _combine_product([_lift(t, f) for t in e.args], f)
    if isinstance(e, Pow) and e.exp.is_number:
        base = _lift(e.base, f)
        return _Lifted(HadamardPower(base.value, e.exp), base.rows, base.cols)
    if isinstance(e, Sum):
        return _lift_sum(e, f)
    if isinstance(e, Function) and len(e.args) == 1:
        arg = _lift(e.args[0], f)
        return _Lifted(_elementwise(e, arg.value), arg.rows, arg.cols)
    raise LiftError(f"cannot lift {e} to matrix form")


def _has_component(e):
    return any(isinstance(x.base.label, Var) for x in e.atoms(Indexed))


def _component(e, f):
    v, idx = e.base.label, e.indices
    if len(idx) == 1:
        if idx[0] == f.row:
            return _Lifted(v, True, False)
        if idx[0] == f.col:
            return _Lifted(Transpose(v), False, True)
    elif idx == (f.row, f.col):
        return _Lifted(_sized(v, f.R, f.C), True, True)
    elif idx == (f.col, f.row):
        return _Lifted(Transpose(_sized(v, f.C, f.R)), True, True)
    raise LiftError(f"cannot lift the component {e} at ({f.row}, {f.col})")


def _sized(v, rows, cols):
    """``v`` read over ``rows`` × ``cols``: the augmented weights read without their
    bias column are W̄."""
    if (v.shape[0], v.shape[1]) != (rows, cols) and v.kind == "W" and v.shape[1] - cols == 1:
        return Var("Wbar", v.layer, rows, cols)
    return v


def _elementwise(e, M):
    if hasattr(type(e), "rule_name"):
        return Act(type(e).rule_name, M, type(e).order)
    if isinstance(e, (exp, log, tanh)):
        return Act(type(e).__name__, M, 0)
    if isinstance(e, Heaviside):
        return Act("heaviside", M, 0)
    raise LiftError(f"cannot lift the function {e} to matrix form")


def _combine_sum(parts, f):
    if all(p.scalar for p in parts):
        return _Lifted(Add(*(p.value for p in parts)), False, False, scalar=True)
    rows, cols = any(p.rows for p in parts), any(p.cols for p in parts)
    return _Lifted(MatAdd(*(_spread(p, f, rows, cols, matrix=True) for p in parts)), rows, cols)


def _combine_product(parts, f):
    scalar = Mul(*(p.value for p in parts if p.scalar))
    mats = [p for p in parts if not p.scalar]
    if not mats:
        return _Lifted(scalar, False, False, scalar=True)
    row_only = [p for p in mats if p.rows and not p.cols]
    col_only = [p for p in mats if p.cols and not p.rows]
    if len(mats) == 1:
        body, rows, cols = mats[0].value, mats[0].rows, mats[0].cols
    elif row_only and col_only and len(row_only) + len(col_only) == len(mats):
        body = MatMul(_hadamard([p.value for p in row_only]),
                      _hadamard([p.value for p in col_only]))    # u vᵀ
        rows = cols = True
    else:
        rows, cols = any(p.rows for p in mats), any(p.cols for p in mats)
        body = _hadamard([_spread(p, f, rows, cols) for p in mats])
    return _Lifted(scalar * body if scalar != 1 else body, rows, cols)


def _hadamard(ms):
    return ms[0] if len(ms) == 1 else HadamardProduct(*ms)


def _lift_sum(e, f):
    """Σ over several indices: the last limit outermost (SymPy's first limit is the
    innermost), the others a sum inside its body."""
    body, limits = e.function, e.limits
    if len(limits) > 1:
        body = Sum(body, *limits[:-1])
    return _lift_sum_one(body, limits[-1], f)


def _lift_sum_one(body, limit, f):
    p, lo, hi = limit
    if lo != 1:
        raise LiftError(f"cannot lift a sum from {lo}: sums start at 1")
    if isinstance(body, Add):
        return _combine_sum([_lift_sum_one(t, limit, f) for t in body.args], f)
    outside, left, right = [], [], []
    for factor in Mul.make_args(body):
        on_p = factor.has(p)
        on_row = f.row != S.One and factor.has(f.row)
        on_col = f.col != S.One and factor.has(f.col)
        if not on_p:
            outside.append(factor)
        elif on_row and on_col:
            raise LiftError(f"cannot lift {factor}: the summed index {p} meets both "
                            f"free indices")
        elif on_row:
            left.append(factor)
        else:
            right.append(factor)
    left_frame, right_frame = _Frame(f.row, p, f.R, hi), _Frame(p, f.col, hi, f.C)
    lefts = [_lift(x, left_frame) for x in left]
    rights = [_lift(x, right_frame) for x in right]
    rows, cols = any(x.rows for x in lefts), any(x.cols for x in rights)
    L = _hadamard([_spread(x, left_frame, rows, True) for x in lefts]) if lefts \
        else OneMatrix(1, hi)
    Rm = _hadamard([_spread(x, right_frame, True, cols) for x in rights]) if rights \
        else OneMatrix(hi, 1)
    total = _Lifted(MatMul(L, Rm), rows, cols)
    return _combine_product([total] + [_lift(x, f) for x in outside], f)
