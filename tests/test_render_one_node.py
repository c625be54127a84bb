"""pq one-node documents (003 §I–II): written with numbers throughout, the missing
weight in red, the pattern ∂C/∂w_{i,i+1} = δ_{2−i} q_i and the two sanity checks.

Oracles: finite differences of the cost written as a nested function of the weights,
and the linear chain's own derivation for the identity check.
"""
import re

import numpy
import pytest
from sympy import Symbol, lambdify

from derive import Network, backprop, render
from derive.cli.gallery import entries
from derive.documents.notes import context, render_svg
from derive.documents.one_node import identity_chain
from derive.documents.scalars import Scalar, scalar
from derive.ir.activations import is_atom, realize
from derive.ir.nodes import Var

ONE_NODE = [e for e in entries() if e.notation == "pq" and e.net.widths
            and all(w == 1 for w in e.net.widths)]
#: what a one-node document must never contain (vectors, 1 × 1 shapes, sums over one term)
NOT_SCALAR = [r"\mathbf", r"\boldsymbol", r"\mathbb{R}^{1", r"\times 1", r"\sum_{",
              r"\mathbb{I}[", r"\mathbb{1}[", r"\odot", r"^{\top}"]


def test_the_gallery_has_both_one_node_chains():
    assert {e.name for e in ONE_NODE} == {"003_one_node_linear", "003_one_node_nonlinear"}


@pytest.mark.parametrize("entry", ONE_NODE, ids=lambda e: e.name)
@pytest.mark.parametrize("fmt", ["latex", "markdown"])
@pytest.mark.parametrize("layout", [None, "numerator"])     # numbers have no layout
def test_one_node_documents_are_numbers_throughout(entry, fmt, layout):
    text = render(backprop(entry.net), fmt, "pq", layout=layout)
    for bad in NOT_SCALAR:
        assert bad not in text, bad
    assert not re.search(r"\\sum_\{\w=1\}\^\{1\}", text)
    assert "row vector" not in text


@pytest.mark.parametrize("entry", ONE_NODE, ids=lambda e: e.name)
def test_one_node_diagram_numbers_errors_from_the_output(entry):
    svg = render_svg(backprop(entry.net), "pq")
    labels = re.findall(r">δ<tspan[^>]*>(\d)</tspan>", svg)       # δ with a lowered index
    assert labels == [f"{entry.net.depth - l}" for l in range(1, entry.net.depth + 1)]


def _leaves(net):
    """The weights, the input and y: the raw input p_0 where the chain squashes it with
    σ_0, the input q_0 itself in 003's linear chain (no σ_0 there)."""
    squashed = any(a != "identity" for a in net.activations)
    return [Scalar(Var("W", l, 1, 1)) for l in range(1, net.depth + 1)] + \
        [Scalar(Var("h" if squashed else "z", 0, 1, 1)), Scalar(Var("y", net.depth, 1, 1))]


def _input_is_identity(f):
    return is_atom(f) and type(f).rule_name == "input"


def _nested(expr, forward):
    """``expr`` in the weights, p_0 and y only (σ_0 taken as the identity: the input's
    squashing is a constant for every weight gradient)."""
    for _ in range(4 * len(forward) + 2):
        expr = expr.xreplace(forward)
    return realize(expr.replace(_input_is_identity, lambda f: f.args[0]))


def _function(leaves, expr):
    """A numeric function of the leaves (numbers in the document's Scalar atoms)."""
    names = [Symbol(f"v{k}") for k in range(len(leaves))]
    return lambdify(names, expr.xreplace(dict(zip(leaves, names))))


@pytest.mark.parametrize("entry", ONE_NODE, ids=lambda e: e.name)
def test_red_weight_chains_are_the_gradients(entry):
    """Each written-out gradient (the chain without its red weight) agrees with a finite
    difference of the cost as a function of that weight; the red weight is the one the
    line differentiates by."""
    d = backprop(entry.net)
    ctx = context(d, "pq")
    one = ctx["one_node"]
    net, L = entry.net, entry.net.depth
    forward = one["forward_map"]
    # σ'(p_k) is a function of p_k: give it its argument as a nested expression too
    forward = {**forward, **{Scalar(Var("h", k, 1, 1)): forward[Scalar(Var("h", k, 1, 1))]
                             for k in range(1, L + 1)}}
    leaves = _leaves(net)
    q_L = _nested(Scalar(Var("z", L, 1, 1)), forward)
    cost = _function(leaves, (q_L - leaves[-1]) ** 2 / 2)
    rng = numpy.random.default_rng(3)
    point = list(rng.uniform(-0.9, 0.9, size=len(leaves)))
    for g, layer in zip(one["grads"], range(L, 0, -1)):
        assert g["weight"] in (f"w_{{{layer - 1}{layer}}}",)
        grad = _function(leaves, _nested(one["explicit"][layer], forward))(*point)
        k, eps = layer - 1, 1e-6
        up, down = list(point), list(point)
        up[k] += eps
        down[k] -= eps
        assert abs(grad - (cost(*up) - cost(*down)) / (2 * eps)) < 1e-7
    tex = render(d, "latex", "pq")
    for g in one["grads"]:
        assert rf"\textcolor{{red}}{{{g['weight']}}}" in tex


@pytest.mark.parametrize("entry", ONE_NODE, ids=lambda e: e.name)
def test_the_pattern_is_003s(entry):
    one = context(backprop(entry.net), "pq")["one_node"]
    i = Symbol("i")
    hidden = entry.net.depth - 1
    assert one["pattern"] == rf"\frac{{\partial C}}{{\partial w_{{i,i+1}}}} = " \
        rf"\delta_{{{str(hidden - i).replace(' ', '')}}} q_{{i}}"
    assert one["hidden"] == str(hidden)


@pytest.mark.parametrize("entry", ONE_NODE, ids=lambda e: e.name)
def test_first_check_gradients_vanish_at_the_target(entry):
    """Oracle: at a point where the target equals the network's output, a finite
    difference of the cost by every weight is zero."""
    d = backprop(entry.net)
    one = context(d, "pq")["one_node"]
    L = entry.net.depth
    assert len(one["checks"]["zero"]) == L
    assert all(c["rhs"] == "0" and r"\right|_{q_{3} = y}" in c["lhs"]
               for c in one["checks"]["zero"])
    forward = one["forward_map"]
    leaves = _leaves(entry.net)
    q_L = _nested(Scalar(Var("z", L, 1, 1)), forward)
    point = list(numpy.random.default_rng(4).uniform(-0.9, 0.9, size=len(leaves)))
    point[-1] = float(_function(leaves, q_L)(*point))
    cost = _function(leaves, (q_L - leaves[-1]) ** 2 / 2)
    for k in range(L):
        up, down = list(point), list(point)
        up[k] += 1e-5
        down[k] -= 1e-5
        assert abs(cost(*up) - cost(*down)) < 1e-12


def test_second_check_gives_the_linear_chain():
    """Oracle: the identity-activation gradients printed in the nonlinear document are
    the linear network's own derived gradients."""
    nonlinear = next(e for e in ONE_NODE if e.name == "003_one_node_nonlinear")
    linear = next(e for e in ONE_NODE if e.name == "003_one_node_linear")
    one = context(backprop(nonlinear.net), "pq")["one_node"]
    d_lin = backprop(linear.net)
    lin = context(d_lin, "pq")["one_node"]
    L = nonlinear.net.depth
    assert len(one["checks"]["identity"]) == L and lin["checks"]["identity"] == []
    for layer in range(1, L + 1):
        mine = identity_chain(one["explicit"][layer])
        theirs = _nested(scalar(d_lin.expanded("W", layer)),
                         {k: v for k, v in lin["forward_map"].items()
                          if k != Scalar(Var("z", L, 1, 1))})
        assert not mine.atoms(Scalar) - set(_leaves(nonlinear.net)) - \
            {Scalar(Var("z", L, 1, 1))}
        theirs = theirs.xreplace({Scalar(Var("z", 0, 1, 1)): Scalar(Var("h", 0, 1, 1))})
        assert (identity_chain(theirs) - mine).expand() == 0     # σ_0 = id: q_0 = p_0
        assert not [a for a in mine.atoms() if is_atom(a)]


def test_multi_node_pq_documents_keep_vectors():
    md = render(backprop(Network(activations=("sigmoid",) * 3, loss="mse")), "markdown", "pq")
    assert r"\boldsymbol{\delta}" in md and r"\textcolor{red}" not in md
