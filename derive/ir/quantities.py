"""The quantity table: what every kind of quantity a network names *is*, written once.

One `Kind` row per kind (W, b, h, z, γ, β, μ, v, x̂, ĥ, a, M, δ, x, y, and the views W̄
and z̃ the augmented bias makes): its shape as a function of the sizes, whether it is
trained, an input or computed, on which layers it exists, the notation field it prints
with (or a fixed letter), whether it prints bold, and its claim, text and NumPy names.
`Q(kind, layer, step=None)` names one instance of a kind; `Q.var(sizes)` is its matrix
symbol (`derive.ir.nodes.Var`) at those sizes.

The sizes are anything with ``n(layer)`` (a layer's width), ``m`` (the batch size, 1 for
one sample), ``bias`` (``none``, ``augmented``, ``explicit``) and ``norm`` (``none``,
``layer``, ``batch``): the engine's symbolic `derive.engine.ops.Shapes` and the concrete
`derive.engine.instance.Instance` both are.

>>> from sympy import Symbol
>>> class Sizes:
...     m, bias, norm = Symbol("m"), "augmented", "layer"
...     def n(self, layer):
...         return Symbol(f"n_{layer}")
>>> KINDS["W"].shape(Sizes(), 2), KINDS["mu"].shape(Sizes(), 2)
((n_2, n_1 + 1), (1, m))
>>> Q("gamma", 1).var(Sizes())
gamma_1
>>> [k.name for k in KINDS.values() if k.role == "trained"][:6]
['W', 'b', 'gamma', 'beta', 'K', 'K2']
"""
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple

from sympy import Symbol

from ..vocab import KEY_WIDTH, MLP_WIDTH, MODEL_WIDTH, OUT_WIDTH, TOKENS
from .nodes import Var

#: what a quantity is to the network: learned, given, or computed from the others
ROLES = ("trained", "input", "computed")
#: on which layers a kind exists (before the options say whether the network has it)
WHERE = ("every", "hidden", "output", "input", "conv", "shared", "time", "token")


@dataclass(frozen=True)
class Kind:
    """One row of the quantity table (see the module docstring)."""

    name: str                 # the engine's key: "W", "hhat"
    shape: Callable           # (sizes, layer) -> (rows, cols)
    role: str                 # one of ROLES
    where: str                # one of WHERE
    needs: str = ""           # the network option it needs: "explicit", "norm", "dropout"
    field: str = ""           # the notation field it prints with ("pre", "weight", …) …
    letter: str = ""          # … or a fixed LaTeX letter; a "{}" in it takes the field's
    bold: bool = True         # a vector (or a matrix of columns): printed bold
    claim: str = ""           # its name in a claim ("W_2", "gamma_1", "hhat_1")
    text: str = ""            # its plain-text letter ("W", "γ", "ĥ")
    numpy: str = ""           # its NumPy variable stem ("W" → W2, "y" → Y)
    indices: str = "samples"  # its index slots: "entries" (a, b), "column" (a), "samples" (k, s),
    #                           "grid" (channel, position), "kernel" (out, in, tap)

    @property
    def trained(self):
        return self.role == "trained"

    def exists(self, net, layer, depth):
        """Whether ``net`` (anything with ``bias``, ``norm``, ``dropout``) has this kind at
        ``layer`` of a network of ``depth`` layers (concrete ints)."""
        convs, cell = getattr(net, "convs", 0), getattr(net, "cell", None)
        place = {"every": 1 <= layer <= depth, "hidden": 1 <= layer < depth,
                 "output": layer == depth, "input": layer == 0,
                 "conv": 1 <= layer <= convs, "shared": layer == 1 and cell is not None,
                 "time": cell is not None and 0 <= layer <= depth,
                 "token": hasattr(net, "tokens")}[self.where]
        option = {"": True, "explicit": net.bias == "explicit",
                  "augmented": net.bias == "augmented", "norm": net.norm != "none",
                  "dropout": net.dropout, "pool": getattr(net, "pool", None) is not None,
                  "max": getattr(net, "pool", None) == "max", "never": False,
                  "tanh": cell == "tanh", "lstm": cell == "lstm", "gru": cell == "gru",
                  "gates": cell in ("lstm", "gru")}[self.needs]
        return place and option


def _aug(sizes):
    return 1 if sizes.bias == "augmented" else 0


def _column(sizes, layer):          # one value per feature: n_l × 1
    return sizes.n(layer), 1


def _per_sample(sizes, layer):      # one column per sample: n_l × m
    return sizes.n(layer), sizes.m


def _statistic(sizes, layer):       # per sample (layer norm) or per feature (batch norm)
    return (sizes.n(layer), 1) if sizes.norm == "batch" else (1, sizes.m)


def _conv_out(sizes, layer):        # a convolution's output: C_l × (N_{l-1} − κ + 1)
    return sizes.n(layer), sizes.length(layer - 1) - sizes.kernel + 1


def _conv_image(sizes, layer):     # a 2-D convolution's output: (N − κ + 1, N' − κ + 1)
    return (sizes.length(layer - 1) - sizes.kernel + 1,
            sizes.columns(layer - 1) - sizes.kernel + 1)


def _prod(pair):
    return pair[0] * pair[1]


def _positions(sizes, layer):       # a convolutional layer's output: C_l × N_l
    return sizes.n(layer), sizes.length(layer)


# --- a recurrent network (SPEC §1c, Network.rnn) ---------------------------------------
# The "layer" slot of Q is the time step t (h_0, c_0 at t = 0 are the initial state); the
# shared weights, read at every step, are ONE quantity at "layer" 1. Sizes n_x, n_h, n_y
# are the widths n[x], n[h], n[y]. A gate's weights are kinds of their own: W_i, U_i, b_i.
N_X, N_H, N_Y = (Symbol(name) for name in ("x", "h", "y"))
#: the gates of each gated cell, and the activation of each gate
GATES = {"lstm": {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"},
         "gru": {"r": "sigmoid", "u": "sigmoid", "n": "tanh"}}


def _hh(s, l):                      # a recurrent weight: n_h × n_h
    return s.n(N_H), s.n(N_H)


def _hx(s, l):                      # an input weight: n_h × n_x
    return s.n(N_H), s.n(N_X)


def _yh(s, l):                      # the readout's weight: n_y × n_h
    return s.n(N_Y), s.n(N_H)


def _nh(s, l):                      # a hidden-sized column: n_h × 1
    return s.n(N_H), 1


def _nx(s, l):
    return s.n(N_X), 1


def _ny(s, l):
    return s.n(N_Y), 1


_RNN = dict(bold=False, indices="entries")
_RECURRENT_ROWS = (
    Kind("Wh", _hh, "trained", "shared", "tanh", letter="W", claim="W", text="W", numpy="W", **_RNN),
    Kind("Uh", _hx, "trained", "shared", "tanh", letter="U", claim="U", text="U", numpy="U", **_RNN),
    Kind("bh", _nh, "trained", "shared", "tanh", letter="b", claim="b", text="b", numpy="b"),
    Kind("V", _yh, "trained", "shared", letter="V", claim="V", text="V", numpy="V", **_RNN),
    Kind("cy", _ny, "trained", "shared", letter="c", claim="c", text="c", numpy="c"),
    Kind("c_n", _nh, "trained", "shared", "gru", letter="c_{n}", claim="c_n", text="c_n",
         numpy="c_n"),
    Kind("xt", _nx, "input", "time", letter="x", claim="x", text="x", numpy="x"),
    Kind("yt", _ny, "input", "time", letter="y", claim="y", text="y", numpy="y"),
    Kind("ht", _nh, "computed", "time", letter="h", claim="h", text="h", numpy="h"),
    Kind("at", _nh, "computed", "time", "tanh", letter="a", claim="a", text="a", numpy="a"),
    Kind("ct", _nh, "computed", "time", "lstm", letter="c", claim="c", text="c", numpy="cs"),
    Kind("kt", _nh, "computed", "time", "lstm", letter="k", claim="k", text="k",
         numpy="k"),        # tanh(c_t)
    Kind("mt", _nh, "computed", "time", "gru", letter="m", claim="m", text="m",
         numpy="m"),        # W_n h_{t-1} + c_n
    Kind("qt", _nh, "computed", "time", "gru", letter="q", claim="q", text="q",
         numpy="q"),        # r_t ⊙ m_t
    Kind("st", _ny, "computed", "time", letter="s", claim="s", text="s", numpy="s"),  # V h_t + c
    Kind("yh", _ny, "computed", "time", letter=r"\hat{y}", claim="yhat", text="ŷ",
         numpy="yhat"),
    Kind("lt", lambda s, l: (1, 1), "computed", "time", letter=r"\ell", bold=False,
         claim="l", text="ℓ", numpy="l"),   # one step's loss ℓ_t
)
#: one gate's rows (the LSTM's input gate i), copied for every gate of GATES
_GATE_ROWS = (
    Kind("W_i", _hh, "trained", "shared", "lstm", letter="W_{i}", claim="W_i", text="W_i",
         numpy="W_i", **_RNN),
    Kind("U_i", _hx, "trained", "shared", "lstm", letter="U_{i}", claim="U_i", text="U_i",
         numpy="U_i", **_RNN),
    Kind("b_i", _nh, "trained", "shared", "lstm", letter="b_{i}", claim="b_i", text="b_i",
         numpy="b_i"),
    Kind("a_i", _nh, "computed", "time", "lstm", letter="a_{i}", claim="a_i", text="a_i",
         numpy="a_i"),                  # the gate's pre-activation W_i h_{t-1} + U_i x_t + b_i
    Kind("gi", _nh, "computed", "time", "lstm", letter="i", claim="i", text="i", numpy="i"),
)


def _gate_row(row, cell, gate):
    """``row`` (of the gate i) for ``gate`` of ``cell``."""
    def named(text):
        return text.replace("i", gate)
    return replace(row, name=named(row.name), needs=cell, letter=named(row.letter),
                   claim=named(row.claim), text=named(row.text), numpy=named(row.numpy))


def _recurrent_rows():
    """The quantity rows of a recurrent network (the block comment above)."""
    return _RECURRENT_ROWS + tuple(_gate_row(row, cell, gate) for cell, gates in GATES.items()
                                   for gate in gates for row in _GATE_ROWS)
def _fixed(shape):                 # a transformer's: the same sizes at every layer
    return lambda sizes, layer: shape


_ROWS = (
    Kind("W", lambda s, l: (s.n(l), s.n(l - 1) + _aug(s)), "trained", "every",
         field="weight", bold=False, claim="W", text="W", numpy="W", indices="entries"),
    Kind("b", _column, "trained", "every", "explicit", field="bias", claim="b", text="b",
         numpy="b", indices="column"),
    Kind("gamma", _column, "trained", "hidden", "norm", letter=r"\gamma", claim="gamma",
         text="γ", numpy="gamma", indices="column"),
    Kind("beta", _column, "trained", "hidden", "norm", letter=r"\beta", claim="beta",
         text="β", numpy="beta", indices="column"),
    Kind("M", _per_sample, "input", "hidden", "dropout", letter="M", bold=False, claim="M",
         text="M", numpy="M"),
    Kind("y", _per_sample, "input", "output", field="target", claim="y", text="y", numpy="Y"),
    Kind("x", _per_sample, "input", "input", field="input", claim="x", text="x", numpy="X"),
    Kind("h", _per_sample, "computed", "every", field="pre", claim="h", text="h", numpy="h"),
    Kind("z", _per_sample, "computed", "every", field="post", claim="z", text="z", numpy="z"),
    Kind("mu", _statistic, "computed", "hidden", "norm", letter=r"\mu", bold=False,
         claim="mu", text="μ", numpy="mu"),
    Kind("var", _statistic, "computed", "hidden", "norm", letter="v", bold=False,
         claim="var", text="v", numpy="var"),
    Kind("xhat", _per_sample, "computed", "hidden", "norm", letter=r"\hat{x}", claim="xhat",
         text="x̂", numpy="xhat"),
    Kind("hhat", _per_sample, "computed", "hidden", "norm", field="pre", letter=r"\hat{{{}}}",
         claim="hhat", text="ĥ", numpy="hhat"),
    Kind("a", _per_sample, "computed", "hidden", field="activated", claim="a", text="a",
         numpy="a"),
    Kind("delta", _per_sample, "computed", "every", field="delta", claim="delta", text="δ",
         numpy="delta"),
    Kind("J", lambda s, l: (1, 1), "computed", "output", field="loss", bold=False, claim="J",
         text="J", numpy="J"),
    Kind("Wbar", lambda s, l: (s.n(l), s.n(l - 1)), "computed", "every", "augmented",
         field="weight", letter=r"\bar{{{}}}", bold=False, claim="Wbar", text="W̄",
         numpy="Wbar", indices="entries"),
    # a 1-D convolution (SPEC §1c): the kernel (C_l × C_{l-1} × κ, as C_l × C_{l-1}κ), its
    # output H, the activated A (before a pooling), the layer output Z, a max pooling's
    # one-hot mask S[c, window, offset], and the flatten row's own output f (its proof's
    # binding; a network binds the flattening to z_{c+1}, so no network has an f)
    Kind("K", lambda s, l: (s.n(l), s.n(l - 1) * s.kernel), "trained", "conv", letter="K",
         bold=False, claim="K", text="K", numpy="K", indices="kernel"),
    Kind("hc", _conv_out, "computed", "conv", letter="H", bold=False, claim="H", text="H",
         numpy="H", indices="grid"),
    Kind("ac", _conv_out, "computed", "conv", "pool", letter="A", bold=False, claim="A",
         text="A", numpy="A", indices="grid"),
    Kind("zc", _positions, "computed", "conv", letter="Z", bold=False, claim="Z", text="Z",
         numpy="Z", indices="grid"),
    Kind("S", lambda s, l: (s.n(l), s.length(l) * s.pool), "computed", "conv", "max",
         letter="S", bold=False, claim="S", text="S", numpy="S", indices="kernel"),
    Kind("f", lambda s, l: (s.n(l) * s.length(l), 1), "computed", "conv", "never", letter="f",
         claim="f", text="f", numpy="f"),
    Kind("zaug", lambda s, l: (s.n(l) + 1, s.m), "computed", "every", "augmented",
         field="post", letter=r"\tilde{{{}}}", claim="zaug", text="z̃", numpy="zaug"),
    # --- conv2d (SPEC §1c): images C × N N' read [c, y, x] (row-major), the kernel
    # C_l × C_{l-1}κ² read [o, c, u, v], a max pooling's mask C × N N' p² read
    # [c, u, v, i, j]; the image sizes of each kind are `IMAGE_DIMS`
    Kind("K2", lambda s, l: (s.n(l), s.n(l - 1) * s.kernel ** 2), "trained", "conv",
         letter="K", bold=False, claim="K", text="K", numpy="K", indices="kernel2"),
    Kind("hi", lambda s, l: (s.n(l), _prod(_conv_image(s, l))), "computed", "conv",
         letter="H", bold=False, claim="H", text="H", numpy="H", indices="image"),
    Kind("ai", lambda s, l: (s.n(l), _prod(_conv_image(s, l))), "computed", "conv", "pool",
         letter="A", bold=False, claim="A", text="A", numpy="A", indices="image"),
    Kind("zi", lambda s, l: (s.n(l), s.length(l) * s.columns(l)), "computed", "conv",
         letter="Z", bold=False, claim="Z", text="Z", numpy="Z", indices="image"),
    Kind("f2", lambda s, l: (s.n(l) * s.length(l) * s.columns(l), 1), "computed", "conv",
         "never", letter="f", claim="f", text="f", numpy="f"),
    Kind("Si", lambda s, l: (s.n(l), s.length(l) * s.columns(l) * s.pool ** 2), "computed",
         "conv", "max", letter="S", bold=False, claim="S", text="S", numpy="S",
         indices="mask2"),
    *_recurrent_rows(),
    # a transformer (SPEC §1c, derive.spec.transformer): columns are tokens, fixed sizes
    # d, d_k, T, d_ff, d_y (derive.ir.attention). The layer slot is the block l for the
    # block's quantities, the head slot u = (l − 1)·heads + h for a head's (u = l with one
    # head), and the depth for the output head. Per block: Z_l (Z_0 = X), LN_1's standardized
    # Xs_l and output Xn_l, U_l = Z_{l-1} + the heads' sum, LN_2's Us_l and Un_l,
    # the MLP's P_l = W_1 Un_l + b_1, R_l = σ(P_l) and M_l = W_2 R_l + b_2; per head: Q, K,
    # V, the scores S, the weights A, the head H = V A, its projection Pa = W_O H and the
    # running sum Oa of the heads' projections; the output head Hy, Yh and target Yt.
    Kind("W_Q", _fixed((KEY_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_Q", claim="W_Q",
         text="W_Q", numpy="WQ", indices="entries", bold=False),
    Kind("W_K", _fixed((KEY_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_K", claim="W_K",
         text="W_K", numpy="WK", indices="entries", bold=False),
    Kind("W_V", _fixed((KEY_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_V", claim="W_V",
         text="W_V", numpy="WV", indices="entries", bold=False),
    Kind("W_O", _fixed((MODEL_WIDTH, KEY_WIDTH)), "trained", "token", letter=r"W_O", claim="W_O",
         text="W_O", numpy="WO", indices="entries", bold=False),
    Kind("b_Q", _fixed((KEY_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_Q", claim="b_Q",
         text="b_Q", numpy="bQ", indices="column", bold=False),
    Kind("b_K", _fixed((KEY_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_K", claim="b_K",
         text="b_K", numpy="bK", indices="column", bold=False),
    Kind("b_V", _fixed((KEY_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_V", claim="b_V",
         text="b_V", numpy="bV", indices="column", bold=False),
    Kind("b_O", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_O", claim="b_O",
         text="b_O", numpy="bO", indices="column", bold=False),
    Kind("gamma_1", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\gamma}_1", claim="gamma_1",
         text="γ_1", numpy="gamma1", indices="column", bold=False),
    Kind("beta_1", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\beta}_1", claim="beta_1",
         text="β_1", numpy="beta1", indices="column", bold=False),
    Kind("gamma_2", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\gamma}_2", claim="gamma_2",
         text="γ_2", numpy="gamma2", indices="column", bold=False),
    Kind("beta_2", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\beta}_2", claim="beta_2",
         text="β_2", numpy="beta2", indices="column", bold=False),
    Kind("W_1", _fixed((MLP_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_1", claim="W_1",
         text="W_1", numpy="W1", indices="entries", bold=False),
    Kind("b_1", _fixed((MLP_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_1", claim="b_1",
         text="b_1", numpy="b1", indices="column", bold=False),
    Kind("W_2", _fixed((MODEL_WIDTH, MLP_WIDTH)), "trained", "token", letter=r"W_2", claim="W_2",
         text="W_2", numpy="W2", indices="entries", bold=False),
    Kind("b_2", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_2", claim="b_2",
         text="b_2", numpy="b2", indices="column", bold=False),
    Kind("W_y", _fixed((OUT_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_y", claim="W_y",
         text="W_y", numpy="Wy", indices="entries", bold=False),
    Kind("b_y", _fixed((OUT_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_y", claim="b_y",
         text="b_y", numpy="by", indices="column", bold=False),
    Kind("Zt", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"Z", claim="Z",
         text="Z", numpy="Zt", indices="grid", bold=False),
    Kind("Xs", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\hat{X}", claim="Xhat",
         text="Xhat", numpy="Xs", indices="grid", bold=False),
    Kind("Xn", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"X", claim="X",
         text="X", numpy="Xn", indices="grid", bold=False),
    Kind("Ut", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"U", claim="U",
         text="U", numpy="Ut", indices="grid", bold=False),
    Kind("Us", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\hat{U}", claim="Uhat",
         text="Uhat", numpy="Us", indices="grid", bold=False),
    Kind("Un", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\bar{U}", claim="Ubar",
         text="Ubar", numpy="Un", indices="grid", bold=False),
    Kind("Pm", _fixed((MLP_WIDTH, TOKENS)), "computed", "token", letter=r"P", claim="P",
         text="P", numpy="Pm", indices="grid", bold=False),
    Kind("Rm", _fixed((MLP_WIDTH, TOKENS)), "computed", "token", letter=r"R", claim="R",
         text="R", numpy="Rm", indices="grid", bold=False),
    Kind("Mm", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"M", claim="M",
         text="M", numpy="Mm", indices="grid", bold=False),
    Kind("Qa", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"Q", claim="Q",
         text="Q", numpy="Qa", indices="grid", bold=False),
    Kind("Ka", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"K", claim="K",
         text="K", numpy="Ka", indices="grid", bold=False),
    Kind("Va", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"V", claim="V",
         text="V", numpy="Va", indices="grid", bold=False),
    Kind("Sa", _fixed((TOKENS, TOKENS)), "computed", "token", letter=r"S", claim="S",
         text="S", numpy="Sa", indices="grid", bold=False),
    Kind("Aa", _fixed((TOKENS, TOKENS)), "computed", "token", letter=r"A", claim="A",
         text="A", numpy="Aa", indices="grid", bold=False),
    Kind("Ha", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"H", claim="H",
         text="H", numpy="Ha", indices="grid", bold=False),
    Kind("Pa", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\tilde{H}", claim="Htilde",
         text="Htilde", numpy="Pa", indices="grid", bold=False),
    Kind("Oa", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\tilde{O}", claim="Otilde",
         text="Otilde", numpy="Oa", indices="grid", bold=False),
    Kind("Hy", _fixed((OUT_WIDTH, TOKENS)), "computed", "token", letter=r"H_y", claim="H_y",
         text="H_y", numpy="Hy", indices="grid", bold=False),
    Kind("Yh", _fixed((OUT_WIDTH, TOKENS)), "computed", "token", letter=r"\hat{Y}", claim="Yhat",
         text="Yhat", numpy="Yh", indices="grid", bold=False),
    Kind("Yt", _fixed((OUT_WIDTH, TOKENS)), "input", "token", letter=r"Y", claim="Y",
         text="Y", numpy="Yt", indices="grid", bold=False),
)

KINDS = {row.name: row for row in _ROWS}
#: (rows, columns) of each image kind at (sizes, layer): its columns are rows × columns
IMAGE_DIMS = {"hi": _conv_image, "ai": _conv_image,
              "zi": lambda s, l: (s.length(l), s.columns(l))}
#: the trained kinds, in the order a network lists its parameters
PARAMETERS = tuple(row.name for row in _ROWS if row.trained)
#: the kinds whose columns are samples (the others hold one value per feature or entry)
PER_SAMPLE = tuple(row.name for row in _ROWS if row.shape is _per_sample or row.name == "zaug")


class Q(NamedTuple):
    """One quantity: a kind at a layer (and, for a recurrence, a step).

    >>> Q("W", 2)
    Q(kind='W', layer=2, step=None)
    """

    kind: str
    layer: object
    step: object = None

    @property
    def row(self):
        return KINDS[self.kind]

    def shape(self, sizes):
        return self.row.shape(sizes, self.layer)

    def var(self, sizes):
        """The matrix symbol of this quantity at ``sizes``."""
        return Var(self.kind, self.layer, *self.shape(sizes))


@dataclass(frozen=True)
class Sizes:
    """Concrete sizes: the widths n_0 … n_L, the batch size, the bias mode, the norm."""

    widths: tuple
    m: object = 1
    bias: str = "none"
    norm: str = "none"
    lengths: tuple = ()     # a convolution's lengths N_0 … (its layers' positions)
    kernel: object = 1      # … its kernel size κ
    pool: object = 1        # … its pooling window p
    columns_: tuple = ()    # a 2-D convolution's image columns N'_0 … (lengths: its rows)

    def n(self, layer):
        return self.widths[layer]

    def length(self, layer):
        return self.lengths[layer]

    def columns(self, layer):
        return self.columns_[layer]


def leaves(net, layer, depth):
    """The rows of the leaves a network has at ``layer`` (its parameters, then its masks):
    the kinds that are not computed and belong to a layer, where ``net`` has them."""
    return [row for row in _ROWS if row.role != "computed" and row.where in ("every", "hidden")
            and row.exists(net, layer, depth)]


def parameter_entries(net, widths):
    """How many trained entries a network has at concrete ``widths``."""
    sizes, depth = Sizes(tuple(widths), 1, net.bias, net.norm), len(widths) - 1
    total = 0
    for layer in range(1, depth + 1):
        for row in leaves(net, layer, depth):
            if row.trained:
                rows, cols = row.shape(sizes, layer)
                total += rows * cols
    return total


def kind(name):
    """The row of a kind name."""
    return KINDS[name]


def letter(name, notation):
    """The LaTeX letter a kind prints with in ``notation`` (a `Notation`-like object with
    the fields `Kind.field` names): the field's symbol, wrapped by a fixed letter's
    ``{}`` where it has one (ĥ is ``\\hat{pre}``)."""
    row = KINDS[name]
    base = getattr(notation, row.field) if row.field else ""
    if row.letter:
        return row.letter.format(base) if "{}" in row.letter else row.letter
    return base
