"""The matrix nodes of a 2-D convolution (SPEC §1c), each readable componentwise and
evaluable entry by entry.

An image quantity (C channels, N rows, N' columns) is a matrix symbol C × N N' read with
three indices ``Z[c, y, x]`` (column (y − 1) N' + x: row-major, as PyTorch's (C, H, W)
flattened). A kernel K_l (C_l × C_{l-1} × κ × κ) is the matrix C_l × C_{l-1}κ² read with
four, ``K[o, c, u, v]``. A max pooling's one-hot mask S (C × U V p²) is read with five,
``S[c, u, v, i, j]``: window (u, v), offset (i, j). Each node carries the column count
of the image it reads (``cols``), so its rows are its entries divided by it.

* ``Corr2(X, W, κ, cols)``: with a kernel W, ``[o, y, x] = Σ_c Σ_u Σ_v W[o, c, u, v]
  X[c, y + u − 1, x + v − 1]``; with a matrix W (the cotangent G of the output),
  ``[o, c, u, v] = Σ_y Σ_x G[o, y, x] X[c, y + u − 1, x + v − 1]`` (a kernel's gradient).
* ``Flip2(K, κ)``: ``[c, o, u, v] = K[o, c, κ + 1 − u, κ + 1 − v]``.
* ``Pad2(G, w, cols)``: w zero rows and columns on every side of each channel's image.
* ``Pool2(A, p, rows, cols, cols_in, S)``: windows p × p, stride p: the mean (S = 0) or
  the entry the mask selects.
* ``Spread2(G, p, cols, rows_out, cols_out)``: each G[c, u, v] / p² over its window,
  zero outside the windows (a mean pooling's cotangent).
* ``Scatter2(G, S, p, cols, rows_out, cols_out)``: each G[c, u, v] to the entry its
  mask selects (a max pooling's cotangent).
* ``Total2(G, cols)``: each channel's sum over its image (a bias's gradient).
* ``Flatten2(Z, cols)`` / ``Unflatten2(g, C, rows, cols)``: channel by channel, row by row.

>>> from derive.ir.nodes import Var
>>> Z, K = Var("zi", 0, 1, 20), Var("K2", 1, 2, 4)
>>> Corr2(Z, K, 2, 5).shape
(2, 12)
"""
from sympy import Basic, IndexedBase, Matrix, Sum, Symbol, floor
from sympy.core.sympify import _sympify
from sympy.matrices.expressions.matexpr import MatrixExpr

from .conv import Inside

#: the summation indices the components introduce (distinct from the free ones)
c2, u2, v2, y2, x2 = (Symbol(name, integer=True, positive=True)
                      for name in ("c_", "u_", "v_", "y_", "x_"))


def comp(M, *idx):
    if hasattr(M, "component"):
        return M.component(*idx)
    return IndexedBase(M)[idx]


def is_kernel2(W):
    return isinstance(W, Flip2) or getattr(W, "kind", "") == "K2"


class _Node(MatrixExpr):
    def __new__(cls, *args):
        return Basic.__new__(cls, *(_sympify(a) for a in args))

    def _sympystr(self, printer):
        mats = [printer._print(a) for a in self.args if getattr(a, "is_Matrix", False)]
        return f"{type(self).__name__.lower()[:-1]}({', '.join(mats)})"

    _textprint = _sympystr


def _rows(M, cols):
    return M.shape[1] / cols


class Corr2(_Node):
    """The valid 2-D cross-correlation (module docstring)."""

    @property
    def shape(self):
        X, W, taps, cols = self.args
        if is_kernel2(W):
            return W.shape[0], (_rows(X, cols) - taps + 1) * (cols - taps + 1)
        return W.shape[0], X.shape[0] * taps ** 2

    def component(self, row, *idx):
        X, W, taps, cols = self.args
        if is_kernel2(W):
            y, x = idx
            body = comp(W, row, c2, u2, v2) * comp(X, c2, y + u2 - 1, x + v2 - 1)
            return Sum(body, (c2, 1, X.shape[0]), (u2, 1, taps), (v2, 1, taps))
        c, u, v = idx
        body = comp(W, row, y2, x2) * comp(X, c, y2 + u - 1, x2 + v - 1)
        return Sum(body, (y2, 1, _rows(X, cols) - taps + 1), (x2, 1, cols - taps + 1))

    def explicit(self, ev):
        X, W, taps, cols = ev(self.args[0]), ev(self.args[1]), int(self.args[2]), \
            int(self.args[3])
        rows = X.cols // cols
        at = lambda c, y, x: X[c, y * cols + x]      # noqa: E731
        oy, ox = rows - taps + 1, cols - taps + 1
        if is_kernel2(self.args[1]):
            return Matrix(W.rows, oy * ox, lambda o, t: sum(
                W[o, (c * taps + u) * taps + v] * at(c, t // ox + u, t % ox + v)
                for c in range(X.rows) for u in range(taps) for v in range(taps)))
        return Matrix(W.rows, X.rows * taps * taps, lambda o, cuv: sum(
            W[o, y * ox + x] * at(cuv // taps ** 2, y + cuv // taps % taps, x + cuv % taps)
            for y in range(oy) for x in range(ox)))


class Flip2(_Node):
    """Both spatial axes of a kernel reversed, its channel axes swapped."""

    @property
    def shape(self):
        K, taps = self.args
        return K.shape[1] / taps ** 2, K.shape[0] * taps ** 2

    def component(self, row, col, u, v):
        K, taps = self.args
        return comp(K, col, row, taps + 1 - u, taps + 1 - v)

    def explicit(self, ev):
        K, taps = ev(self.args[0]), int(self.args[1])
        t2 = taps * taps
        return Matrix(K.cols // t2, K.rows * t2, lambda c, ouv: K[
            ouv // t2, c * t2 + (taps - 1 - ouv // taps % taps) * taps + taps - 1 - ouv % taps])


class Pad2(_Node):
    """w zero rows and columns around each channel's image."""

    @property
    def shape(self):
        G, w, cols = self.args
        return G.shape[0], (_rows(G, cols) + 2 * w) * (cols + 2 * w)

    def component(self, c, y, x):
        G, w, cols = self.args
        return (comp(G, c, y - w, x - w) * Inside(y - w, 1, _rows(G, cols))
                * Inside(x - w, 1, cols))

    def explicit(self, ev):
        G, w, cols = ev(self.args[0]), int(self.args[1]), int(self.args[2])
        rows, wide = G.cols // cols, cols + 2 * w

        def value(c, t):
            y, x = t // wide - w, t % wide - w
            return G[c, y * cols + x] if 0 <= y < rows and 0 <= x < cols else 0
        return Matrix(G.rows, (rows + 2 * w) * wide, value)


class Pool2(_Node):
    """p × p windows, stride p, rows × cols of them: the mean, or the masked entry."""

    @property
    def shape(self):
        return self.args[0].shape[0], self.args[2] * self.args[3]

    def component(self, c, u, v):
        A, p, _, _, _, S = self.args
        entry = comp(A, c, p * (u - 1) + y2, p * (v - 1) + x2)
        if S == 0:
            return Sum(entry, (y2, 1, p), (x2, 1, p)) / p ** 2
        return Sum(comp(S, c, u, v, y2, x2) * entry, (y2, 1, p), (x2, 1, p))

    def explicit(self, ev):
        A, p, rows, cols, cols_in = (ev(self.args[0]), *map(int, self.args[1:5]))
        S = None if self.args[5] == 0 else ev(self.args[5])

        def value(c, t):
            u, v = divmod(t, cols)
            cells = [((u * cols + v) * p * p + i * p + j, (u * p + i) * cols_in + v * p + j)
                     for i in range(p) for j in range(p)]
            if S is None:
                return sum(A[c, at] for _, at in cells) / p ** 2
            return sum(S[c, s] * A[c, at] for s, at in cells)
        return Matrix(A.rows, rows * cols, value)


def _window(y, p):
    return floor((y - 1) / p) + 1


class Spread2(_Node):
    """Each G[c, u, v] / p² over window (u, v); zero outside the windows."""

    @property
    def shape(self):
        G, _, _, rows, cols = self.args
        return G.shape[0], rows * cols

    def component(self, c, y, x):
        G, p, cols, _, _ = self.args
        return (comp(G, c, _window(y, p), _window(x, p)) * Inside(y, 1, p * _rows(G, cols))
                * Inside(x, 1, p * cols) / p ** 2)

    def explicit(self, ev):
        G, p, cols, rows_out, cols_out = (ev(self.args[0]), *map(int, self.args[1:]))
        return Matrix(G.rows, rows_out * cols_out, lambda c, t: _spread(
            G, None, p, cols, c, t // cols_out, t % cols_out))


class Scatter2(_Node):
    """Each G[c, u, v] to the entry of window (u, v) its one-hot mask selects."""

    @property
    def shape(self):
        G, _, _, _, rows, cols = self.args
        return G.shape[0], rows * cols

    def component(self, c, y, x):
        G, S, p, cols, _, _ = self.args
        u, v = _window(y, p), _window(x, p)
        return (comp(G, c, u, v) * comp(S, c, u, v, y - p * (u - 1), x - p * (v - 1))
                * Inside(y, 1, p * _rows(G, cols)) * Inside(x, 1, p * cols))

    def explicit(self, ev):
        G, S = ev(self.args[0]), ev(self.args[1])
        p, cols, rows_out, cols_out = map(int, self.args[2:])
        return Matrix(G.rows, rows_out * cols_out, lambda c, t: _spread(
            G, S, p, cols, c, t // cols_out, t % cols_out))


def _spread(G, S, p, cols, c, y, x):
    """G[c, window of (y, x)] (times the mask's entry), 0 outside every window."""
    u, v = y // p, x // p
    if u >= G.cols // cols or v >= cols:
        return 0
    value = G[c, u * cols + v]
    return value / p ** 2 if S is None else value * S[c, (u * cols + v) * p * p + (y % p) * p + x % p]


class Total2(_Node):
    """Each channel's sum over its image: C × 1."""

    @property
    def shape(self):
        return self.args[0].shape[0], 1

    def component(self, c, col=None):
        G, cols = self.args
        return Sum(comp(G, c, y2, x2), (y2, 1, _rows(G, cols)), (x2, 1, cols))

    def explicit(self, ev):
        G = ev(self.args[0])
        return Matrix(G.rows, 1, lambda c, _: sum(G.row(c)))


class Flatten2(_Node):
    """The C × N N' image as one column, channel by channel, row by row."""

    @property
    def shape(self):
        rows, cols = self.args[0].shape
        return rows * cols, 1

    def component(self, row, col=None):
        Z, cols = self.args
        size = Z.shape[1]
        c = floor((row - 1) / size)
        t = row - 1 - size * c
        return comp(Z, c + 1, floor(t / cols) + 1, t - cols * floor(t / cols) + 1)

    def explicit(self, ev):
        Z = ev(self.args[0])
        return Matrix(Z.rows * Z.cols, 1, lambda r, _: Z[r // Z.cols, r % Z.cols])


class Unflatten2(_Node):
    """A column of C N N' entries back to the C × N N' image."""

    @property
    def shape(self):
        g, channels, rows, cols = self.args
        return channels, rows * cols

    def component(self, c, y, x):
        g, _, rows, cols = self.args
        return IndexedBase(g)[(c - 1) * rows * cols + (y - 1) * cols + x]

    def explicit(self, ev):
        g = ev(self.args[0])
        channels, rows, cols = map(int, self.args[1:])
        return Matrix(channels, rows * cols, lambda c, t: g[c * rows * cols + t, 0])
