"""Central differences of a network's symbolic loss J (``Instance.loss``), the oracle of
the gradient tests: J compiled once into an mpmath function of its symbols (activations
written out by their definitions), then evaluated in DIGITS-digit arithmetic at the
point with one entry moved either way. The same expression as ``J.xreplace(point)
.evalf()``, without rebuilding it for every entry."""
import mpmath
from sympy import Float, lambdify

from derive.ir.activations import realize

DIGITS = 50


class CentralDifferences:
    """``diff(w, point, step)``: (J(w + step) − J(w − step)) / (2 step) at ``point``."""

    def __init__(self, loss):
        self.symbols = sorted(loss.free_symbols, key=lambda s: s.name)
        self.fn = lambdify(self.symbols, realize(loss), modules="mpmath")

    def __call__(self, w, point, step):
        if w not in self.symbols:          # J does not depend on w
            return Float(0, DIGITS)
        with mpmath.workdps(DIGITS):
            values = {s: _mpf(point[s]) for s in self.symbols}
            h = _mpf(step)
            sides = []
            for sign in (1, -1):
                moved = dict(values)
                moved[w] = values[w] + sign * h
                sides.append(self.fn(*(moved[s] for s in self.symbols)))
            return Float((sides[0] - sides[1]) / (2 * h), DIGITS)


def _mpf(value):
    return mpmath.mpf(Float(value, DIGITS + 10))
