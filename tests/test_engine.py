"""The engine against the closed forms of the seed notes, finite differences, and its
own certification over every activation × loss × bias mode."""
import random

import pytest
from differences import CentralDifferences
from nets import BIASES, net_for, small_widths, valid_pairs
from sympy import Integer, Rational, cancel, diff, together
from sympy.matrices.expressions import HadamardProduct, Transpose

from derive import Network, SpecError, backprop
from derive.calculus.compare import TOLERANCE, numeric_gap
from derive.calculus.evaluate import normalise
from derive.engine.certificate import matrix_gradients
from derive.engine.instance import Instance, random_point
from derive.ir.nodes import Act, Var
from derive.vocab import BATCH, DEPTH


def v(d, kind, layer):
    """A layer quantity of derivation d, shaped as the engine shapes it."""
    for step in d.steps:
        for node in (step.lhs, step.rhs):
            for var in node.atoms(Var):
                if var.kind == kind and var.layer == layer:
                    return var
    raise KeyError((kind, layer))


def equal_at(d, left, right, widths):
    """Exact equality of two matrix expressions at an instance of the network."""
    inst = Instance(d.net, widths)
    from derive.engine.certificate import matrix_gradients
    matrix_gradients(d, inst)  # fills the δ values
    a, b = inst.evaluate(left), inst.evaluate(right)
    assert a.shape == b.shape
    return all(cancel(together(normalise(a[r, c] - b[r, c]))) == 0
               for r in range(a.rows) for c in range(a.cols))


# --- seed 000: sigmoid + binary cross-entropy ----------------------------------------
def test_000_last_layer_closed_form_depth_3():
    d = backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce", widths=(2, 3, 2, 2)))
    z3, z2, y = v(d, "z", 3), v(d, "z", 2), v(d, "y", 3)
    assert d.delta(3) == z3 - y
    assert equal_at(d, d.expanded("W", 3), (z3 - y) * Transpose(z2), (2, 3, 2, 2))


def test_000_last_layer_closed_form_symbolic_depth():
    d = backprop(Network.uniform(depth="L", activation="sigmoid", loss="bce"))
    zL, zprev, y = v(d, "z", DEPTH), v(d, "z", DEPTH - 1), v(d, "y", DEPTH)
    assert d.expanded("W", "L") == (zL - y) * Transpose(zprev)


def test_000_cancellation_is_shown():
    d = backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce"))
    rules_used = [s.rule for s in d.steps if s.topic == "output"]
    assert "loss/activation cancellation" in rules_used
    # the step before the cancellation still has the divide-by-zero denominator
    before = [s for s in d.steps if s.topic == "output" and s.rule == "substitution"
              and s.form == "index" and "Times" in type(s.rhs).__name__]
    assert before, "the product before cancelling must be shown as written"


def test_000_layer_before_is_not_the_same_closed_form():
    d = backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce", widths=(2, 2, 2, 2)))
    z2, z1, y = v(d, "z", 2), v(d, "z", 1), v(d, "y", 3)
    assert not equal_at(d, d.expanded("W", 2), (z2 - y) * Transpose(z1), (2, 2, 2, 2))
    W3, h2 = v(d, "W", 3), v(d, "h", 2)
    right = HadamardProduct(Transpose(W3) * (v(d, "z", 3) - y), Act("sigmoid", h2, 1)) \
        * Transpose(z1)
    assert equal_at(d, d.expanded("W", 2), right, (2, 2, 2, 2))


# --- seed 002: squared loss, linear output --------------------------------------------
@pytest.mark.parametrize("bias", ["none", "augmented"])
def test_002_one_hidden_layer(bias):
    widths = (2, 3, 2)
    d = backprop(Network(activations=("sigmoid", "identity"), loss="sse", bias=bias,
                         widths=widths))
    f, y = v(d, "z", 2), v(d, "y", 2)
    h = v(d, "zaug" if bias == "augmented" else "z", 1)
    x = v(d, "zaug" if bias == "augmented" else "z", 0)
    W = v(d, "Wbar" if bias == "augmented" else "W", 2)
    g = v(d, "h", 1)
    assert equal_at(d, d.expanded("W", 2), 2 * (f - y) * Transpose(h), widths)
    right = 2 * HadamardProduct(Transpose(W) * (f - y), Act("sigmoid", g, 1)) * Transpose(x)
    assert equal_at(d, d.expanded("W", 1), right, widths)


def test_002_factor_two_is_required():
    widths = (2, 3, 2)
    d = backprop(Network(activations=("sigmoid", "identity"), loss="sse", widths=widths))
    f, y, h = v(d, "z", 2), v(d, "y", 2), v(d, "z", 1)
    assert not equal_at(d, d.expanded("W", 2), (f - y) * Transpose(h), widths)


# --- seed 003: linear chain -------------------------------------------------------------
def test_003_linear_chain():
    widths = (2, 2, 3, 2)
    d = backprop(Network.uniform(depth=3, activation="identity", loss="mse", widths=widths))
    x0, x1, x2, x3, y = (v(d, "z", 0), v(d, "z", 1), v(d, "z", 2), v(d, "z", 3), v(d, "y", 3))
    W2, W3 = v(d, "W", 2), v(d, "W", 3)
    assert equal_at(d, d.expanded("W", 1),
                    Transpose(W2) * Transpose(W3) * (x3 - y) * Transpose(x0), widths)
    assert equal_at(d, d.expanded("W", 2), Transpose(W3) * (x3 - y) * Transpose(x1), widths)
    assert equal_at(d, d.expanded("W", 3), (x3 - y) * Transpose(x2), widths)
    # the wrong order of transposes does not hold (shapes agree at square widths)
    sq = (2, 2, 2, 2)
    d2 = backprop(Network.uniform(depth=3, activation="identity", loss="mse", widths=sq))
    wrong = Transpose(v(d2, "W", 3)) * Transpose(v(d2, "W", 2)) * \
        (v(d2, "z", 3) - v(d2, "y", 3)) * Transpose(v(d2, "z", 0))
    assert not equal_at(d2, d2.expanded("W", 1), wrong, sq)


# --- the four fundamental equations (explicit biases) ----------------------------------
def test_four_fundamental_equations():
    widths = (2, 3, 2)
    d = backprop(Network(activations=("tanh", "sigmoid"), loss="mse", bias="explicit",
                         widths=widths))
    a2, y, z2 = v(d, "z", 2), v(d, "y", 2), v(d, "h", 2)
    d2, d1 = v(d, "delta", 2), v(d, "delta", 1)
    assert equal_at(d, d.delta(2), HadamardProduct(a2 - y, Act("sigmoid", z2, 1)), widths)
    assert d.delta(1) == HadamardProduct(Transpose(v(d, "W", 2)) * d2, Act("tanh", v(d, "h", 1), 1))
    assert d.grad("b", 1) == d1 and d.grad("b", 2) == d2
    assert d.grad("W", 2) == d2 * Transpose(v(d, "z", 1))


def test_sigmoid_mse_is_not_the_cancelling_form():
    d = backprop(Network(activations=("sigmoid", "sigmoid"), loss="mse", widths=(2, 2, 2)))
    assert not equal_at(d, d.delta(2), v(d, "z", 2) - v(d, "y", 2), (2, 2, 2))


@pytest.mark.parametrize("act,loss,factor", [("sigmoid", "bce", 1), ("softmax", "cce", 1),
                                             ("identity", "mse", 1), ("identity", "sse", 2)])
def test_cancelling_pairs(act, loss, factor):
    d = backprop(Network(activations=("tanh", act), loss=loss))
    z, y = v(d, "z", 2), v(d, "y", 2)
    assert (d.delta(2) - factor * (z - y)).doit() == 0 or d.delta(2) == factor * (z - y)


def test_softmax_jacobian_is_not_diagonal():
    d = backprop(Network(activations=("tanh", "softmax"), loss="mse"))
    text = str(d.delta(2))
    assert "DiagMatrix" in text and "z_2.T" in text


def test_softmax_cce_states_its_assumption():
    d = backprop(Network(activations=("tanh", "softmax"), loss="cce"))
    assert any("probability" in a for a in d.assumptions)


def test_no_delta_left_in_expanded_forms():
    d = backprop(Network.uniform(depth=4, activation="tanh", loss="mse"))
    for l in range(1, 5):
        assert not [a for a in d.expanded("W", l).atoms(Var) if a.kind == "delta"]


def test_layers_that_do_not_exist():
    d = backprop(Network.uniform(depth=3, activation="tanh", loss="mse"))
    for bad in (0, 4, "L-7", "q", True):
        with pytest.raises(SpecError, match="does not exist"):
            d.grad("W", bad)
    with pytest.raises(SpecError, match="allowed: W"):
        d.grad("b", 1)


def test_index_form_is_a_chain_rule_sum():
    from sympy import Sum
    d = backprop(Network.uniform(depth=2, activation="tanh", loss="mse"))
    assert isinstance(d.index_form("W", 1), Sum)


# --- finite differences of the expanded gradient --------------------------------------
@pytest.mark.parametrize("act,loss", [("sigmoid", "bce"), ("tanh", "mse"), ("softmax", "cce"),
                                      ("softplus", "mean_mse")])
@pytest.mark.parametrize("bias", BIASES)
def test_expanded_gradient_matches_finite_differences(act, loss, bias):
    widths = (2, 3, 2)
    d = backprop(net_for(act, loss, 2, bias=bias, widths=widths))
    inst = Instance(d.net, widths)
    rng = random.Random(7)
    values = {s: Rational(rng.randint(-8, 8), 9) for m in inst.env.values()
              for s in m.free_symbols}
    y = inst.env[("y", 2)]
    col = [Rational(rng.randint(1, 9), 10) for _ in range(y.rows)]
    if loss == "cce":
        col = [c / sum(col) for c in col]
    values.update({y[r, 0]: col[r] for r in range(y.rows)})
    eps = Rational(1, 10 ** 12)
    differences = CentralDifferences(inst.loss)
    for kind, layer, symbols in inst.params:
        grad = inst.evaluate(d.substitute_deltas(d.grad(kind, layer)))
        for r in range(symbols.rows):
            for c in range(symbols.cols):
                w = symbols[r, c]
                numeric = differences(w, values, eps)
                claimed = grad[r, c].xreplace(values).evalf(40)
                assert abs(numeric - claimed) <= Rational(1, 10 ** 15) * max(1, abs(numeric))


# --- certification, generated over the tables ------------------------------------------
# The engine derives the output layer once per (output activation, loss, bias) and a hidden
# block once per (hidden activation, bias); depth 2 adds one hidden layer under the output,
# depth 3 a hidden layer under a hidden one. So every (pair, bias) is certified once, at
# depth 1 + (pair + bias) mod 3: each pair meets every depth (over the three biases), and
# each (activation, bias) every depth (each activation has at least three pairs, in a row).
PAIRS = valid_pairs()
CASES = [(act, loss, bias, 1 + (i + j) % 3) for i, (act, loss) in enumerate(PAIRS)
         for j, bias in enumerate(BIASES)]


def test_the_certified_cases_cover_what_the_engine_derives():
    assert {(a, lo, b) for a, lo, b, _ in CASES} == {(a, lo, b) for a, lo in PAIRS
                                                     for b in BIASES}
    assert {(a, lo, d) for a, lo, _, d in CASES} == {(a, lo, d) for a, lo in PAIRS
                                                     for d in (1, 2, 3)}
    assert {(a, b, d) for a, _, b, d in CASES} == {(a, b, d) for a, _ in PAIRS
                                                   for b in BIASES for d in (1, 2, 3)}


@pytest.mark.parametrize("act,loss,bias,depth", CASES,
                         ids=[f"{a}-{l}-{b}-{d}" for a, l, b, d in CASES])
def test_certify_every_pair_and_bias_mode(act, loss, bias, depth):
    d = backprop(net_for(act, loss, depth, bias=bias))
    cert = d.certify(widths=small_widths(act, depth), points=1, exact=depth < 3)
    assert cert.holds, cert.failures[:3]
    assert cert.entries > 0


@pytest.mark.parametrize("act,loss", [("sigmoid", "bce"), ("softmax", "cce"), ("relu", "mse")])
def test_certify_batches(act, loss):
    d = backprop(net_for(act, loss, 2, bias="explicit", batch=True))
    cert = d.certify(widths=(2, 2, 2), points=1)
    assert cert.holds, cert.failures[:3]


@pytest.mark.parametrize("act,loss,output", [("sigmoid", "bce", "sigmoid"),
                                             ("tanh", "sse", "identity"),
                                             ("tanh", "cce", "softmax")])
def test_certify_symbolic_depth(act, loss, output):
    d = backprop(Network.uniform(depth="L", activation=act, loss=loss, output=output))
    cert = d.certify(widths=(2, 2, 2, 2), points=1, exact=False)
    assert cert.holds, cert.failures[:3]


def test_certify_catches_a_wrong_form():
    d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
    wrong = d._deltas[Integer(1)]
    d._deltas[Integer(1)] = 2 * wrong          # break the recursion on purpose
    cert = d.certify(widths=(2, 2, 2), points=1)
    assert not cert.holds and cert.failures


@pytest.mark.parametrize("widths, m", [((2, 2, 2), 3), ((2, 3, 2), 4), ((3, 4, 5), 6)])
def test_a_batch_certificate_catches_a_half_for_the_batch_mean(widths, m):
    """δ_2 = ½ (z_2 − y) in place of (1/m)(z_2 − y): at m = 2 the two are one number
    (the old batch size of certificates, which this form passed); the certificate's
    batch size is ≥ 3 and no width, so it fails there."""
    net = Network.uniform(depth=2, activation="sigmoid", loss="bce", batch=True)
    d = backprop(net)
    assert d.delta(2).has(BATCH)
    d._deltas[Integer(2)] = d.delta(2) * BATCH / 2      # 1/m → 1/2, on purpose
    cert = d.certify(widths=widths, points=1, exact=False)
    assert cert.m == m and m >= 3 and m not in widths
    assert not cert.holds and {f[:2] for f in cert.failures} >= {("W", 2), ("W", 1)}
    # the oracle: at m = 2 the wrong form equals the brute-force derivative
    two = Instance(net, widths, m=2)
    tampered = matrix_gradients(d, two)
    point = random_point(two, random.Random(0))
    W = two.env[("W", 2)]
    assert numeric_gap(diff(two.loss, W[0, 0]), tampered[("W", 2)][0, 0], point) < TOLERANCE
