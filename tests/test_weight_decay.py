"""Weight decay (SPEC §1b): J + (λ/2) Σ_l ‖W_l‖_F², a second path into ∂J/∂W_l (the
accumulation rule), in the engine and in `certify`, and against finite differences."""
import random

import pytest
from sympy import Float, Rational

from derive import Network, SpecError, backprop, export_numpy, render
from derive.engine.certificate import matrix_gradients
from derive.engine.instance import Instance, random_point
from derive.ir.activations import realize
from derive.ir.steps import Rule
from derive.vocab import LAMBDA

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
    for kind, layer, symbols in inst.params:
        for w in symbols:
            up = inst.loss.xreplace({**point, w: point[w] + step}).evalf(40)
            down = inst.loss.xreplace({**point, w: point[w] - step}).evalf(40)
            numeric = (up - down) / (2 * step)
            r, c = [(r, c) for r in range(symbols.rows) for c in range(symbols.cols)
                    if symbols[r, c] == w][0]
            claimed = _value(grads[(kind, layer)][r, c], point)
            assert abs(numeric - claimed) < Float(10) ** -15


def _value(expr, point):
    return realize(expr.xreplace(point)).evalf(40)


def test_the_export_refuses_weight_decay_until_it_supports_it():
    with pytest.raises(SpecError, match="weight_decay"):
        export_numpy(_net(CASES[0]))


def test_documents_show_weight_decay_as_a_second_route():
    """The documents cover weight decay: every layer's weight gradient is printed with
    the λW_l term the engine derived, justified as the other route to the loss."""
    d = backprop(Network.uniform(depth=2, activation="tanh", loss="mse", weight_decay=True))
    md = render(d, "markdown")
    for layer in (1, 2):
        assert rf"\lambda W_{{{layer}}} + " in md
    assert "add the other route" in md
