"""Deciding that two expressions are equal: exactly, or at high-precision points.

Every check in the package (network certificates, the verifier, the catalogue) uses
these: `exactly_zero` treats each function atom (σ(…), e^…) as a fresh symbol and
cancels the rational function that is left; `relative_gap` compares two numbers
computed with `DIGITS` significant digits, and `TOLERANCE` is the largest gap that
still counts as equal.

>>> from sympy import Symbol, exp
>>> a = Symbol("a")
>>> exactly_zero(exp(a) / (1 + exp(a)) - 1 + 1 / (1 + exp(a)))
True
>>> relative_gap(value(exp(a), {a: 1}), value(exp(a) + 10**-40, {a: 1})) < TOLERANCE
True
"""
from sympy import Dummy, Function, cancel, together

from .numeric import value

DIGITS = 50          # significant digits of every numeric comparison
TOLERANCE = 1e-35    # relative gap below which two values at a point are equal


def exactly_zero(expr, expand_first=False):
    """Zero as a rational function of the symbols and of the function atoms (each atom
    replaced by a fresh symbol). ``expand_first`` tries a plain expansion before the
    cancellation (cheap for polynomials, the catalogue's usual case)."""
    atoms = {f: Dummy() for f in expr.atoms(Function)}
    expr = expr.xreplace(atoms)
    if expand_first and expr.expand() == 0:
        return True
    return cancel(together(expr)) == 0


def relative_gap(a, b):
    """|a − b| / max(1, |a|) as a float."""
    return float(abs(a - b) / max(1, abs(a)))


def numeric_gap(first, second, point, digits=DIGITS):
    """The relative gap between two expressions at ``point`` (symbol -> rational)."""
    return relative_gap(value(first, point, digits), value(second, point, digits))
