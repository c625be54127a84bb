"""The quantity table (derive/ir/quantities.py) against what the network computes: every
quantity the explicit forward pass of a concrete instance builds (SymPy matrices, entry
by entry) has the shape the table gives, and the engine's symbols take theirs from it."""
import pytest
from sympy import Integer

from derive import Network, backprop
from derive.engine.certificate import check_size
from derive.engine.instance import Instance
from derive.errors import SpecError
from derive.ir.nodes import Var
from derive.ir.quantities import KINDS, PARAMETERS, Q, Sizes, parameter_entries

NETS = [
    Network.uniform(depth=3, activation="tanh", loss="mse", bias="augmented"),
    Network.uniform(depth=3, activation="tanh", loss="mse", bias="explicit", batch=True,
                    norm="batch", dropout=True),
    Network.uniform(depth=3, activation="sigmoid", loss="mse", norm="layer", residual=True),
]
WIDTHS = (3, 2, 2, 4)


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.describe())
def test_every_computed_quantity_has_the_shape_of_its_row(net):
    inst = Instance(net, WIDTHS)
    sizes = Sizes(WIDTHS, inst.m, net.bias, net.norm)
    seen = set()
    for (kind, layer), matrix in inst.env.items():
        if kind in KINDS and (kind, layer) != ("z", 0):
            assert matrix.shape == Q(kind, layer).shape(sizes), (kind, layer)
            seen.add(kind)
    assert KINDS["x"].shape(sizes, 0) == inst.env[("z", 0)].shape
    # the table says which kinds this network has; the instance has exactly those leaves
    for layer in range(1, 4):
        for name in PARAMETERS + ("M",):
            assert KINDS[name].exists(net, layer, 3) == ((name, layer) in inst.env)
    assert {"W", "h", "z", "y"} <= seen


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.describe())
def test_the_gradients_have_the_shapes_of_their_parameters(net):
    d = backprop(Network(**{**vars(net), "widths": WIDTHS}))
    inst = Instance(d.net, WIDTHS)
    for kind, layer, symbols in inst.params:
        grad = d.grad(kind, layer)
        assert tuple(map(Integer, symbols.shape)) == grad.shape, (kind, layer)
    assert sum(len(m) for _, _, m in inst.params) == parameter_entries(net, WIDTHS)


def test_the_entry_limit_counts_the_tables_parameters():
    net = Network.uniform(depth=2, activation="tanh", loss="mse", bias="explicit", norm="layer")
    assert parameter_entries(net, (2, 3, 2)) == 3 * 2 + 3 + 2 * 3 + 2 + 2 * 3
    with pytest.raises(SpecError, match="entries"):
        check_size(net, (8, 8, 8))


def test_an_instance_names_its_matrix_symbol():
    sizes = Sizes((2, 3), 4, "augmented")
    assert Q("W", 1).var(sizes) == Var("W", 1, 3, 3)
    assert Q("zaug", 0).var(sizes) == Var("zaug", 0, 3, 4)
