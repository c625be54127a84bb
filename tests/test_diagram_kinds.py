"""The diagram of a network with §1b options: ĥ_l nodes for a norm, an arc z_{l−1} → z_l
for each residual layer, the dropout mask on the edge into a hidden z_l."""
from derive import Network, backprop
from derive.documents import diagram
from derive.documents.notes import render_svg


def _nodes(net):
    return [("x", 0)] + diagram._nodes(net)


def test_residual_arcs_join_the_z_nodes_of_layers_two_to_L_minus_1():
    net = Network.uniform(depth=4, activation="tanh", loss="mse", residual=True)
    nodes = _nodes(net)
    arcs = [(nodes[a], nodes[b]) for a, b in diagram.skips(net, nodes)]
    assert arcs == [(("z", 1), ("z", 2)), (("z", 2), ("z", 3))]
    assert render_svg(backprop(net)).split("</defs>")[1].count("<path") == len(arcs)


def test_a_norm_adds_hhat_on_hidden_layers_only():
    net = Network.uniform(depth=3, activation="tanh", loss="mse", norm="layer")
    kinds = [k for k, _ in diagram._nodes(net)]
    assert kinds == ["h", "hhat", "z", "h", "hhat", "z", "h", "z"]
    assert "\u0302" in render_svg(backprop(net))


def test_a_plain_network_has_no_arcs_and_no_extra_nodes():
    net = Network.uniform(depth=4, activation="tanh", loss="mse")
    assert diagram.skips(net, _nodes(net)) == []
    assert "<path" not in render_svg(backprop(net)).split("</defs>")[1]
