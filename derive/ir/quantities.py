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
from dataclasses import dataclass
from typing import NamedTuple

from .kind import ROLES, WHERE, Kind  # noqa: F401  (the table's row, re-exported)
from .kinds_attention import ATTENTION_ROWS
from .kinds_rnn import GATES, N_H, N_X, N_Y, RECURRENT_ROWS  # noqa: F401  (re-exported)
from .nodes import Var


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
    *RECURRENT_ROWS,
    *ATTENTION_ROWS,
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
