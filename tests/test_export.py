"""The exported gradients, generated over the rule tables: every output activation ×
loss × bias mode × batch mode (each hidden activation taking turns), checked against
central finite differences and against the engine's symbolic gradient."""
import warnings

import numpy as np
import pytest
from export_cases import (
    CASES,
    HIDDEN,
    case_id,
    central_differences,
    make_params,
    make_targets,
    module,
)
from nets import BIASES
from sympy import Float

from derive import Network, backprop, export_numpy
from derive.engine.certificate import matrix_gradients
from derive.engine.instance import Instance


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_match_finite_differences(case):
    hidden, out, loss, bias, batch = case
    g = module(*case)
    rng = np.random.default_rng(len(case_id(case)))
    widths, m = (3, 4, 3), 5          # m > 1 columns also without batch: summed
    params = make_params(widths, bias, rng)
    X = rng.normal(size=(widths[0], m))
    Y = make_targets(loss, out, widths[-1], m, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = g.gradients(params, X, Y)
    numeric = central_differences(g, params, X, Y)
    assert [a.shape for a in grads] == [p.shape for p in params]
    for exact, approx in zip(grads, numeric):
        scale = max(np.max(np.abs(exact)), 1e-3)
        assert np.max(np.abs(exact - approx)) / scale < 1e-6


def _engine_cases():
    """Every output/loss pair once, the bias and batch modes taking turns."""
    seen, picked = set(), []
    for case in CASES:
        key = case[1:3]
        turn = len(seen) % 6
        if key not in seen and (case[3], case[4]) == (BIASES[turn // 2], bool(turn % 2)):
            seen.add(key)
            picked.append(case)
    return picked


@pytest.mark.parametrize("case", _engine_cases(), ids=case_id)
def test_gradients_match_the_engine(case):
    """The symbolic ∂J/∂W_l = δ_l z_{l-1}ᵀ (δ's substituted), evaluated at numbers."""
    hidden, out, loss, bias, batch = case
    net = Network(activations=(hidden, out), loss=loss, bias=bias, batch=batch)
    d = backprop(net)
    inst = Instance(net, (2, 3, 2))
    symbolic = matrix_gradients(d, inst)
    rng = np.random.default_rng(7)
    params = make_params(inst.widths, bias, rng)
    X = rng.normal(size=(2, inst.m))
    Y = make_targets(loss, out, 2, inst.m, rng)
    values = {}
    for (_, _, symbols), value in zip(inst.params, params):
        values.update({symbols[i, j]: Float(value[i, j]) for i in range(symbols.rows)
                       for j in range(symbols.cols)})
    for key, array in (("z", X), ("y", Y)):
        symbols = inst.env[(key, 0 if key == "z" else 2)]
        values.update({symbols[i, j]: Float(array[i, j]) for i in range(symbols.rows)
                       for j in range(symbols.cols)})
    grads = module(*case).gradients(params, X, Y)
    for (kind, layer, _), got in zip(inst.params, grads):
        want = np.array(symbolic[(kind, layer)].xreplace(values).evalf(30).tolist(),
                        dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("hidden", HIDDEN)
def test_deep_and_wide_any_width(hidden):
    """Symbolic widths: the same module runs at any widths and batch sizes."""
    g = export_numpy(Network(activations=(hidden, hidden, "identity"), loss="mse",
                             bias="explicit", batch=True))
    rng = np.random.default_rng(3)
    for widths, m in (((2, 5, 1, 3), 1), ((6, 2, 7, 1), 9)):
        params = make_params(widths, "explicit", rng, scale=0.7)
        X, Y = rng.normal(size=(widths[0], m)), rng.normal(size=(widths[-1], m))
        grads = g.gradients(params, X, Y)
        numeric = central_differences(g, params, X, Y)
        for exact, approx in zip(grads, numeric):
            assert np.max(np.abs(exact - approx)) <= 1e-6 * max(1, np.max(np.abs(exact)))


@pytest.mark.parametrize("bias", BIASES)
def test_train_step_is_the_update_rule(bias):
    g = module("tanh", "sigmoid", "bce", bias, True)
    rng = np.random.default_rng(1)
    params = make_params((3, 4, 2), bias, rng, dtype=np.float32)
    X = rng.normal(size=(3, 6)).astype(np.float32)
    Y = make_targets("bce", "sigmoid", 2, 6, rng, np.float32)
    new = g.train_step(params, X, Y, 0.1)
    for p, q, grad in zip(params, new, g.gradients(params, X, Y)):
        assert q.dtype == np.float32 and q.shape == p.shape
        np.testing.assert_allclose(q, p - np.float32(0.1) * grad, rtol=1e-6)
    assert g.loss(new, X, Y) < g.loss(params, X, Y)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_loss_and_gradients_is_loss_then_gradients(case):
    """One forward pass gives the same floats as `loss` and `gradients` called apart."""
    hidden, out, loss, bias, batch = case
    g = module(*case)
    dtype = (np.float32, np.float64)[len(case_id(case)) % 2]
    rng = np.random.default_rng(len(case_id(case)) + 1)
    params = make_params((3, 4, 3), bias, rng, dtype)
    X = rng.normal(size=(3, 6)).astype(dtype)
    Y = make_targets(loss, out, 3, 6, rng, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, grads = g.loss_and_gradients(params, X, Y)
        apart = g.loss(params, X, Y), g.gradients(params, X, Y)
    assert J.dtype == dtype and J == apart[0]
    assert len(grads) == len(params)
    for got, want in zip(grads, apart[1]):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
