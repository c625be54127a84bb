"""High-precision numeric evaluation of SymPy expressions over the expression DAG.

`evalf` re-evaluates shared subtrees, which the expanded losses of `certify` are full
of; this evaluator computes each distinct subexpression once, with mpmath at a fixed
working precision.

It is also the guard against values that grow past any use (a tower of exp in a custom
activation, x^x^x^x): an exponential whose argument exceeds `MAX_EXP_ARGUMENT`, a value
whose binary exponent exceeds `MAX_BITS`, or a value that is not real is a one-line
`SpecError` naming the limit, never a MemoryError, an OverflowError or a complex
"result". mpmath keeps the exponent of a number as a separate integer, so huge values
inside the limits cost microseconds and checking them costs nothing; past them the
working precision itself would have to grow with the number (exp of 10^700 needs
10^700 bits).

>>> from sympy import Symbol, exp
>>> a = Symbol("a")
>>> float(value(exp(a) + 1, {a: 0}))
2.0
"""
import mpmath
from sympy import Add, Heaviside, Max, Min, Mul, Piecewise, Pow, cos, exp, log, sin, tanh
from sympy.core.sympify import _sympify  # strict: never parses a string
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from ..errors import SpecError
from ..ir import activations
from ..vocab import ACTIVATION_INPUT

DIGITS = 60
MAX_EXP_ARGUMENT = 10 ** 12   # exp(10^12) ≈ 10^(4·10^11): still microseconds in mpmath
MAX_BITS = 2 * 10 ** 12       # no value beyond 2^MAX_BITS (≈ exp(MAX_EXP_ARGUMENT)^2)


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
    if v.is_Float:
        return mpmath.mpf(v._mpf_)      # its binary value as it is, no decimal round trip
    return mpmath.mpf(str(v.evalf(DIGITS)))


def _exp(a):
    if a.real > MAX_EXP_ARGUMENT if isinstance(a, mpmath.mpc) else a > MAX_EXP_ARGUMENT:
        raise SpecError(f"cannot evaluate numerically: exp of {mpmath.nstr(a, 3)} "
                        f"(the limit is exp of {MAX_EXP_ARGUMENT:.0e}); an expression that "
                        "grows this fast cannot be checked numerically")
    return mpmath.exp(a)


def _sized(x, what):
    """``x`` if it is a real number within 10^MAX_DIGITS, else a SpecError."""
    if isinstance(x, mpmath.mpc):
        if x.imag != 0:
            raise SpecError(f"cannot evaluate numerically: {what} is not a real number (it "
                            f"is {mpmath.nstr(x, 4)}); "
                            "the expression is complex at this point, e.g. a negative "
                            "number to a fractional power")
        x = x.real
    if mpmath.isinf(x) or mpmath.isnan(x) or (x != 0 and abs(mpmath.mag(x)) > MAX_BITS):
        raise SpecError(f"cannot evaluate numerically: {what} is too large (the limit "
                        f"is 2^{MAX_BITS:.0e})")
    return x


def _power(base, exponent):
    """base^exponent, refused before computing when its size would pass `MAX_BITS`."""
    size = abs(exponent) * abs(mpmath.mag(base)) if base else 0
    if size > MAX_BITS:
        raise SpecError(f"cannot evaluate numerically: {mpmath.nstr(base, 3)} to the "
                        f"power {mpmath.nstr(exponent, 3)} (the limit is 2^{MAX_BITS:.0e})")
    return _sized(base ** exponent, "a power")


_FUNCTIONS = {exp: _exp, log: mpmath.log, tanh: mpmath.tanh, sin: mpmath.sin,
              cos: mpmath.cos}


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
            out = _sized(out * _eval(a, point, cache), "a product")
    elif isinstance(e, Pow):
        base = _eval(e.base, point, cache)
        out = _power(base, int(e.exp) if e.exp.is_Integer else _eval(e.exp, point, cache))
    elif type(e) in _FUNCTIONS:
        out = _sized(_FUNCTIONS[type(e)](_eval(e.args[0], point, cache)), type(e).__name__)
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
