"""The network specification and its validation (SPEC §1).

>>> net = Network.uniform(depth=3, activation="sigmoid", loss="bce")
>>> net.depth, net.activations
(3, ('sigmoid', 'sigmoid', 'sigmoid'))
>>> Network.uniform(depth="L", activation="sigmoid", loss="sse", output="identity").symbolic
True
"""
from dataclasses import dataclass, fields

from sympy import Integer

from ..errors import SpecError, did_you_mean, shown
from ..vocab import BATCH, DEPTH, WIDTH
from . import blocks, rules
from .conv import ConvNetwork
from .conv2d import Conv2dNetwork
from .rnn import RNNNetwork
from .transformer import TransformerNetwork

BIAS_MODES = ("none", "augmented", "explicit")
NORMS = ("none", "layer", "batch")
MAX_DEPTH = 256
#: no layer is wider than this (a width is printed, in the notes and in messages)
MAX_UNITS = 10 ** 6


@dataclass(frozen=True)
class Network:
    """A validated feed-forward network: activations per layer, loss, widths, bias, batch.

    For a symbolic depth (``depth="L"``) ``activations`` holds two names: the hidden
    layers' activation and the output layer's.
    """

    activations: tuple
    loss: str
    widths: tuple = None
    bias: str = "none"
    batch: bool = False
    depth: object = None
    weight_decay: bool = False
    residual: bool = False
    norm: str = "none"
    dropout: bool = False

    def __post_init__(self):
        acts = self.activations
        if isinstance(acts, str) or not hasattr(acts, "__iter__"):
            raise SpecError("activations must be a sequence of names, one per layer; "
                            f"allowed names: {rules.allowed_activations()}")
        acts = ordered(acts, "activations", "names, one per layer")
        object.__setattr__(self, "activations", acts)
        depth = self.depth
        if depth is None:
            depth = len(acts)
        if depth == "L":
            if len(acts) not in (1, 2):
                raise SpecError("activations: a symbolic depth takes 1 name (all layers) or "
                                "2 names (hidden layers, output layer)")
            if len(acts) == 1:
                object.__setattr__(self, "activations", acts * 2)
        else:
            check_depth(depth)
            if len(acts) != depth:
                raise SpecError(f"activations: expected {depth} names (one per layer), "
                                f"got {len(acts)}")
        object.__setattr__(self, "depth", depth)
        for act in self.activations:
            rules.activation(act)  # raises SpecError on unknown names
        self._check_softmax()
        self._check_loss()
        self._check_widths()
        if self.bias not in BIAS_MODES:
            raise SpecError(f"bias {shown(self.bias)} is not allowed"
                            f"{did_you_mean(self.bias, BIAS_MODES)}; allowed: "
                            f"{', '.join(BIAS_MODES)}")
        if not isinstance(self.batch, bool):
            raise SpecError(f"batch must be True or False, got {self.batch!r}")
        self._check_weight_decay()
        self._check_kinds()

    def _check_kinds(self):
        """The §1b options: residual, norm, dropout (hidden layers 1 … L−1)."""
        for name in ("residual", "dropout"):
            if not isinstance(getattr(self, name), bool):
                raise SpecError(f"{name} must be True or False, got {getattr(self, name)!r}")
        norm = "none" if self.norm is None else self.norm
        if norm not in NORMS:
            raise SpecError(f"norm {shown(self.norm)} is not allowed"
                            f"{did_you_mean(norm, NORMS)}; allowed: {', '.join(NORMS)}")
        object.__setattr__(self, "norm", norm)
        if norm == "batch" and not self.batch:
            raise SpecError("norm='batch' normalizes over the samples of a batch; it needs "
                            "batch=True (or use norm='layer')")
        if (self.residual or self.dropout or norm != "none") and self.bias == "augmented":
            raise SpecError("residual, norm and dropout: not available with bias='augmented'; "
                            "allowed biases: none, explicit")
        if not self.residual:
            return
        if not self.symbolic and self.depth < 3:
            raise SpecError(f"residual: the skip connections join hidden layers 2 … L−1, so "
                            f"the depth must be at least 3, got {self.depth}")
        if self.widths is not None and len(set(self.widths[1:-1])) != 1:
            raise SpecError(f"residual: the hidden widths n_1 … n_L−1 must be equal, got "
                            f"{', '.join(map(str, self.widths[1:-1]))}")

    @property
    def kinds(self):
        """True when any §1b layer option (residual, norm, dropout) is on."""
        return self.residual or self.dropout or self.norm != "none"

    def is_residual(self, layer):
        """Whether hidden layer ``layer`` adds its input (layers 2 … L−1 with residual)."""
        if not self.residual:
            return False
        if self.symbolic:
            return layer not in (1, DEPTH)
        return 2 <= int(layer) <= self.depth - 1

    def _check_weight_decay(self):
        if not isinstance(self.weight_decay, bool):
            raise SpecError(f"weight_decay must be True or False, got {self.weight_decay!r}")
        if self.weight_decay and self.bias == "augmented":
            raise SpecError("weight_decay: not available with bias='augmented' yet (its bias "
                            "column is not decayed); allowed biases: none, explicit")

    def _check_softmax(self):
        hidden = self.activations[:-1] if not self.symbolic else self.activations[:1]
        for index, act in enumerate(hidden, start=1):
            if act == "softmax":
                where = "the hidden layers" if self.symbolic else f"layer {index}"
                raise SpecError(f"activations: softmax is allowed on the output layer only, "
                                f"not on {where}")

    def _check_loss(self):
        rules.check_output(self.activations[-1], self.loss)

    def _check_widths(self):
        if self.widths is None:
            return
        widths = ordered_widths(self.widths)
        if self.symbolic:
            raise SpecError("widths: a symbolic depth takes symbolic widths; leave widths out")
        if len(widths) != self.depth + 1:
            raise SpecError(f"widths: expected {self.depth + 1} positive integers "
                            f"(n_0 … n_{self.depth}), got {len(widths)}")
        if self.activations[-1] == "softmax" and widths[-1] < 2:
            raise SpecError("widths: a softmax output needs at least 2 units")
        object.__setattr__(self, "widths", widths)

    @classmethod
    def uniform(cls, depth, activation, loss, output=None, **kwargs):
        """The same activation on every layer, optionally another on the output layer."""
        if depth == "L":
            acts = (activation, output or activation)
        else:
            check_depth(depth)
            acts = (activation,) * (depth - 1) + (output or activation,)
        return cls(activations=acts, loss=loss, depth=depth, **kwargs)

    # -- derived facts -------------------------------------------------------------
    @staticmethod
    def conv1d(channels=(1, 4, 8), kernel=3, activation="relu", pool=None, pool_size=2,
               length=12, head_widths=(10,), output="softmax", loss="cce"):
        """A 1-D convolutional network (SPEC §1c; `derive.spec.conv.ConvNetwork`)."""
        return ConvNetwork(channels, kernel, activation, pool, pool_size, length,
                           head_widths, output, loss)

    @staticmethod
    def transformer(blocks=1, heads=1, width="d", key_width=None, tokens="T", causal=False,
                    mlp_activation="relu", head="identity", loss="mse", mlp_width=None,
                    outputs=None, bias="explicit"):
        """A pre-norm transformer (SPEC §1c; `derive.spec.transformer.TransformerNetwork`)."""
        return TransformerNetwork(blocks, heads, width, key_width, tokens, causal,
                                  mlp_activation, head, loss, mlp_width, outputs, bias)
    def conv2d(channels=(1, 4), kernel=(3, 3), activation="relu", pool="max", pool_size=2,
               size=(8, 8), head_widths=(10,), output="softmax", loss="cce"):
        """A 2-D convolutional network (SPEC §1c; `derive.spec.conv2d.Conv2dNetwork`)."""
        return Conv2dNetwork(channels, kernel, activation, pool, pool_size, size,
                             head_widths, output, loss)

    @staticmethod
    def rnn(cell="tanh", steps="T", inputs=2, hidden=3, outputs=1, readout="every",
            output="identity", loss="mse"):
        """A recurrent network over ``steps`` (a number, unrolled, or "T"; SPEC §1c;
        `derive.spec.rnn.RNNNetwork`)."""
        return RNNNetwork(cell, steps, inputs, hidden, outputs, readout, output, loss)

    @property
    def symbolic(self):
        return self.depth == "L"

    @property
    def L(self):
        """The last layer's index: an int, or the Symbol L."""
        return DEPTH if self.symbolic else Integer(self.depth)

    def activation(self, layer):
        """The activation rule of a layer (int, or an expression in L and l)."""
        if self.symbolic:
            return rules.activation(self.activations[1 if layer == DEPTH else 0])
        return rules.activation(self.activations[int(layer) - 1])

    def width(self, layer):
        """n_l: a concrete int or the symbolic width n[l]."""
        if self.widths is not None:
            return Integer(self.widths[int(layer)])
        return WIDTH[layer]

    @property
    def samples(self):
        """Columns of the layer matrices: the batch size m, or 1."""
        return BATCH if self.batch else Integer(1)

    @property
    def loss_rule(self):
        return rules.loss(self.loss)

    def with_widths(self, widths):
        """The same network at concrete widths (and depth len(widths) - 1)."""
        depth = len(widths) - 1
        if self.symbolic:
            acts = (self.activations[0],) * (depth - 1) + (self.activations[1],)
        else:
            acts = self.activations
        return Network(activations=acts, loss=self.loss, widths=tuple(widths),
                       bias=self.bias, batch=self.batch, depth=depth,
                       weight_decay=self.weight_decay, residual=self.residual,
                       norm=self.norm, dropout=self.dropout)

    @classmethod
    def from_blocks(cls, blocks_, loss=None, widths=None, batch=False, weight_decay=False):
        """A network given as its blocks of op calls (`derive.ir.calls.OpCall`), layer 1
        first; the output block may end with its loss call (``loss:<name>``). Today the
        engine derives the blocks the §1/§1b options build: any other wiring is refused
        with the first call that differs from the one the engine knows.

        >>> net = Network.uniform(depth=3, activation="tanh", loss="mse", residual=True)
        >>> Network.from_blocks(net.blocks) == net
        True
        """
        try:
            acts, bias, norm, dropout, residual, named = blocks.options_of(blocks_)
        except (TypeError, AttributeError, ValueError) as exc:
            raise SpecError(f"from_blocks: {exc}") from None
        if (loss or named) is None:
            raise SpecError("from_blocks: name the loss (loss=...) or end the last block with "
                            f"a loss call; allowed losses: {', '.join(rules.LOSSES)}")
        net = cls(activations=acts, loss=loss or named, widths=widths, bias=bias, batch=batch,
                  weight_decay=weight_decay, residual=residual, norm=norm, dropout=dropout)
        for layer, (given, built) in enumerate(zip(blocks_, net.blocks), start=1):
            given = tuple(given)
            if layer == net.depth and len(given) == len(built) - 1:   # no loss call given
                built = built[:-1]
            wrong = next(((m, g) for m, g in zip(built, given) if m != g), None)
            if wrong:
                raise SpecError(f"from_blocks: layer {layer}'s call {wrong[1]!r} is not one "
                                f"the engine derives yet; expected {wrong[0]!r}")
            if len(given) != len(built):
                raise SpecError(f"from_blocks: layer {layer} has {len(given)} calls, expected "
                                f"{len(built)}: {built!r}")
        return net

    # -- the network as data: blocks of op calls (`derive.spec.blocks`) ---------------
    def block_kinds(self):
        """{key: calls}: every distinct block kind, its calls at the symbolic layer."""
        return {key: blocks.block(self, key) for key in blocks.kinds(self)}

    def block(self, layer):
        """The calls of one layer's block at that layer (forward order)."""
        return blocks.block(self, blocks.kind_of(self, layer), layer)

    @property
    def blocks(self):
        """The blocks of a concrete depth, layer 1 first."""
        if self.symbolic:
            raise SpecError("blocks: a symbolic depth has block kinds (block_kinds()), not a "
                            "list of layers")
        return tuple(self.block(Integer(layer)) for layer in range(1, self.depth + 1))

    def _repr_markdown_(self):
        """Notebook display: every field, the §1b options included."""
        rows = "".join(f"| `{f.name}` | `{getattr(self, f.name)!r}` |\n" for f in fields(self))
        return f"**Network**: {self.describe()}\n\n| field | value |\n|---|---|\n{rows}"

    def describe(self):
        acts = ", ".join(self.activations)
        depth = "L" if self.symbolic else self.depth
        return (f"depth {depth}; activations {acts}; loss {self.loss}; bias {self.bias}; "
                f"batch {'on' if self.batch else 'off'}"
                + ("; weight decay on" if self.weight_decay else "")
                + ("; residual on" if self.residual else "")
                + (f"; {self.norm} norm" if self.norm != "none" else "")
                + ("; dropout on" if self.dropout else ""))


def check_depth(depth):
    """A concrete depth: an int from 1 to `MAX_DEPTH` (a bool is not a depth).

    >>> check_depth(10 ** 5000)
    Traceback (most recent call last):
    ...
    derive.errors.SpecError: depth must be between 1 and 256 or 'L', got 1000…0000 (5001 digits)
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise SpecError(f"depth must be a positive integer or 'L', got {shown(depth)}")
    if depth > MAX_DEPTH:
        raise SpecError(f"depth must be between 1 and {MAX_DEPTH} or 'L', got {shown(depth)}")


def ordered(values, what, items):
    """``values`` as a tuple, refused when its order is arbitrary (a set or a mapping):
    layer l is the l-th item, so the order is the meaning."""
    if isinstance(values, (set, frozenset, dict)):
        raise SpecError(f"{what} must be a sequence (tuple or list) of {items}, in layer "
                        f"order; got a {type(values).__name__}, whose order is arbitrary")
    return tuple(values)


def ordered_widths(widths):
    """The widths n_0 … n_L as a tuple of positive ints (not bools), in layer order.

    >>> ordered_widths([3, 4, 1])
    (3, 4, 1)
    >>> ordered_widths({2, 3, 1})          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derive.errors.SpecError: widths must be a sequence ... got a set, whose order is arbitrary
    >>> ordered_widths((True, 2, 2))
    Traceback (most recent call last):
    ...
    derive.errors.SpecError: widths must be positive integers, got True
    """
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise SpecError("widths must be a sequence of positive integers")
    widths = ordered(widths, "widths", "positive integers n_0, …, n_L")
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise SpecError(f"widths must be positive integers, got {shown(w)}")
        if w > MAX_UNITS:
            raise SpecError(f"widths: at most {MAX_UNITS} units per layer, got {shown(w)}")
    return widths
