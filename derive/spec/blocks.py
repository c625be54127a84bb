"""A network as data: the blocks of op calls that `Network(...)` and its §1b flags build.

Each layer is a block, a tuple of `derive.ir.calls.OpCall` in forward order: the dense
op (``dense``, ``dense_bias`` or ``dense_augmented``, by the bias mode), then in a hidden
layer with options the normalization (h → ĥ), the activation (h or ĥ → a or z), and
dropout / the residual add (a → z); the output layer's block ends with the loss (z_L,
y → J). The layers that compute the same thing are one **block kind**, named by a key
(`kind_of`), whose calls are written once at the symbolic layer l (`block`): the engine
derives each kind once and instantiates it per layer.

>>> from derive.spec.network import Network
>>> net = Network.uniform(depth=3, activation="tanh", loss="mse", residual=True, norm="layer")
>>> [kind_of(net, layer) for layer in (1, 2, 3)]
[('hidden', 'tanh', False), ('hidden', 'tanh', True), ('output', 'tanh')]
>>> [call.op for call in block(net, ("hidden", "tanh", True))]
['dense', 'layer_norm', 'tanh', 'residual']
>>> block(net, ("hidden", "tanh", True))[2]
OpCall(tanh: x=hhat_l -> a_l)
"""
from ..ir.calls import OpCall
from ..ir.quantities import Q
from ..vocab import DEPTH, LAYER

#: the op row of each bias mode's dense layer, each normalization, each combination of
#: dropout and the residual add (the names of `derive.engine`'s op table)
DENSE_OPS = {"none": "dense", "augmented": "dense_augmented", "explicit": "dense_bias"}
NORM_OPS = {"layer": "layer_norm", "batch": "batch_norm"}
COMBINE_OPS = {(True, False): "dropout", (False, True): "residual", (True, True): "dropout_residual"}


def dense_call(bias, l):
    """h_l = W_l z_{l-1} (+ b_l, or W_l [z_{l-1}; 1])."""
    args = {"W": Q("W", l), "x": Q("z", l - 1)}
    if bias == "explicit":
        args["b"] = Q("b", l)
    if bias == "augmented":
        args.update(xaug=Q("zaug", l - 1), Wbar=Q("Wbar", l))
    return OpCall(DENSE_OPS[bias], args, Q("h", l))


def hidden_calls(net, activation, adds_input, l=LAYER):
    """The calls of a hidden layer: dense, [norm], activation, [dropout / residual add]."""
    calls = [dense_call(net.bias, l)]
    src = "h"
    if net.norm != "none":
        calls.append(OpCall(NORM_OPS[net.norm], {"x": Q("h", l), "gamma": Q("gamma", l),
                                                  "beta": Q("beta", l), "mu": Q("mu", l),
                                                  "var": Q("var", l), "xhat": Q("xhat", l)},
                            Q("hhat", l)))
        src = "hhat"
    combine = COMBINE_OPS.get((net.dropout, adds_input))
    calls.append(OpCall(activation, {"x": Q(src, l)}, Q("a" if combine else "z", l)))
    if combine:
        args = {"x": Q("a", l)}
        if net.dropout:
            args["M"] = Q("M", l)
        if adds_input:
            args["skip"] = Q("z", l - 1)
        calls.append(OpCall(combine, args, Q("z", l)))
    return tuple(calls)


def output_calls(net, activation, l=DEPTH):
    """The output layer: dense, activation, and the loss J of z_L and y."""
    return (dense_call(net.bias, l), OpCall(activation, {"x": Q("h", l)}, Q("z", l)),
            OpCall("loss:" + net.loss, {"x": Q("z", l), "t": Q("y", l)}, Q("J", l)))


def kind_of(net, layer):
    """The key of the block kind of ``layer`` (an int, or L, L−1, l of a symbolic depth):
    ("output", activation) for the last layer, ("hidden", activation, adds its input)."""
    if layer == net.L:
        return ("output", net.activations[-1])
    return ("hidden", net.activation(layer).name, net.is_residual(layer))


def kinds(net):
    """The distinct block kinds of ``net``, hidden ones first (sorted), the output last."""
    if net.symbolic:
        layers = [1, LAYER] if net.residual else [LAYER]
        hidden = {kind_of(net, layer) for layer in layers}
    else:
        hidden = {kind_of(net, layer) for layer in range(1, net.depth)}
    return tuple(sorted(hidden)) + (kind_of(net, net.L),)


def block(net, key, l=None):
    """The calls of block kind ``key`` at layer ``l`` (by default the symbolic l, or L for
    the output block)."""
    if key[0] == "output":
        return output_calls(net, key[1], DEPTH if l is None else l)
    return hidden_calls(net, key[1], key[2], LAYER if l is None else l)


def penalty_calls(net, l=LAYER):
    """Weight decay's second reader of W_l: the penalty (λ/2)‖W_l‖² adds to J."""
    return (OpCall("penalty", {"W": Q("W", l)}, Q("J", l)),) if net.weight_decay else ()


def options_of(blocks):
    """The §1/§1b options a list of blocks (layer 1 first) was built with, read from its
    calls: (activations, bias, norm, dropout, residual, loss or None). The blocks are then
    rebuilt from these options and compared call by call (`Network.from_blocks`)."""
    dense = {op: bias for bias, op in DENSE_OPS.items()}
    norms = {op: norm for norm, op in NORM_OPS.items()}
    combines = {op: flags for flags, op in COMBINE_OPS.items()}
    acts, bias, norm, dropout, residual, loss = [], "none", "none", False, False, None
    for calls in blocks:
        ops = [call.op for call in calls]
        if not ops or ops[0] not in dense:
            raise ValueError(f"a block starts with a dense op ({', '.join(dense)}), got {ops[:1]}")
        bias = dense[ops[0]]
        if ops[-1].startswith("loss:"):
            loss = ops.pop()[len("loss:"):]
        norm = next((norms[op] for op in ops if op in norms), norm)
        flags = next((combines[op] for op in ops if op in combines), (False, False))
        dropout, residual = dropout or flags[0], residual or flags[1]
        rest = [op for op in ops[1:] if op not in norms and op not in combines]
        if len(rest) != 1:
            raise ValueError(f"a block has one activation after its dense op, got {rest}")
        acts.append(rest[0])
    return tuple(acts), bias, norm, dropout, residual, loss
