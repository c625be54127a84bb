"""The sizes and the one matrix node of self-attention (SPEC §1c).

A transformer has one width throughout, so its sizes are fixed symbols, not per-layer
widths: the model width d, a head's key (and value) width d_k, the number of tokens T,
the MLP's hidden width d_ff and the head's output width d_y. Columns are tokens.

``ColumnSoftmax(S, causal)`` is the softmax of each column of a square matrix of scores
(every column of the result sums to 1). With ``causal`` the scores S_ts of keys after
the query (t > s) are −∞, so their exponentials are 0: the component is written with
the Iverson bracket [t ≤ s] (`derive.ir.conv.Inside`) in front of the exponential,
and no infinity is ever formed:

    A[t, s] = [t ≤ s] e^{S[t, s]} / Σ_q [q ≤ s] e^{S[q, s]}

>>> from derive.ir.nodes import Var
>>> A = ColumnSoftmax(Var("Sa", 1, TOKENS, TOKENS), 1)
>>> A.shape, A.causal
((T, T), True)
>>> A.component(Integer(2), Integer(1))
0
"""
from sympy import Basic, IndexedBase, Integer, Sum, Symbol, exp
from sympy.core.sympify import _sympify
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..vocab import KEY_WIDTH, MLP_WIDTH, MODEL_WIDTH, OUT_WIDTH, TOKENS
from .conv import Inside

#: every size symbol a transformer's quantities are written in
SIZES = (MODEL_WIDTH, KEY_WIDTH, TOKENS, MLP_WIDTH, OUT_WIDTH)

q_ = Symbol("q_", integer=True, positive=True)   # the key a column's normalizer sums over


def _comp(M, row, col):
    return M.component(row, col) if hasattr(M, "component") else IndexedBase(M)[row, col]


class ColumnSoftmax(MatrixExpr):
    """softmax(S) over each column of S, causal or not (module docstring)."""

    def __new__(cls, S, causal=0):
        return Basic.__new__(cls, S, _sympify(Integer(int(bool(causal)))))

    @property
    def arg(self):
        return self.args[0]

    @property
    def causal(self):
        return bool(self.args[1])

    @property
    def shape(self):
        return self.arg.shape

    def component(self, row, col):
        """[row ≤ col] e^{S[row, col]} / Σ_q [q ≤ col] e^{S[q, col]} (no bracket when not
        causal)."""
        S = self.arg

        def term(key):
            value = exp(_comp(S, key, col))
            return Inside(key, 1, col) * value if self.causal else value

        return term(row) / Sum(term(q_), (q_, 1, S.shape[0]))

    def _sympystr(self, printer):
        name = "causal_softmax" if self.causal else "softmax"
        return f"{name}({printer._print(self.arg)})"
