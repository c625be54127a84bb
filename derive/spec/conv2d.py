"""A 2-D convolutional network (SPEC §1c `Network.conv2d`), validated, as blocks of calls.

Layers 1 … c are convolutional (c = len(channels) − 1): H_l = corr(Z_{l-1}, K_l) + b_l 𝟏ᵀ
over images (a square kernel κ × κ, stride 1, no padding), the activation, then (with
``pool``) max or mean pooling over p × p windows with stride p into Z_l. Layer c + 1
flattens Z_c channel by channel, row by row (as ``torch.flatten`` of (C, H, W)) into
z_{c+1}, and the dense head follows as in §1, then the loss. One image per call.

>>> net = Conv2dNetwork((1, 2), kernel=2, pool="max", size=(5, 4), head_widths=(2,))
>>> net.images, net.widths
(((5, 4), (2, 1)), (1, 2, 4, 2))
>>> [[call.op for call in block] for block in net.blocks]
[['conv2d', 'relu', 'max_pool2d'], ['flatten2d'], ['dense_bias', 'softmax', 'loss:cce']]
"""
from dataclasses import dataclass

from sympy import Integer

from ..errors import SpecError, shown
from ..ir.calls import OpCall
from ..ir.quantities import Q
from ..vocab import COLUMNS, KERNEL, LENGTH, POOL, WIDTH
from .conv import POOL_OPS, sizes_of, validate


def _pair(value, what):
    """An int n as (n, n); a pair of positive integers as a tuple."""
    pair = sizes_of((value, value) if isinstance(value, int) and not isinstance(
        value, bool) else value, what)
    if len(pair) != 2:
        raise SpecError(f"{what} must be an integer or a pair (rows, columns), got "
                        f"{shown(value)}")
    return pair


@dataclass(frozen=True)
class Conv2dNetwork:
    """A validated 2-D convolutional network (module docstring)."""

    channels: tuple = (1, 4)
    kernel: object = 3
    activation: str = "relu"
    pool: object = "max"
    pool_size: int = 2
    size: object = (8, 8)
    head_widths: tuple = (10,)
    output: str = "softmax"
    loss: str = "cce"

    arch = "conv2d"
    bias = "explicit"
    batch = False
    norm = "none"
    dropout = False
    weight_decay = False

    def __post_init__(self):
        validate(self, ("pool_size",))
        kernel = _pair(self.kernel, "kernel")
        if kernel[0] != kernel[1]:
            raise SpecError(f"kernel must be square, (k, k), got {shown(self.kernel)}")
        object.__setattr__(self, "kernel", kernel[0])
        object.__setattr__(self, "size", _pair(self.size, "size"))
        if min(self.images[-1]) < 1:
            raise SpecError(f"size {self.size} is too small for {self.convs} convolutions of "
                            f"kernel {self.kernel}" + (f" and pooling by {self.pool_size}"
                                                       if self.pool else ""))

    @property
    def convs(self):
        return len(self.channels) - 1

    @property
    def images(self):
        """(N_l, N'_l) for l = 0 … c: the rows and columns of each layer's images."""
        out = [self.size]
        for _ in range(self.convs):
            dims = tuple(d - self.kernel + 1 for d in out[-1])
            if self.pool and min(dims) > 0:
                dims = tuple(d // self.pool_size for d in dims)
            out.append(dims)
        return tuple(out)

    @property
    def widths(self):
        """n_0 … n_L: the channels, the flattened size, the head's widths."""
        rows, cols = self.images[-1]
        return self.channels + (self.channels[-1] * rows * cols,) + self.head_widths

    @property
    def depth(self):
        return len(self.widths) - 1

    L = depth

    def size_values(self):
        """{size symbol: Integer}: channels and widths n_l, rows N_l, columns N'_l,
        kernel κ, window p."""
        out = {WIDTH[l]: Integer(w) for l, w in enumerate(self.widths)}
        for l, (rows, cols) in enumerate(self.images):
            out[LENGTH[l]], out[COLUMNS[l]] = Integer(rows), Integer(cols)
        return out | {KERNEL: Integer(self.kernel), POOL: Integer(self.pool_size)}

    def pre_activation(self, layer):
        return Q("hi", layer) if layer <= self.convs else Q("h", layer)

    def activation_of(self, layer):
        return self.output if layer == self.depth else self.activation

    def describe(self):
        pooling = f"{self.pool} pool {self.pool_size}" if self.pool else "no pooling"
        return (f"conv2d; channels {', '.join(map(str, self.channels))}; kernel {self.kernel}; "
                f"size {self.size[0]}×{self.size[1]}; {self.activation}; {pooling}; head "
                f"{', '.join(map(str, self.head_widths))}; {self.output}; loss {self.loss}")

    @property
    def blocks(self):
        """One tuple of calls per layer, layer 1 first."""
        c = self.convs
        out = [self._conv_calls(layer) for layer in range(1, c + 1)]
        out.append((OpCall("flatten2d", {"x": Q("zi", c)}, Q("z", c + 1)),))
        for layer in range(c + 2, self.depth + 1):
            calls = (OpCall("dense_bias", {"W": Q("W", layer), "x": Q("z", layer - 1),
                                           "b": Q("b", layer)}, Q("h", layer)),
                     OpCall(self.activation_of(layer), {"x": Q("h", layer)}, Q("z", layer)))
            if layer == self.depth:
                calls += (OpCall("loss:" + self.loss, {"x": Q("z", layer), "t": Q("y", layer)},
                                 Q("J", layer)),)
            out.append(calls)
        return tuple(out)

    def _conv_calls(self, l):
        calls = [OpCall("conv2d", {"K": Q("K2", l), "x": Q("zi", l - 1), "b": Q("b", l)},
                        Q("hi", l)),
                 OpCall(self.activation, {"x": Q("hi", l)}, Q("ai" if self.pool else "zi", l))]
        if self.pool:
            args = {"x": Q("ai", l)}
            if self.pool == "max":
                args["S"] = Q("Si", l)
            calls.append(OpCall(POOL_OPS[self.pool] + "2d", args, Q("zi", l)))
        return tuple(calls)
