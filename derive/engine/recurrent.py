"""The op rows of a recurrent cell (SPEC §1c): what the tanh (Elman), LSTM and GRU cells
are made of besides the dense and activation rows of `derive.engine.ops`.

One step t of each cell, with the shared weights read at every step (PyTorch's gate
equations, one bias per gate; h_0 and c_0 are the initial state)::

    recurrent:    a_t = W h_{t-1} + U x_t + b            (the Elman cell, and every gate)
    hadamard:     y = p ⊙ q                              (o_t ⊙ tanh(c_t), r_t ⊙ m_t)
    gated_sum:    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t        (the LSTM's cell path)
    affine_plus:  y = U x_t + b + v                      (the GRU's U_n x_t + b_n + r_t ⊙ m_t)
    interpolate:  h_t = (1 − u_t) ⊙ n_t + u_t ⊙ h_{t-1}  (the GRU's interpolation)
    loss_add:     J_t = J_{t-1} + ℓ_t                    (the loss summed over the steps)

Each row's claimed VJPs are the textbook ones (through W h: Wᵀ G into h and G hᵀ into W;
through a Hadamard product: G times the other factor; through the interpolation:
G ⊙ (h_{t-1} − n_t) into the gate, G ⊙ (1 − u_t) into n_t and G ⊙ u_t into h_{t-1}), and
`derive.engine.vjp` checks each against the VJP it derives from the index forward. The
rows are single-sequence (``batched=False``). ``loss_add`` has no differentiable input:
the loss rows it adds ignore their output's cotangent, which is 1 through a sum.
"""
from sympy import OneMatrix, Sum
from sympy.matrices.expressions import HadamardProduct, Transpose

from ..ir.nodes import component
from ..vocab import LOSS, j
from .ops import defop

#: the rows of this module, in the order of the module docstring
RECURRENT_OPS = ("recurrent", "hadamard", "gated_sum", "affine_plus", "interpolate",
                 "loss_add")


def _c(b, port, row, sample):
    return b.sh.comp(b[port], row, sample)


def _product(b, W, x, row, sample):
    """Σ_j W_{row,j} x_j."""
    return Sum(component(b[W], row, j) * _c(b, x, j, sample), (j, 1, b[x].shape[0]))


def recurrent_index(b, row, sample, wrt=None):
    """a_row = Σ_j W_{row,j} h_j + Σ_j U_{row,j} x_j + b_row."""
    return _product(b, "W", "h", row, sample) + _product(b, "U", "x", row, sample) \
        + _c(b, "b", row, None)


defop("recurrent", "y", ("W", "h", "U", "x", "b"), recurrent_index,
      lambda b: b["W"] * b["h"] + b["U"] * b["x"] + b["b"],
      {"y": ("at", 0), "W": ("Wh", 0), "h": ("ht", -1), "U": ("Uh", 0), "x": ("xt", 0),
       "b": ("bh", 0)}, batched=False,
      W=lambda b, G: G * Transpose(b["h"]), h=lambda b, G: Transpose(b["W"]) * G,
      U=lambda b, G: G * Transpose(b["x"]), x=lambda b, G: Transpose(b["U"]) * G,
      b=lambda b, G: G)

defop("hadamard", "y", ("p", "q"),
      lambda b, row, sample, wrt=None: _c(b, "p", row, sample) * _c(b, "q", row, sample),
      lambda b: HadamardProduct(b["p"], b["q"]),
      {"y": ("ht", 0), "p": ("go", 0), "q": ("kt", 0)}, batched=False,
      p=lambda b, G: HadamardProduct(G, b["q"]), q=lambda b, G: HadamardProduct(G, b["p"]))


def gated_sum_index(b, row, sample, wrt=None):
    """c_row = f_row c'_row + i_row g_row."""
    return _c(b, "f", row, sample) * _c(b, "c", row, sample) \
        + _c(b, "i", row, sample) * _c(b, "g", row, sample)


defop("gated_sum", "y", ("f", "c", "i", "g"), gated_sum_index,
      lambda b: HadamardProduct(b["f"], b["c"]) + HadamardProduct(b["i"], b["g"]),
      {"y": ("ct", 0), "f": ("gf", 0), "c": ("ct", -1), "i": ("gi", 0), "g": ("gg", 0)},
      batched=False,
      f=lambda b, G: HadamardProduct(G, b["c"]), c=lambda b, G: HadamardProduct(G, b["f"]),
      i=lambda b, G: HadamardProduct(G, b["g"]), g=lambda b, G: HadamardProduct(G, b["i"]))


def affine_plus_index(b, row, sample, wrt=None):
    """y_row = Σ_j U_{row,j} x_j + b_row + v_row."""
    return _product(b, "U", "x", row, sample) + _c(b, "b", row, None) + _c(b, "v", row, sample)


defop("affine_plus", "y", ("U", "x", "b", "v"), affine_plus_index,
      lambda b: b["U"] * b["x"] + b["b"] + b["v"],
      {"y": ("a_n", 0), "U": ("U_n", 0), "x": ("xt", 0), "b": ("b_n", 0), "v": ("qt", 0)},
      batched=False,
      U=lambda b, G: G * Transpose(b["x"]), x=lambda b, G: Transpose(b["U"]) * G,
      b=lambda b, G: G, v=lambda b, G: G)


def _complement(u):
    """1 − u, with 1 the ones column of u's shape."""
    return OneMatrix(*u.shape) - u


def interpolate_index(b, row, sample, wrt=None):
    """h_row = (1 − u_row) n_row + u_row h'_row."""
    u = _c(b, "u", row, sample)
    return (1 - u) * _c(b, "n", row, sample) + u * _c(b, "h", row, sample)


defop("interpolate", "y", ("u", "n", "h"), interpolate_index,
      lambda b: HadamardProduct(_complement(b["u"]), b["n"]) + HadamardProduct(b["u"], b["h"]),
      {"y": ("ht", 0), "u": ("gu", 0), "n": ("gn", 0), "h": ("ht", -1)}, batched=False,
      u=lambda b, G: HadamardProduct(G, b["h"] - b["n"]),
      n=lambda b, G: HadamardProduct(G, _complement(b["u"])),
      h=lambda b, G: HadamardProduct(G, b["u"]))


def _running(b):
    """J_{t-1} as its 1×1 quantity (a port bound to the loss J reads as the symbol J)."""
    q = b.q("s")
    return b.sh.var(q.kind, q.layer)


defop("loss_add", "J", (),
      lambda b, row=None, sample=None, wrt=None: component(_running(b), 1) + component(b["e"], 1),
      lambda b: _running(b) + b["e"],
      {"J": (LOSS.name, 0), "s": (LOSS.name, -1), "e": ("lt", 0)}, scalar=True, last=True,
      batched=False)
