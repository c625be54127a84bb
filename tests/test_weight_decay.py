"""Weight decay (SPEC §1b): J + (λ/2) Σ_l ‖W_l‖_F², a second path into ∂J/∂W_l (the
accumulation rule), in the engine and in `certify`, and against finite differences."""
import random

import numpy as np
import pytest
from differences import CentralDifferences
from sympy import Add, Float, ImmutableMatrix, Indexed, Integer, Rational, Sum

from derive import Network, SpecError, backprop, export_numpy, render
from derive.engine.certificate import matrix_gradients
from derive.engine.instance import Instance, random_point
from derive.ir.activations import realize
from derive.ir.nodes import Var
from derive.ir.steps import Rule
from derive.printing.latex import NotesLatexPrinter
from derive.printing.notation import get as get_notation
from derive.vocab import DATA_LOSS, LAMBDA, LOSS, WIDTH

CASES = [dict(depth=3, activation="sigmoid", loss="bce"),
         dict(depth=2, activation="tanh", loss="mse", bias="explicit", batch=True),
         dict(depth=2, activation="relu", output="softmax", loss="cce"),
         dict(depth="L", activation="tanh", output="identity", loss="sse")]


def _net(case, **extra):
    return Network.uniform(**case, weight_decay=True, **extra)


def test_off_by_default_and_validated():
    net = Network.uniform(depth=2, activation="tanh", loss="mse")
    assert net.weight_decay is False and "decay" not in net.describe()
    assert "weight decay on" in _net(CASES[0]).describe()
    with pytest.raises(SpecError, match="weight_decay"):
        Network.uniform(depth=2, activation="tanh", loss="mse", weight_decay="yes")
    with pytest.raises(SpecError, match="weight_decay.*augmented"):
        Network.uniform(depth=2, activation="tanh", loss="mse", bias="augmented",
                        weight_decay=True)


def test_the_penalty_is_a_second_path_into_the_weights():
    d = backprop(_net(CASES[0]))
    plain = backprop(Network.uniform(**CASES[0]))
    W = [s for s in d.steps if s.rule == Rule.ACCUMULATION and s.layer == 2][0].lhs.wrt
    assert d.grad("W", 2) == plain.grad("W", 2) + LAMBDA * W
    assert d.delta(1) == plain.delta(1)          # δ does not see the penalty
    assert d.index_form("W", 2).has(LAMBDA)
    assert not backprop(Network.uniform(**CASES[0])).index_form("W", 2).has(LAMBDA)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['activation']}-{c['loss']}")
def test_certify_with_weight_decay(case):
    cert = backprop(_net(case)).certify()
    plain = backprop(Network.uniform(**case)).certify()
    assert cert.holds and cert.exact == plain.exact   # relu's kink is checked numerically


@pytest.mark.parametrize("case", CASES[:3], ids=lambda c: f"{c['activation']}-{c['loss']}")
def test_gradients_match_central_finite_differences(case):
    net = _net(case)
    d = backprop(net)
    widths = (2,) * (net.depth + 1)
    inst = Instance(net, widths)
    grads = matrix_gradients(d, inst)
    point = random_point(inst, random.Random(3))
    assert point[LAMBDA] > 0
    step = Rational(1, 10 ** 12)
    differences = CentralDifferences(inst.loss)
    for kind, layer, symbols in inst.params:
        for w in symbols:
            numeric = differences(w, point, step)
            r, c = [(r, c) for r in range(symbols.rows) for c in range(symbols.cols)
                    if symbols[r, c] == w][0]
            claimed = _value(grads[(kind, layer)][r, c], point)
            assert abs(numeric - claimed) < Float(10) ** -15


def _value(expr, point):
    return realize(expr.xreplace(point)).evalf(40)


@pytest.mark.parametrize("case", [c for c in CASES if c["depth"] != "L"],
                         ids=lambda c: f"{c['activation']}-{c['loss']}")
def test_the_export_adds_the_penalty_and_its_gradient(case):
    """The exported J is the plain network's J plus (λ/2) Σ‖W_l‖²; its gradients agree
    with central differences of that J (the export needs a concrete depth)."""
    decayed, plain = export_numpy(_net(case)), export_numpy(Network.uniform(**case))
    rng = np.random.default_rng(4)
    explicit = case.get("bias") == "explicit"
    widths = (3, 4, 4, 3)[:case["depth"] + 1]
    params = []
    for l in range(1, len(widths)):
        params.append(rng.normal(size=(widths[l], widths[l - 1])))
        if explicit:
            params.append(rng.normal(size=(widths[l], 1)))
    X = rng.normal(size=(widths[0], 5))
    Y = rng.dirichlet(np.ones(widths[-1]), size=5).T
    lam = 0.25
    penalty = lam / 2 * sum(np.sum(W * W) for W in params[::2 if explicit else 1])
    J = decayed.loss(params, X, Y, weight_decay=lam)
    assert J == pytest.approx(plain.loss(params, X, Y) + penalty, rel=1e-13)
    grads = decayed.gradients(params, X, Y, weight_decay=lam)
    for k, p in enumerate(params):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-6
            up = decayed.loss(params, X, Y, weight_decay=lam)
            p[idx] = old - 1e-6
            down = decayed.loss(params, X, Y, weight_decay=lam)
            p[idx] = old
            numeric[idx] = (up - down) / 2e-6
        assert np.max(np.abs(grads[k] - numeric)) < 1e-6 * max(1, np.max(np.abs(numeric)))


def test_documents_show_weight_decay_as_a_second_route():
    """The documents cover weight decay: every layer's weight gradient is printed with
    the λW_l term the engine derived, justified as the other route to the loss."""
    d = backprop(Network.uniform(depth=2, activation="tanh", loss="mse", weight_decay=True))
    md = render(d, "markdown")
    for layer in (1, 2):
        assert rf"\lambda W_{{{layer}}} + " in md
    assert "add the other route" in md


# -- the decayed loss the documents state (J = J_data + (λ/2) Σ_l ‖W_l‖_F²) -----------
#: networks with fixed widths (so every sum can be evaluated), plain and with options
LOSS_CASES = [dict(activations=("sigmoid",) * 3, loss="bce", widths=(2, 3, 2, 1)),
              dict(activations=("tanh", "tanh"), loss="mse", bias="explicit", batch=True,
                   widths=(3, 2, 2)),
              dict(activations=("relu",) * 3, loss="mse", bias="explicit", widths=(2, 3, 3, 2),
                   residual=True, dropout=True),
              dict(activations=("tanh",) * 3, loss="mse", norm="batch", batch=True,
                   widths=(2, 3, 3, 2)),
              dict(activations=("tanh",) * 7, loss="mse", widths=(2,) * 8)]


def _numeric(expr, mats, widths):
    """expr at the point ``mats`` ((kind, layer) -> array): the widths fixed, every sum
    written out, each component and each matrix replaced by its numbers."""

    def layers_first(e):      # the layer sum's terms, then each term's own sums
        (var, lo, hi), rest = e.limits[-1], e.limits[:-1]
        body = Sum(e.function, *rest) if rest else e.function
        return Add(*[body.xreplace({var: Integer(k)}) for k in range(int(lo), int(hi) + 1)])
    expr = expr.replace(lambda e: isinstance(e, Sum) and e.limits[-1][0].name == "l",
                        layers_first)
    expr = expr.xreplace({WIDTH[q]: Integer(w) for q, w in enumerate(widths)})
    expr = expr.doit()

    def entry(e):
        var = e.base.label
        return mats[(var.kind, int(var.layer))][tuple(int(x) - 1 for x in e.indices)]
    expr = expr.replace(lambda e: isinstance(e, Indexed) and isinstance(e.base.label, Var),
                        entry)
    expr = expr.replace(lambda e: isinstance(e, Var),
                        lambda e: ImmutableMatrix(mats[(e.kind, int(e.layer))]))
    return float(expr.doit())


@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: c["loss"] + str(len(c["widths"])))
def test_the_decayed_loss_is_the_data_loss_plus_the_penalty(case):
    """The loss steps name the data loss J_data, then state J: every line of that
    display, at a random point, equals J_data + (λ/2) Σ_l Σ_ij (W_l)_ij² computed with
    NumPy; the lines are the index form, the Frobenius form and (a depth up to 6) the
    layers listed; the printed document shows each of them."""
    net = Network(weight_decay=True, **case)
    d = backprop(net)
    loss = [s for s in d.steps if s.topic == "loss"]
    data = [s for s in loss if s.group == "loss"]
    total = [s for s in loss if s.group == "decay"]
    assert data and all(s.lhs == DATA_LOSS for s in data)
    assert [s.lhs for s in total] == [LOSS] * (3 if net.depth <= 6 else 2)
    rng = np.random.default_rng(11)
    mats = {("W", l): rng.normal(size=(net.width(l), net.width(l - 1)))
            for l in range(1, net.depth + 1)}
    lam, data_value = 0.3, 1.7
    expected = data_value + lam / 2 * sum(np.sum(W ** 2) for W in mats.values())
    for s in total:
        value = _numeric(s.rhs.xreplace({LAMBDA: lam, DATA_LOSS: data_value}), mats,
                         net.widths)
        assert value == pytest.approx(expected, rel=1e-12)
    md = render(d, "markdown")
    p = NotesLatexPrinter(dict(notation=get_notation("hz"), depth=Integer(net.depth),
                               human=True, indicator=r"\mathbb{I}"))
    for s in total:
        assert p.doprint(s.rhs) in md


def test_the_symbolic_depth_sums_over_the_layers_and_plain_losses_are_unchanged():
    d = backprop(_net(CASES[3]))
    md = render(d, "markdown")
    assert (r"J &= J_{\text{data}} + \frac{\lambda}{2} \sum_{l=1}^{L} "
            r"\sum_{\substack{1 \leq i \leq n_{l}\\1 \leq j \leq n_{l-1}}}") in md
    assert r"\frac{\lambda}{2} \sum_{l=1}^{L} \lVert W_{l} \rVert_{F}^{2}" in md
    plain = render(backprop(Network.uniform(**CASES[3])), "markdown")
    assert r"\text{data}" not in plain and r"\lVert" not in plain
