"""The op rows of a 1-D convolutional network (SPEC §1c): the convolution, max and mean
pooling, and the flattening into the dense head.

A convolutional layer l computes, positions as columns (one sequence per call)::

    H_l = corr(Z_{l-1}, K_l) + b_l 𝟏ᵀ      conv1d:  H[o, t] = b[o] + Σ_c Σ_{j=1}^{κ} K[o, c, j] Z[c, t + j − 1]
    A_l = σ(H_l)                           the activation row of `derive.engine.ops`
    Z_l = pool(A_l)                        avg_pool: Z[c, u] = (1/p) Σ_{j=1}^{p} A[c, p(u − 1) + j]
                                           max_pool: Z[c, u] = Σ_j S[c, u, j] A[c, p(u − 1) + j]
    f_c = flatten(Z_c)                     f[(c − 1) N + t] = Z[c, t]  (a network binds it
                                           to z_{c+1}, the dense head's input)

Max pooling is written through its one-hot mask S (the first maximum of each window,
as PyTorch): S is piecewise constant in A, so the gradient flows through the selected
entry only. Each row's claims (`derive.ir.conv`) are the textbook ones — through a
convolution, the full correlation of G with the flipped kernel; into the kernel, the
correlation of the input with G; into the bias, G's row sums — and `derive.engine.vjp`
checks them against the VJPs it derives from the index forwards (the shifted Kronecker
deltas contracted with their limits, `derive.calculus.kronecker.shifted_kronecker`).
The rows are single-sequence (`batched=False`).
"""
from sympy import IndexedBase, KroneckerDelta, OneMatrix, S, Sum, Symbol

from ..ir.conv import Corr, Flatten, Flip, Pad, Pool, Scatter, Spread, Unflatten
from ..ir.nodes import component
from .ops import defop

c_, j_, t_ = (Symbol(name, integer=True, positive=True) for name in ("c_", "j_", "t_"))

#: the op rows a convolutional block may call, besides an activation
CONV_OPS = ("conv1d", "max_pool", "avg_pool", "flatten")
POOL_OPS = {"max": "max_pool", "avg": "avg_pool"}


def _at(var, *idx):
    return IndexedBase(var)[idx]


def conv_index(b, row, col, wrt=None):
    """H[row, col] = b[row] + Σ_c Σ_{j=1}^{κ} K[row, c, j] Z[c, col + j − 1]."""
    Z, K = b["x"], b["K"]
    body = _at(K, row, c_, j_) * _at(Z, c_, col + j_ - 1)
    return Sum(body, (c_, 1, Z.shape[0]), (j_, 1, b.sh.kernel)) + component(b["b"], row)


def conv_matrix(b):
    """corr(Z, K) + b 𝟏ᵀ."""
    H = b["y"]
    return Corr(b["x"], b["K"], b.sh.kernel) + b["b"] * OneMatrix(1, H.shape[1])


defop("conv1d", "y", ("K", "x", "b"), conv_index, conv_matrix,
      {"y": ("hc", 0), "K": ("K", 0), "x": ("zc", -1), "b": ("b", 0)}, batched=False,
      K=lambda b, G: Corr(b["x"], G, b.sh.kernel),
      x=lambda b, G: Corr(Pad(G, b.sh.kernel - 1), Flip(b["K"], b.sh.kernel), b.sh.kernel),
      b=lambda b, G: G * OneMatrix(G.shape[1], 1))


def avg_index(b, row, col, wrt=None):
    """Z[row, col] = (1/p) Σ_{j=1}^{p} A[row, p(col − 1) + j]."""
    p = b.sh.pool
    return Sum(_at(b["x"], row, p * (col - 1) + j_), (j_, 1, p)) / p


def max_index(b, row, col, wrt=None):
    """Z[row, col] = Σ_{j=1}^{p} S[row, col, j] A[row, p(col − 1) + j] (S one-hot)."""
    p = b.sh.pool
    return Sum(_at(b["S"], row, col, j_) * _at(b["x"], row, p * (col - 1) + j_), (j_, 1, p))


_POOL_PORTS = {"y": ("zc", 0), "x": ("ac", 0)}
defop("avg_pool", "y", ("x",), avg_index,
      lambda b: Pool(b["x"], b.sh.pool, b["y"].shape[1], S.Zero), _POOL_PORTS,
      batched=False,
      x=lambda b, G: Spread(G, b.sh.pool, b["x"].shape[1]) / b.sh.pool)
defop("max_pool", "y", ("x",), max_index,
      lambda b: Pool(b["x"], b.sh.pool, b["y"].shape[1], b["S"]), dict(_POOL_PORTS, S=("S", 0)),
      batched=False,
      x=lambda b, G: Scatter(G, b["S"], b.sh.pool, b["x"].shape[1]))


def flatten_index(b, row, col=None, wrt=None):
    """f[row] = Σ_c Σ_t Z[c, t] δ(row, (c − 1) N + t): channel-major."""
    Z = b["x"]
    C, N = Z.shape
    return Sum(_at(Z, c_, t_) * KroneckerDelta(row, (c_ - 1) * N + t_), (c_, 1, C), (t_, 1, N))


defop("flatten", "y", ("x",), flatten_index, lambda b: Flatten(b["x"]),
      {"y": ("f", 0), "x": ("zc", 0)}, batched=False,
      x=lambda b, G: Unflatten(G, *b["x"].shape))
