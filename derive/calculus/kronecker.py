"""Index-notation calculus: our own small, named rules for contracting Kronecker deltas
and for lifting component expressions back to matrix form.

SymPy differentiates the components (``diff`` of an ``Indexed`` gives products of
``KroneckerDelta``); we do not use ``Sum.doit``, which leaves ``Piecewise`` guards.
Each rule below is one rewrite, tested alone; `contract` applies them to a fixed point.

>>> from sympy import IndexedBase, Sum, KroneckerDelta, symbols
>>> i, k, N = symbols("i k N", integer=True)
>>> v = IndexedBase("v")
>>> contract(Sum(v[i] * KroneckerDelta(i, k), (i, 1, N)))
v[k]
"""
from sympy import (
    Add,
    Function,
    Heaviside,
    Indexed,
    KroneckerDelta,
    Mul,
    Number,
    OneMatrix,
    Pow,
    Sum,
    exp,
    factor,
    fraction,
    log,
    tanh,
    together,
)
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd

from ..ir.conv import Inside
from ..ir.nodes import Act, Var


# --- contraction rules --------------------------------------------------------------
def split_sum(expr):
    """Σ (f + g) → Σ f + Σ g."""
    if isinstance(expr, Sum) and isinstance(expr.function, Add):
        return Add(*(Sum(term, *expr.limits) for term in expr.function.args))
    return expr


def pull_constants(expr):
    """Σ_i c·f_i → c·Σ_i f_i for factors c free of every summation index."""
    if not isinstance(expr, Sum):
        return expr
    indices = [limit[0] for limit in expr.limits]
    inside, outside = [], []
    for term in Mul.make_args(expr.function):
        (inside if term.has(*indices) else outside).append(term)
    if not outside:
        return expr
    if inside:
        return Mul(*outside) * Sum(Mul(*inside), *expr.limits)
    count = Mul(*(_count(limit) for limit in expr.limits))
    return Mul(*outside) * count


def _count(limit):
    _, lo, hi = limit
    return hi - lo + 1


def kronecker(expr):
    """Σ_i f_i δ_{ia} → f_a: the Kronecker delta picks one term of the sum.

    With several summation indices, each index that meets a delta is removed.
    """
    if not isinstance(expr, Sum):
        return expr
    factors = list(Mul.make_args(expr.function))
    for limit in expr.limits:
        index = limit[0]
        for delta in factors:
            if isinstance(delta, KroneckerDelta) and index in delta.args:
                other = delta.args[1] if delta.args[0] == index else delta.args[0]
                if other.has(index):
                    continue
                rest = Mul(*(f for f in factors if f is not delta)).xreplace({index: other})
                limits = [lim for lim in expr.limits if lim[0] != index]
                return Sum(rest, *limits) if limits else rest
    return expr


def shifted_kronecker(expr):
    """Σ_{t=lo}^{hi} f_t δ_{t+c, a} → f_{a−c} [lo ≤ a−c ≤ hi]: a delta that meets the
    summation index shifted (a convolution's t + j − 1, a pooling's p(u − 1) + j) picks
    one term, which exists only where a − c lies within the sum's limits (`Inside`).

    >>> from sympy import IndexedBase, symbols
    >>> t, j, a, N = symbols("t j a N", integer=True, positive=True)
    >>> shifted_kronecker(Sum(IndexedBase("G")[t] * KroneckerDelta(t + j - 1, a), (t, 1, N)))
    Inside(a - j + 1, 1, N)*G[a - j + 1]
    """
    if not isinstance(expr, Sum):
        return expr
    factors = list(Mul.make_args(expr.function))
    for index, lo, hi in expr.limits:
        for delta in factors:
            if not isinstance(delta, KroneckerDelta) or index in delta.args \
                    or not delta.has(index):
                continue
            gap = (delta.args[0] - delta.args[1]).expand()
            slope = gap.coeff(index)
            if slope not in (1, -1) or (gap - slope * index).has(index):
                continue
            at = -(gap - slope * index) / slope
            rest = Mul(*(f for f in factors if f is not delta)).xreplace({index: at})
            limits = [lim for lim in expr.limits if lim[0] != index]
            body = rest * Inside(at, lo, hi)
            return Sum(body, *limits) if limits else body
    return expr


def delta_squared(expr):
    """δ_{ia}² → δ_{ia} (a product of equal deltas)."""
    if isinstance(expr, Pow) and isinstance(expr.base, KroneckerDelta) and expr.exp.is_positive:
        return expr.base
    return expr


def common_delta(expr):
    """δ_{ia} f + δ_{ia} g → δ_{ia} (f + g): a delta every term of a sum shares is taken
    out, so that `pull_constants` can move it out of a sum over another index and
    `kronecker` can contract it (a normalization's VJP needs this: its deltas sit in a
    sum nested in the sum over the samples)."""
    if not isinstance(expr, Add):
        return expr
    terms = [Mul.make_args(t) for t in expr.args]
    shared = [f for f in terms[0] if isinstance(f, KroneckerDelta)
              and all(f in other for other in terms[1:])]
    if not shared:
        return expr
    delta = shared[0]
    rest = [Mul(*(f for f in t if f != delta)) for t in terms]
    return delta * Add(*rest)


RULES = (split_sum, pull_constants, kronecker, delta_squared)
#: … and with `common_delta` and `shifted_kronecker`, for the op table's VJPs (`derive.engine.vjp`); the
#: documents' derivations keep `RULES`, whose steps they print
NESTED_RULES = RULES + (common_delta, shifted_kronecker)


def _rewrite_once(expr, rules):
    if expr.is_Atom or isinstance(expr, (Indexed, Var)):
        return expr
    if isinstance(expr, Sum):
        new = Sum(_rewrite_once(expr.function, rules), *expr.limits)
    else:
        new = expr.func(*(_rewrite_once(arg, rules) for arg in expr.args))
    for rule in rules:
        new = rule(new)
    return new


def contract(expr, rules=RULES):
    """Apply the contraction rules until nothing changes; expand products of sums first."""
    for _ in range(50):
        new = _rewrite_once(_distribute(expr), rules)
        if new == expr:
            return new
        expr = new
    return expr


def _distribute(expr):
    """Expand only products that contain a Kronecker delta, so sums see the delta."""
    if isinstance(expr, Sum):
        inner = expr.function
        if inner.has(KroneckerDelta):
            inner = inner.expand(deep=False, mul=True, power_exp=False, power_base=False,
                                 log=False, multinomial=False, basic=False)
        return Sum(inner, *expr.limits)
    if expr.is_Atom or isinstance(expr, (Indexed, Var)):
        return expr
    return expr.func(*(_distribute(arg) for arg in expr.args))


# --- lifting components to matrix form ---------------------------------------------
class LiftError(Exception):
    """An index expression that none of the lifting rules recognises (an engine bug)."""


def lift(expr, shape):
    """Lift an elementwise component expression (free index k, maybe sample s) to a
    matrix expression of the given shape: components → their Var, products →
    Hadamard products, reciprocals → Hadamard powers, constants → ones.
    """
    ones = OneMatrix(*shape)
    return _lift(expr, ones)


def _lift(expr, ones):
    if isinstance(expr, Indexed) and isinstance(expr.base.label, Var):
        return expr.base.label
    if isinstance(expr, Number) or (expr.is_Symbol and expr.is_commutative) \
            or (isinstance(expr, Indexed) and not isinstance(expr.base.label, Var)):
        return expr * ones
    if isinstance(expr, Add):
        return MatAdd(*(_lift(term, ones) for term in expr.args)).doit()
    if isinstance(expr, Mul):
        scalars = [f for f in expr.args if _is_scalar(f)]
        rest = [_lift(f, ones) for f in expr.args if not _is_scalar(f)]
        body = rest[0] if len(rest) == 1 else HadamardProduct(*rest)
        return Mul(*scalars) * body if scalars else body
    if isinstance(expr, Pow) and expr.exp.is_Integer:
        return HadamardPower(_lift(expr.base, ones), expr.exp)
    if isinstance(expr, Function) and hasattr(type(expr), "rule_name"):
        return Act(type(expr).rule_name, _lift(expr.args[0], ones), type(expr).order)
    if isinstance(expr, (exp, log, tanh)):
        return Act(type(expr).__name__, _lift(expr.args[0], ones), 0)
    if isinstance(expr, Heaviside):
        return Act("heaviside", _lift(expr.args[0], ones), 0)
    raise LiftError(f"cannot lift {expr} to matrix form")


def _is_scalar(expr):
    """A factor with no component in it: a number, a width, the batch size."""
    return not any(isinstance(atom, Indexed) and isinstance(atom.base.label, Var)
                   for atom in expr.atoms(Indexed))


def tidy(expr):
    """A component expression over a common denominator, signs chosen so that
    differences read ``z - y`` and denominators ``1 - z`` where the algebra allows.

    >>> from sympy import symbols, log, diff
    >>> zz, yy = symbols("z y")
    >>> tidy(diff(-(yy * log(zz) + (1 - yy) * log(1 - zz)), zz))
    (-y + z)/(z*(1 - z))
    """

    expr = factor(together(expr))
    num, den = fraction(expr)
    sign = 1
    factors = []
    for f in Mul.make_args(den):
        if isinstance(f, Add) and f.as_coeff_Add()[0] < 0:
            f, sign = -f, -sign
        factors.append(f)
    num = factor(sign * num)
    coeff, rest = num.as_coeff_Mul()
    if coeff < 0 and isinstance(rest, Add):
        num = Mul(-coeff, -rest, evaluate=False) if coeff != -1 else -rest
    elif coeff < 0 and isinstance(rest, Mul):
        adds = [f for f in rest.args if isinstance(f, Add)]
        if len(adds) == 1:
            others = [f for f in rest.args if f is not adds[0]]
            num = (-coeff) * Mul(*others) * (-adds[0])
    return num / Mul(*factors)
