"""High-precision numeric evaluation of SymPy expressions over the expression DAG.

`evalf` re-evaluates shared subtrees, which the expanded losses of `certify` are full
of; this evaluator computes each distinct subexpression once, with mpmath at a fixed
working precision.

>>> from sympy import Symbol, exp
>>> a = Symbol("a")
>>> float(value(exp(a) + 1, {a: 0}))
2.0
"""
import mpmath
from sympy import Add, Heaviside, Max, Min, Mul, Piecewise, Pow, exp, log, tanh
from sympy.core.sympify import _sympify  # strict: never parses a string
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from ..ir import activations
from ..vocab import ACTIVATION_INPUT

DIGITS = 60


def value(expr, values, digits=DIGITS):
    """expr at the point ``values`` (a dict of symbols to rationals), as an mpf."""
    with mpmath.workdps(digits):
        point = {k: _number(v) for k, v in values.items()}
        return _eval(expr, point, {})


def _number(v):
    v = _sympify(v)
    if v.is_Integer:
        return mpmath.mpf(int(v))
    if v.is_Rational:
        return mpmath.mpf(int(v.p)) / int(v.q)
    return mpmath.mpf(str(v.evalf(DIGITS)))


_FUNCTIONS = {exp: mpmath.exp, log: mpmath.log, tanh: mpmath.tanh}


def _eval(e, point, cache):
    hit = cache.get(e)
    if hit is not None:
        return hit
    if e.is_Number:
        out = _number(e)
    elif e.is_Symbol:
        out = point[e]
    elif isinstance(e, Add):
        out = mpmath.fsum(_eval(a, point, cache) for a in e.args)
    elif isinstance(e, Mul):
        out = mpmath.mpf(1)
        for a in e.args:
            out *= _eval(a, point, cache)
    elif isinstance(e, Pow):
        base = _eval(e.base, point, cache)
        out = base ** (int(e.exp) if e.exp.is_Integer else _eval(e.exp, point, cache))
    elif type(e) in _FUNCTIONS:
        out = _FUNCTIONS[type(e)](_eval(e.args[0], point, cache))
    elif isinstance(e, Heaviside):
        arg = _eval(e.args[0], point, cache)
        at_zero = _eval(e.args[1], point, cache) if len(e.args) > 1 else mpmath.mpf(0.5)
        out = mpmath.mpf(1) if arg > 0 else (at_zero if arg == 0 else mpmath.mpf(0))
    elif isinstance(e, (Max, Min)):
        args = [_eval(a, point, cache) for a in e.args]
        out = max(args) if isinstance(e, Max) else min(args)
    elif isinstance(e, Piecewise):
        out = None
        for body, cond in e.args:
            if _truth(cond, point, cache):
                out = _eval(body, point, cache)
                break
    elif activations.is_atom(e):     # an activation atom: its definition
        out = _eval(activations.body(e), {ACTIVATION_INPUT: _eval(e.args[0], point, cache)}, {})
    else:
        raise TypeError(f"cannot evaluate {type(e).__name__} numerically")
    cache[e] = out
    return out


def _truth(cond, point, cache):
    if isinstance(cond, BooleanTrue):
        return True
    if isinstance(cond, BooleanFalse):
        return False
    lhs, rhs = (_eval(side, point, cache) for side in cond.args)
    return {"<": lhs < rhs, ">": lhs > rhs, "<=": lhs <= rhs, ">=": lhs >= rhs,
            "==": lhs == rhs, "!=": lhs != rhs}[cond.rel_op]
