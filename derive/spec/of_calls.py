"""What every network given as blocks of calls (SPEC §1c: conv1d, conv2d, rnn, …) shares:
the §1b options it does not take (one bias per layer, one example per call, no norm,
dropout or weight decay), and the pieces its blocks are built of: a convolutional layer
(convolution, activation, optional pooling) and the dense head after the flattening.

>>> from derive.spec.conv import ConvNetwork
>>> net = ConvNetwork((1, 2), kernel=2, pool="max", length=5, head_widths=(2,))
>>> [c.op for c in conv_layer(net, 1, CONV1D)]
['conv1d', 'relu', 'max_pool']
>>> [[c.op for c in block] for block in dense_head(net, 3)]
[['dense_bias', 'softmax', 'loss:cce']]
"""
from typing import NamedTuple

from ..ir.calls import OpCall
from ..ir.quantities import Q


class OfCalls:
    """The options a network of calls fixes (read by the shared code that also serves
    the §1 network), and its activation per layer."""

    bias = "explicit"
    batch = False
    norm = "none"
    dropout = False
    weight_decay = False

    def activation_of(self, layer):
        return self.output if layer == self.depth else self.activation


class ConvNames(NamedTuple):
    """The op rows and quantity kinds of one family of convolutional layers."""

    conv: str      # the convolution's row
    kernel: str    # its kernel's kind
    z: str         # a layer's output (the next one's input)
    h: str         # the convolution's output
    a: str         # the activation's output, when a pooling follows
    mask: str      # a max pooling's mask
    pool: dict     # pooling → its row


CONV1D = ConvNames("conv1d", "K", "zc", "hc", "ac", "S", {"max": "max_pool", "avg": "avg_pool"})
CONV2D = ConvNames("conv2d", "K2", "zi", "hi", "ai", "Si",
                   {"max": "max_pool2d", "avg": "avg_pool2d"})


def conv_layer(net, l, names):
    """Convolution, activation, optional pooling: Z_{l-1} → H_l → (A_l →) Z_l."""
    calls = [OpCall(names.conv, {"K": Q(names.kernel, l), "x": Q(names.z, l - 1),
                                 "b": Q("b", l)}, Q(names.h, l)),
             OpCall(net.activation, {"x": Q(names.h, l)},
                    Q(names.a if net.pool else names.z, l))]
    if net.pool:
        args = {"x": Q(names.a, l)}
        if net.pool == "max":
            args["S"] = Q(names.mask, l)
        calls.append(OpCall(names.pool[net.pool], args, Q(names.z, l)))
    return tuple(calls)


def dense_head(net, first):
    """The dense layers ``first`` … L after the flattening (h_l = W_l z_{l-1} + b_l,
    z_l = σ(h_l)), the loss after the last: one tuple of calls per layer."""
    out = []
    for layer in range(first, net.depth + 1):
        calls = (OpCall("dense_bias", {"W": Q("W", layer), "x": Q("z", layer - 1),
                                       "b": Q("b", layer)}, Q("h", layer)),
                 OpCall(net.activation_of(layer), {"x": Q("h", layer)}, Q("z", layer)))
        if layer == net.depth:
            calls += (OpCall("loss:" + net.loss, {"x": Q("z", layer), "t": Q("y", layer)},
                             Q("J", layer)),)
        out.append(calls)
    return tuple(out)
