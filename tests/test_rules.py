"""The rule tables, one generated test per row."""

import pytest
from sympy import Rational, diff

from derive.spec import rules

POINTS = [Rational(n, 7) for n in (-13, -5, -1, 2, 9, 16)]
ELEMENTWISE = [a for a in rules.ACTIVATIONS.values() if a.elementwise]


def _close(a, b):
    return abs((a - b).evalf(30)) < 1e-25


@pytest.mark.parametrize("row", ELEMENTWISE, ids=lambda r: r.name)
def test_derivative_is_the_derivative_of_the_definition(row):
    for p in POINTS:  # away from 0, where relu and leaky_relu have a kink
        assert _close(diff(row.forward, rules.x).subs(rules.x, p), row.derivative.subs(rules.x, p))


@pytest.mark.parametrize("row", [a for a in ELEMENTWISE if a.derivative_out is not None],
                         ids=lambda r: r.name)
def test_output_form_agrees_with_the_derivative(row):
    for p in POINTS:
        out = row.forward.subs(rules.x, p)
        assert _close(row.derivative_out.subs(rules.u, out), row.derivative.subs(rules.x, p))


@pytest.mark.parametrize("row", ELEMENTWISE, ids=lambda r: r.name)
def test_stable_form_equals_the_definition(row):
    for p in POINTS + [Rational(200), Rational(-200)]:
        assert _close(row.stable_forward().subs(rules.x, p), row.forward.subs(rules.x, p))


@pytest.mark.parametrize("row", ELEMENTWISE, ids=lambda r: r.name)
def test_range_is_respected(row):
    bounds = {"unit": (0, 1), "symmetric": (-1, 1), "positive": (0, None),
              "nonnegative": (0, None), "real": (None, None)}[row.range]
    for p in POINTS:
        value = row.forward.subs(rules.x, p).evalf()
        lo, hi = bounds
        assert lo is None or value >= lo
        assert hi is None or value <= hi


def test_relu_derivative_at_zero_is_stated_and_is_zero():
    row = rules.activation("relu")
    assert row.derivative.subs(rules.x, 0) == 0
    assert "0" in row.note


@pytest.mark.parametrize("row", [r for r in rules.LOSSES.values() if r.target != "simplex"],
                         ids=lambda r: r.name)
def test_loss_is_zero_derivative_at_a_perfect_prediction(row):
    # at u = t the derivative of each term vanishes (cce is minimal only on the simplex,
    # which the engine's softmax + cce test covers)
    for t in (Rational(1, 5), Rational(3, 4)):
        assert diff(row.term, rules.u).subs({rules.u: t, rules.t: t}) == 0


def test_custom_activation_is_parsed_and_differentiated():
    row = rules.activation("custom:x/(1+exp(-x))")
    assert _close(row.derivative.subs(rules.x, 1), diff(row.forward, rules.x).subs(rules.x, 1))
    assert row.forward.subs(rules.x, 0) == 0
