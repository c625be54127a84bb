"""The diagram of a network with §1b options: ĥ_l nodes for a norm, an arc z_{l−1} → z_l
for each residual layer, the dropout mask on the edge into a hidden z_l."""
import re

import pytest

from derive import Network, backprop
from derive.documents import diagram
from derive.documents.notes import render_svg
from derive.printing.notation import PRESETS


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


def _texts(svg, where=r"[^>]*"):
    """(text content without tags, the shifted index or "") of every <text> element
    (whose attributes match ``where``)."""
    out = []
    for body in re.findall(rf"<text{where}>(.*?)</text>", svg):
        index = re.findall(r"<tspan[^>]*>(.*?)</tspan>", body)
        out.append((re.sub(r"<[^>]+>", "", body), index[0] if index else ""))
    return out


@pytest.mark.parametrize("notation", sorted(PRESETS))
@pytest.mark.parametrize("depth", ["L", 3, 6])
def test_svg_labels_are_unicode_inside_their_nodes(notation, depth):
    """No TeX in the SVG: a node is a letter and its layer as a smaller shifted tspan
    (L−1 with a minus sign), short enough for its circle; the edge into each drawn h_l
    is labelled with its weights, the edge into each z_l with the activation."""
    net = Network.uniform(depth=depth, activation="tanh", output="sigmoid", loss="bce",
                          norm="layer" if depth == 3 else "none")
    svg = render_svg(backprop(net), notation)
    texts = _texts(svg)
    assert not any(c in text for text, _ in texts for c in "\\{}^_")
    assert "-" not in "".join(i for _, i in texts)          # a minus sign, not a hyphen
    assert ("−" in svg) == (depth == "L" and notation != "gh")     # gh: N, not L − 1
    nodes = _texts(svg, r' x="[\d.]+" y="(?:65|119)"[^>]*')      # in circles and boxes
    assert len(nodes) > 2 * len(diagram.layers(net))
    assert all(len(text) <= 5 for text, _ in nodes), nodes
    edges = _texts(svg, r' x="[\d.]+" y="50"[^>]*')
    assert all(len(text) <= 8 for text, _ in edges), edges
    drawn = [l for l in diagram.layers(net) if l is not None]
    weights = [t for t in texts if t[0].startswith(PRESETS[notation].weight) and t[1]]
    assert len(weights) == len(drawn)
    assert sum(t[0] == "tanh" for t in texts) == len(drawn) - 1
    assert sum(t[0] == "σ" for t in texts) == 1          # the output layer's sigmoid
