"""The op rows of a 2-D convolutional network (SPEC §1c): the 2-D correlation, max and
mean pooling over p × p windows, and the flattening into the dense head.

An image is C × N N' (`derive.ir.conv2d`: read [c, y, x]). Layer l computes::

    H[o, y, x] = b[o] + Σ_c Σ_{u=1}^{κ} Σ_{v=1}^{κ} K[o, c, u, v] Z[c, y + u − 1, x + v − 1]
    A = σ(H)                                 (the activation rows, on the whole matrix)
    avg_pool2d:  Z[c, u, v] = (1/p²) Σ_i Σ_j A[c, p(u − 1) + i, p(v − 1) + j]
    max_pool2d:  Z[c, u, v] = Σ_i Σ_j S[c, u, v, i, j] A[c, p(u − 1) + i, p(v − 1) + j]
    flatten2d:   f[(c − 1) N N' + (y − 1) N' + x] = Z[c, y, x]

with S the one-hot mask of each window's first maximum (row by row, as PyTorch). The
claims — through a convolution, the full correlation of G with the flipped kernel; into
the kernel, the correlation of the input with G; into the bias, G's row sums; through a
pooling, G spread over (or sent to the maximum of) each window; through the flattening,
the column read back as an image — are checked by `derive.engine.vjp` against the VJPs
it derives from these index forms. The rows are single-image (``batched=False``).
"""
from sympy import IndexedBase, KroneckerDelta, Matrix, OneMatrix, Sum, Symbol

from ..ir.activations import realize
from ..ir.conv2d import (
    Corr2,
    Flatten2,
    Flip2,
    Pad2,
    Pool2,
    Scatter2,
    Spread2,
    Total2,
    Unflatten2,
)
from ..ir.nodes import component
from ..ir.quantities import IMAGE_DIMS
from ..vocab import j
from .ops import defop

DIGITS = 30
c_, u_, v_, i_, j_ = (Symbol(name, integer=True, positive=True)
                      for name in ("c_", "u_", "v_", "i_", "j_"))

#: the op rows a 2-D convolutional block may call, besides an activation
CONV2D_OPS = ("conv2d", "max_pool2d", "avg_pool2d", "flatten2d")


def _at(var, *idx):
    return IndexedBase(var)[idx]


def image(b, port):
    """(rows, columns) of the image bound to ``port``."""
    q = b.q(port)
    return IMAGE_DIMS[q.kind](b.sh, q.layer)


def _yx(col):
    """An image component's (row, column): ``col`` is the pair; a single index (as the
    proof record's hash reads every row at (i, r)) is read with column j."""
    return col if isinstance(col, tuple) else (col, j)


def conv2d_index(b, row, col, wrt=None):
    """H[row, y, x] = b[row] + Σ_c Σ_u Σ_v K[row, c, u, v] Z[c, y + u − 1, x + v − 1]."""
    (y, x), Z, K, taps = _yx(col), b["x"], b["K"], b.sh.kernel
    body = _at(K, row, c_, u_, v_) * _at(Z, c_, y + u_ - 1, x + v_ - 1)
    return Sum(body, (c_, 1, Z.shape[0]), (u_, 1, taps), (v_, 1, taps)) + \
        component(b["b"], row)


def conv2d_matrix(b):
    """corr(Z, K) + b 𝟏ᵀ."""
    cols = image(b, "x")[1]
    return Corr2(b["x"], b["K"], b.sh.kernel, cols) + b["b"] * OneMatrix(1, b["y"].shape[1])


def _conv2d_x(b, G):
    """corr(pad(G, κ − 1), flip(K)): the full correlation with the flipped kernel."""
    taps, cols = b.sh.kernel, image(b, "y")[1]
    return Corr2(Pad2(G, taps - 1, cols), Flip2(b["K"], taps), taps, cols + 2 * (taps - 1))


defop("conv2d", "y", ("K", "x", "b"), conv2d_index, conv2d_matrix,
      {"y": ("hi", 0), "K": ("K2", 0), "x": ("zi", -1), "b": ("b", 0)}, batched=False,
      K=lambda b, G: Corr2(b["x"], G, b.sh.kernel, image(b, "x")[1]),
      x=_conv2d_x,
      b=lambda b, G: Total2(G, image(b, "y")[1]))


def _window(b, row, col, body):
    (u, v), p = _yx(col), b.sh.pool
    A = b["x"]
    entry = _at(A, row, p * (u - 1) + i_, p * (v - 1) + j_)
    return Sum(body(entry), (i_, 1, p), (j_, 1, p))


def avg2_index(b, row, col, wrt=None):
    """Z[row, u, v] = (1/p²) Σ_i Σ_j A[row, p(u − 1) + i, p(v − 1) + j]."""
    return _window(b, row, col, lambda entry: entry) / b.sh.pool ** 2


def max2_index(b, row, col, wrt=None):
    """Z[row, u, v] = Σ_i Σ_j S[row, u, v, i, j] A[row, p(u − 1) + i, p(v − 1) + j]."""
    (u, v) = _yx(col)
    return _window(b, row, col, lambda entry: _at(b["S"], row, u, v, i_, j_) * entry)


def _pool2(b, mask):
    (rows, cols), (_, cols_in) = image(b, "y"), image(b, "x")
    return Pool2(b["x"], b.sh.pool, rows, cols, cols_in, mask)


def _spread2(b, G, mask=None):
    (_, cols), (rows_in, cols_in) = image(b, "y"), image(b, "x")
    if mask is None:
        return Spread2(G, b.sh.pool, cols, rows_in, cols_in)
    return Scatter2(G, mask, b.sh.pool, cols, rows_in, cols_in)


_POOL_PORTS = {"y": ("zi", 0), "x": ("ai", 0)}
defop("avg_pool2d", "y", ("x",), avg2_index, lambda b: _pool2(b, 0), _POOL_PORTS,
      batched=False, x=lambda b, G: _spread2(b, G))
defop("max_pool2d", "y", ("x",), max2_index, lambda b: _pool2(b, b["S"]),
      dict(_POOL_PORTS, S=("Si", 0)), batched=False,
      x=lambda b, G: _spread2(b, G, b["S"]))


def flatten2_index(b, row, col=None, wrt=None):
    """f[row] = Σ_c Σ_y Σ_x Z[c, y, x] δ(row, (c − 1) N N' + (y − 1) N' + x)."""
    Z = b["x"]
    rows, cols = image(b, "x")
    place = (c_ - 1) * rows * cols + (u_ - 1) * cols + v_
    return Sum(_at(Z, c_, u_, v_) * KroneckerDelta(row, place), (c_, 1, Z.shape[0]),
               (u_, 1, rows), (v_, 1, cols))


defop("flatten2d", "y", ("x",), flatten2_index,
      lambda b: Flatten2(b["x"], image(b, "x")[1]),
      {"y": ("f2", 0), "x": ("zi", 0)}, batched=False,
      x=lambda b, G: Unflatten2(G, b["x"].shape[0], *image(b, "x")))


def first_max2(net, call, env, point):
    """The one-hot mask (C × U V p², [c, ((u V + v) p + i) p + j]) of each p × p window's
    first maximum, row by row, of the pooled image at ``point`` (as PyTorch routes a
    max pooling's gradient)."""
    x, layer = call.args["x"], int(call.out.layer)
    A, p = env[(x.kind, int(x.layer))], net.pool_size
    cols_in = net.images[layer - 1][1] - net.kernel + 1
    rows, cols = net.images[layer]
    values = A.xreplace(point).applyfunc(lambda v: realize(v).evalf(DIGITS))
    mask = Matrix.zeros(A.rows, rows * cols * p * p)
    for c in range(A.rows):
        for u in range(rows):
            for v in range(cols):
                window = [values[c, (u * p + i) * cols_in + v * p + j]
                          for i in range(p) for j in range(p)]
                mask[c, (u * cols + v) * p * p + window.index(max(window))] = 1
    return mask
