"""The matrix nodes of a 1-D convolution (SPEC §1c), each readable componentwise.

A kernel K_l holds C_l × C_{l-1} × κ numbers; as a matrix symbol it is C_l × C_{l-1}κ
(its entry count), read with three indices ``K[o, c, j]``. Positions are columns
(channels × positions, one sequence per call). The nodes, with their components:

* ``Corr(X, W, κ)``: the valid cross-correlation, as the forward. With a kernel W
  (three indices), ``corr(X, W)[o, t] = Σ_c Σ_{j=1}^{κ} W[o, c, j] X[c, t + j − 1]``;
  with a matrix W (the cotangent G of a convolution's output, C_l × N'),
  ``corr(X, G)[o, c, j] = Σ_{t=1}^{N'} G[o, t] X[c, t + j − 1]`` (κ = N − N' + 1 taps).
* ``Flip(K, κ)``: the kernel with its taps reversed and its two channel axes swapped,
  ``flip(K)[c, o, j] = K[o, c, κ + 1 − j]``.
* ``Pad(G, w)``: G with w zero columns on each side, ``pad(G)[o, u] = G[o, u − w]``.
* ``Spread(G, p, n)``: each column of G repeated p times (G ⊗ 𝟏ᵀ_p), cut or padded
  with zeros to n columns (the cotangent of a mean pooling, times p).
* ``Scatter(G, S, p, n)``: each G[c, u] sent to the position its one-hot mask S[c, u, ·]
  selects in window u (the cotangent of a max pooling).
* ``Unflatten(g, C, N)``: a column of C·N entries back to C × N, channel-major.

`Inside(x, lo, hi)` is 1 when lo ≤ x ≤ hi and 0 otherwise (an Iverson bracket): the
limits a shifted Kronecker delta leaves when it is contracted
(`derive.calculus.kronecker.shifted_kronecker`).

>>> from sympy import Symbol
>>> from derive.ir.nodes import Var
>>> K, Z = Var("K", 1, 2, 6), Var("zc", 0, 3, 5)
>>> Corr(Z, K, 2).shape
(2, 4)
>>> Inside(3, 1, 2), Inside(Symbol("x"), 1, 2).func.__name__
(0, 'Inside')
"""
from sympy import Basic, Function, IndexedBase, Integer, Sum, Symbol, floor
from sympy.core.sympify import _sympify
from sympy.matrices.expressions.matexpr import MatrixExpr

#: the summation indices the components below introduce (distinct from the free ones)
c_, j_, t_ = (Symbol(name, integer=True, positive=True) for name in ("c_", "j_", "t_"))


class Inside(Function):
    """[lo ≤ x ≤ hi]: 1 inside the limits, 0 outside, unevaluated while symbolic."""

    @classmethod
    def eval(cls, x, lo, hi):
        if all(v.is_Integer for v in (x, lo, hi)):
            return Integer(1 if lo <= x <= hi else 0)
        return None


def comp(M, *idx):
    """The component of a matrix expression at ``idx`` (two indices, three for a kernel):
    a symbol's is its indexed entry, a node's its `component`."""
    if hasattr(M, "component"):
        return M.component(*idx)
    return IndexedBase(M)[idx]


def is_kernel(W):
    """Whether W is read with three indices (a kernel or a flipped kernel)."""
    return isinstance(W, Flip) or getattr(W, "kind", "") == "K"


class _Node(MatrixExpr):
    def __new__(cls, *args):
        return Basic.__new__(cls, *(_sympify(a) for a in args))

    def _sympystr(self, printer):
        """corr(Z, G), flip(K), …: the name and the matrix arguments (a claim's spelling)."""
        mats = [printer._print(a) for a in self.args if getattr(a, "is_Matrix", False)]
        return f"{type(self).__name__.lower()}({', '.join(mats)})"

    _textprint = _sympystr     # the plain text of the notes and of code comments


class Corr(_Node):
    """corr(X, W): the valid cross-correlation of the rows of X by W (module docstring)."""

    @property
    def shape(self):
        X, W, taps = self.args
        if is_kernel(W):
            return W.shape[0], X.shape[1] - taps + 1
        return W.shape[0], X.shape[0] * taps

    def component(self, row, col, tap=None):
        X, W, taps = self.args
        if is_kernel(W):
            body = comp(W, row, c_, j_) * comp(X, c_, col + j_ - 1)
            return Sum(body, (c_, 1, X.shape[0]), (j_, 1, taps))
        return Sum(comp(W, row, t_) * comp(X, col, t_ + tap - 1), (t_, 1, W.shape[1]))


class Flip(_Node):
    """flip(K): taps reversed, channel axes swapped."""

    @property
    def shape(self):
        K, taps = self.args
        return K.shape[1] / taps, K.shape[0] * taps

    def component(self, row, col, tap):
        K, taps = self.args
        return comp(K, col, row, taps + 1 - tap)


class Pad(_Node):
    """pad(G, w): w zero columns on each side of G."""

    @property
    def shape(self):
        G, w = self.args
        return G.shape[0], G.shape[1] + 2 * w

    def component(self, row, col):
        G, w = self.args
        return comp(G, row, col - w) * Inside(col - w, 1, G.shape[1])


class Spread(_Node):
    """G ⊗ 𝟏ᵀ_p at n columns: column u of G repeated over window u."""

    @property
    def shape(self):
        return self.args[0].shape[0], self.args[2]

    def component(self, row, col):
        G, p, _ = self.args
        return comp(G, row, floor((col - 1) / p) + 1) * Inside(col, 1, p * G.shape[1])


class Scatter(_Node):
    """Each G[c, u] sent to the position its window's one-hot mask S[c, u, ·] selects."""

    @property
    def shape(self):
        return self.args[0].shape[0], self.args[3]

    def component(self, row, col):
        G, S, p, _ = self.args
        window = floor((col - 1) / p) + 1
        return (comp(G, row, window) * comp(S, row, window, col - p * (window - 1))
                * Inside(col, 1, p * G.shape[1]))


class Unflatten(_Node):
    """A column of C·N entries as C × N, channel by channel."""

    @property
    def shape(self):
        return self.args[1], self.args[2]

    def component(self, row, col):
        g, _, positions = self.args
        return IndexedBase(g)[(row - 1) * positions + col]


class Pool(_Node):
    """pool(A): windows of p columns, stride p, n windows; the mean of each (``S`` = 0)
    or the entry its one-hot mask S[c, u, ·] selects (the first maximum)."""

    @property
    def shape(self):
        return self.args[0].shape[0], self.args[2]

    def component(self, row, col):
        A, p, _, S = self.args
        at = p * (col - 1) + j_
        if S == 0:
            return Sum(comp(A, row, at), (j_, 1, p)) / p
        return Sum(comp(S, row, col, j_) * comp(A, row, at), (j_, 1, p))


class Flatten(_Node):
    """vec(Z): the C × N positions as one column, channel by channel."""

    @property
    def shape(self):
        rows, cols = self.args[0].shape
        return rows * cols, 1

    def component(self, row, col=None):
        Z = self.args[0]
        positions = Z.shape[1]
        return comp(Z, floor((row - 1) / positions) + 1, row - positions * floor((row - 1) / positions))
