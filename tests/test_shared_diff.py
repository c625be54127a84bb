"""`shared_diff` returns SymPy's own derivative of the expanded loss, expression for
expression: over every (activation, loss) pair of the rule tables, every bias mode,
batches, and the §1b options (the certificate's oracle must not change by the speed-up)."""
import pytest
from nets import BIASES, net_for, valid_pairs
from sympy import Max, Piecewise, Rational, Symbol, diff, exp, log, sqrt, tanh

from derive import Network
from derive.calculus.numeric import value
from derive.calculus.shared_diff import shared_diff
from derive.engine.instance import Instance

#: (options, depth): sympy.diff, the oracle, takes seconds on a normalized depth 3
OPTIONS = [(dict(residual=True, dropout=True, weight_decay=True), 3), (dict(norm="layer"), 2),
           (dict(norm="batch", batch=True), 2), (dict(norm="layer", dropout=True), 2)]


def _entries(inst):
    return [s for _, _, symbols in inst.params for s in symbols]


def _same_as_sympy(inst):
    for w in _entries(inst):
        assert shared_diff(inst.loss, w) == diff(inst.loss, w), w


@pytest.mark.parametrize("act, loss", valid_pairs())
@pytest.mark.parametrize("bias", BIASES)
def test_every_rule_pair_and_bias_mode(act, loss, bias):
    net = net_for(act, loss, 2, bias=bias, batch=bias == "explicit")
    _same_as_sympy(Instance(net, (2, 2, 2)))


@pytest.mark.parametrize("options, depth", OPTIONS, ids=["-".join(o) for o, _ in OPTIONS])
def test_the_layer_kinds(options, depth):
    net = Network.uniform(depth=depth, activation="sigmoid", loss="mse", bias="explicit",
                          **options)
    _same_as_sympy(Instance(net, (2,) * (depth + 1)))


def test_a_custom_activation():
    net = Network(activations=("custom:x/(1+exp(-x))", "sigmoid"), loss="bce")
    _same_as_sympy(Instance(net, (2, 2, 1)))


x, y = Symbol("x"), Symbol("y")


@pytest.mark.parametrize("expr", [
    (exp(x * y) + x) ** 2 + exp(x * y),                  # a shared subtree
    x ** x + log(x ** 2 + 1) * sqrt(x),                  # a power in x, a half power
    Max(0, x * y) + Max(x, y) * tanh(x),                 # relu-like, a two-argument max
    Piecewise((x ** 2, x > y), (y, True)) * (x + 1),     # no rule here: SymPy's own
    y * 3,                                               # free of x
])
def test_expressions_outside_the_networks(expr):
    assert shared_diff(expr, x) == diff(expr, x)


def test_shared_subtrees_are_differentiated_once():
    """A tower u_{k+1} = u_k² + u_k: a DAG of 30 nodes, a tree of about 3^30, which
    sympy.diff cannot walk; shared_diff's derivative is right at x = 1/100."""
    u = x
    for _ in range(30):
        u = u * u + u
    got = value(shared_diff(u, x), {x: Rational(1, 100)})
    v, dv = 0.01, 1.0          # the oracle: forward-mode derivative, in floats
    for _ in range(30):
        v, dv = v * v + v, 2 * v * dv + dv
    assert abs(float(got) - dv) <= 1e-12 * abs(dv)
