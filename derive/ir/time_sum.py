"""The sum over the steps of a recurrence, Σ_{t=lo}^{hi} M_t, of a matrix expression M_t
(a shared weight's gradient at a symbolic number of steps T). `at` writes it out at a
concrete T: the terms M_lo … M_hi, the last first, as the walker adds them.

>>> from sympy import Symbol
>>> from derive.ir.nodes import Var
>>> t, T = Symbol("t"), Symbol("T")
>>> total = TimeSum(Var("ht", t - 1, 2, 1), t, 1, T)
>>> total.shape, str(total)
((2, 1), 'Σ_{t=1}^{T} ht_{t-1}')
>>> total.at({T: 2})
ht_0 + ht_1
"""
from sympy import Basic, Integer
from sympy.core.sympify import _sympify
from sympy.matrices.expressions import MatAdd
from sympy.matrices.expressions.matexpr import MatrixExpr


class TimeSum(MatrixExpr):
    """Σ_{step=lo}^{hi} term, ``term`` a matrix expression of ``step``."""

    def __new__(cls, term, step, lo, hi):
        return Basic.__new__(cls, term, step, _sympify(lo), _sympify(hi))

    @property
    def term(self):
        return self.args[0]

    @property
    def shape(self):
        return self.term.shape

    def at(self, values):
        """The sum written out once ``values`` ({symbol: value}) make its limits numbers."""
        term, step, lo, hi = (a.xreplace(values) for a in self.args)
        terms = [term.xreplace({step: Integer(k)}) for k in range(int(hi), int(lo) - 1, -1)]
        return MatAdd(*terms) if len(terms) > 1 else terms[0]

    def _bounds(self, printer):
        return tuple(printer._print(a) for a in self.args[1:])

    def _sympystr(self, printer):
        step, lo, hi = self._bounds(printer)
        return f"Σ_{{{step}={lo}}}^{{{hi}}} {printer._print(self.term)}"

    _textprint = _sympystr

    def _latex(self, printer):
        step, lo, hi = self._bounds(printer)
        return rf"\sum_{{{step}={lo}}}^{{{hi}}} {printer._print(self.term)}"
