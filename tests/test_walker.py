"""The one walker (derive/engine/blocks.py): every block kind derived from its calls, the
steps saying which call and port they come from, fan-out summed generically."""
import pytest

from derive import Network, SpecError, backprop
from derive.engine.ops import OPS
from derive.ir.calls import OpCall
from derive.ir.nodes import MatPartial
from derive.ir.quantities import Q
from derive.ir.steps import GROUPS
from derive.vocab import LOSS

NET = Network.uniform(depth=4, activation="tanh", loss="mse", bias="explicit", norm="layer",
                      dropout=True, residual=True, weight_decay=True)


def test_every_step_of_a_walked_call_names_its_op_and_port():
    d = backprop(NET)
    walked = [s for s in d.steps if s.op]
    ops = {call.op for block in NET.blocks for call in block} | {"penalty"}
    assert walked and {s.op for s in walked} <= ops
    for s in walked:
        assert not s.port or s.port in OPS[s.op].ports, s
    # the normalization's γ and β gradients and the VJP through it carry its op
    assert {s.port for s in walked if s.op == "layer_norm"} >= {"x", "gamma", "beta"}


def test_a_quantity_read_twice_sums_its_paths_in_one_step():
    d = backprop(NET)
    # z_2 is read by W_3 (dense) and by layer 3's residual add: two paths, one step
    sums = [s for s in d.steps if s.rule == "sum over paths" and s.group == "dJdz"]
    assert [s.layer for s in sums] == [2, 1]
    assert all((s.op, s.port) == ("dropout_residual", "skip") for s in sums)
    # W_l read by its dense op and by the penalty: the gradients add
    decay = [s for s in d.steps if s.rule == "sum over paths" and s.group == "dW"]
    assert {s.op for s in decay} == {"penalty"} and len(decay) == 4
    z3 = [v for v in d.dJdz(2).atoms(MatPartial) if v.num == LOSS]
    assert z3, d.dJdz(2)


@pytest.mark.parametrize("net", [NET, Network.uniform(depth="L", activation="sigmoid", loss="bce",
                                                     bias="augmented"),
                                 Network.uniform(depth=2, activation="relu", loss="cce",
                                                 output="softmax", batch=True, norm="batch")],
                         ids=lambda n: n.describe())
def test_every_step_group_is_one_of_the_enum(net):
    assert {s.group for s in backprop(net).steps} <= GROUPS


def test_adjoint_is_keyed_by_quantity_and_the_old_views_read_it():
    d = backprop(NET)
    for layer in (1, 2, 3):
        assert d.adjoint(Q("h", layer)) == d.delta(layer)
        assert d.adjoint(Q("z", layer)) == d.dJdz(layer)
        assert d.adjoint(Q("W", layer)) == d.grad("W", layer)
        assert d.adjoint(Q("gamma", layer)) == d.grad("gamma", layer)
        named = dict(d.cotangents(layer))
        a = next(sym for sym in named if sym.wrt.kind == "a")
        assert d.adjoint(Q("a", layer)) == named[a]
    with pytest.raises(SpecError, match="no gamma at layer 4"):
        d.adjoint(Q("gamma", 4))


ROUND_TRIP = [NET, Network(activations=("relu", "sigmoid"), loss="bce", bias="augmented"),
              Network(activations=("tanh", "relu", "softmax"), loss="cce", batch=True,
                      norm="batch", bias="explicit")]


@pytest.mark.parametrize("net", ROUND_TRIP, ids=lambda n: n.describe())
def test_a_network_given_as_its_blocks_is_the_same_network(net):
    again = Network.from_blocks(net.blocks, batch=net.batch, weight_decay=net.weight_decay)
    assert again == net
    without_loss = net.blocks[:-1] + (net.blocks[-1][:-1],)
    assert Network.from_blocks(without_loss, loss=net.loss, batch=net.batch,
                               weight_decay=net.weight_decay) == net
    assert backprop(again).delta(1) == backprop(net).delta(1)


def test_blocks_the_engine_does_not_derive_yet_are_refused_with_the_call():
    blocks = list(Network.uniform(depth=2, activation="tanh", loss="mse").blocks)
    act = blocks[0][1]
    rewired = OpCall(act.op, {"x": Q("z", 0)}, act.out)     # σ applied to the input
    with pytest.raises(SpecError, match="layer 1's call .*tanh.*not one the engine derives"):
        Network.from_blocks([(blocks[0][0], rewired)] + blocks[1:])
    with pytest.raises(SpecError, match="name the loss"):
        Network.from_blocks([blocks[0], blocks[1][:-1]])
    with pytest.raises(SpecError, match="starts with a dense op"):
        Network.from_blocks([blocks[0][1:], blocks[1]])
