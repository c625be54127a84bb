"""A 1-D convolutional network (SPEC §1c `Network.conv1d`), validated, as blocks of calls.

Layers 1 … c are convolutional (c = len(channels) − 1): H_l = corr(Z_{l-1}, K_l) + b_l 𝟏ᵀ,
then the activation, then (with ``pool``) the pooling into Z_l. Layer c + 1 flattens Z_c
channel-major into the column z_{c+1} (n_{c+1} = C_c N_c entries), and the dense head
follows as in §1 (h_l = W_l z_{l-1} + b_l, z_l = σ(h_l)), its last width the output's,
then the loss. One sequence per call (no batch axis); every layer has its bias.

>>> net = ConvNetwork((1, 2), kernel=2, pool="max", pool_size=2, length=5, head_widths=(2,))
>>> net.lengths, net.widths
((5, 2), (1, 2, 4, 2))
>>> [[call.op for call in block] for block in net.blocks]
[['conv1d', 'relu', 'max_pool'], ['flatten'], ['dense_bias', 'softmax', 'loss:cce']]
"""
from dataclasses import dataclass

from sympy import Integer

from ..errors import SpecError, shown
from ..ir.calls import OpCall
from ..ir.quantities import Q
from ..vocab import KERNEL, LENGTH, POOL, WIDTH
from . import rules
from .of_calls import CONV1D, OfCalls, conv_layer, dense_head

POOLS = (None, "max", "avg")
#: the op row of each pooling
POOL_OPS = {"max": "max_pool", "avg": "avg_pool"}
MAX_SIZE = 4096   # channels, positions, kernel and head widths are at most this


def _positive(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
        raise SpecError(f"{what} must be an integer from 1 to {MAX_SIZE}, got {shown(value)}")
    return value


def _sizes(values, what):
    if isinstance(values, (str, bytes, set, frozenset, dict)) or not hasattr(values, "__iter__"):
        raise SpecError(f"{what} must be a sequence (tuple or list) of positive integers")
    return tuple(_positive(v, what) for v in values)


def validate(net, positive):
    """The checks a 1-D and a 2-D convolutional network share (the sizes named in
    ``positive`` are integers from 1 to `MAX_SIZE`); the sequences stored as tuples."""
    channels = _sizes(net.channels, "channels")
    if len(channels) < 2:
        raise SpecError("channels must name the input channels and at least one "
                        f"convolution's, e.g. (1, 4), got {shown(net.channels)}")
    object.__setattr__(net, "channels", channels)
    object.__setattr__(net, "head_widths", _sizes(net.head_widths, "head_widths"))
    if not net.head_widths:
        raise SpecError("head_widths must hold at least the output width")
    for name in positive:
        _positive(getattr(net, name), name)
    if net.pool not in POOLS:
        raise SpecError(f"pool must be one of None, 'max', 'avg', got {shown(net.pool)}")
    if not rules.activation(net.activation).elementwise:
        raise SpecError(f"activation: {net.activation} is not elementwise; the "
                        "convolutions take an elementwise activation")
    rules.check_output(net.output, net.loss)


def sizes_of(values, what):
    """A sequence of positive integers (`MAX_SIZE` at most), as a tuple."""
    return _sizes(values, what)


@dataclass(frozen=True)
class ConvNetwork(OfCalls):
    """A validated 1-D convolutional network (module docstring)."""

    channels: tuple
    kernel: int = 3
    activation: str = "relu"
    pool: object = None
    pool_size: int = 2
    length: int = 12
    head_widths: tuple = (10,)
    output: str = "softmax"
    loss: str = "cce"

    arch = "conv1d"

    def __post_init__(self):
        validate(self, ("kernel", "pool_size", "length"))
        if self.lengths[-1] < 1:
            raise SpecError(f"length {self.length} is too short for {self.convs} convolutions "
                            f"of kernel {self.kernel}" + (f" and pooling by {self.pool_size}"
                                                          if self.pool else ""))

    @property
    def convs(self):
        """The number of convolutional layers, c."""
        return len(self.channels) - 1

    @property
    def lengths(self):
        """N_0 … N_c: the positions of each convolutional layer's output."""
        out = [self.length]
        for _ in range(self.convs):
            n = out[-1] - self.kernel + 1
            out.append(n // self.pool_size if self.pool and n > 0 else n)
        return tuple(out)

    @property
    def widths(self):
        """n_0 … n_L: the channels, the flattened size, the head's widths."""
        return self.channels + (self.channels[-1] * self.lengths[-1],) + self.head_widths

    @property
    def depth(self):
        return len(self.widths) - 1

    L = depth

    def size_values(self):
        """{size symbol: Integer}: the widths n_l, lengths N_l, kernel κ and window p."""
        out = {WIDTH[l]: Integer(w) for l, w in enumerate(self.widths)}
        out.update({LENGTH[l]: Integer(n) for l, n in enumerate(self.lengths)})
        return out | {KERNEL: Integer(self.kernel), POOL: Integer(self.pool_size)}

    def describe(self):
        pooling = f"{self.pool} pool {self.pool_size}" if self.pool else "no pooling"
        return (f"conv1d; channels {', '.join(map(str, self.channels))}; kernel {self.kernel}; "
                f"length {self.length}; {self.activation}; {pooling}; head "
                f"{', '.join(map(str, self.head_widths))}; {self.output}; loss {self.loss}")

    def pre_activation(self, layer):
        """The quantity δ_layer is the cotangent of: H_l of a convolution, h_l of the head."""
        return Q("hc", layer) if layer <= self.convs else Q("h", layer)

    @property
    def blocks(self):
        """One tuple of calls per layer, layer 1 first."""
        out = [conv_layer(self, layer, CONV1D) for layer in range(1, self.convs + 1)]
        out.append((OpCall("flatten", {"x": Q("zc", self.convs)}, Q("z", self.convs + 1)),))
        return tuple(out) + dense_head(self, self.convs + 2)


def refuse_unbuilt(net, what):
    """One line refusing what is not built for a network of calls yet (a convolutional
    one, or any network naming its ``arch``: claims, the notes of a symbolic number of
    steps), instead of a misleading type error or a wrong output.

    >>> refuse_unbuilt(ConvNetwork((1, 2), length=5, head_widths=(2,)), "claims")
    Traceback (most recent call last):
    ...
    derive.errors.SpecError: claims for conv1d are not built yet
    """
    arch = getattr(net, "arch", None)
    if isinstance(arch, str):
        raise SpecError(f"{what} for {arch} are not built yet")
