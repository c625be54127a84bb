"""Numbers (ISSUE 7.5): the exported functions check what they are given.

A table of bad arguments to ``forward``/``loss``/``gradients``/``train_step``, each a
`ValueError` whose message names the argument and what it must be (with warnings turned
into errors, so nothing slips through as a RuntimeWarning first); and saturated inputs
(pre-activations of ±1000 in hidden and output layers) in every float dtype give finite
values of that dtype without a warning.
"""
import warnings

import numpy as np
import pytest
from export_cases import assert_finite_outputs, make_params, make_targets, module

from derive import Network, export_numpy

RNG = np.random.default_rng(7)
G = export_numpy(Network(activations=("tanh", "sigmoid"), loss="bce", bias="explicit",
                         widths=(3, 4, 2)))
GB = export_numpy(Network(activations=("tanh", "softmax"), loss="cce", bias="augmented",
                          batch=True))
P = make_params((3, 4, 2), "explicit", RNG)
PB = make_params((3, 4, 2), "augmented", RNG)
X, Y = RNG.normal(size=(3, 5)), RNG.uniform(0.1, 0.9, size=(2, 5))
YB = make_targets("cce", "softmax", 2, 5, RNG)


def _swap(params, index, value):
    return [value if i == index else p for i, p in enumerate(params)]


#: (id, call, words of the ValueError)
BAD = [
    ("X-list", lambda: G.forward(P, X.tolist()), ["X must be a 2-D float array", "list"]),
    ("X-1d", lambda: G.forward(P, X[:, 0]), ["X must be a 2-D float array", "(3,)"]),
    ("X-3d", lambda: G.forward(P, X[None]), ["X must be a 2-D float array", "(1, 3, 5)"]),
    ("X-int", lambda: G.forward(P, X.astype(int)), ["X must be a 2-D float array", "int"]),
    ("X-bool", lambda: G.forward(P, X > 0), ["X must be a 2-D float array", "bool"]),
    ("X-complex", lambda: G.forward(P, X.astype(complex)), ["X must be", "complex128"]),
    ("X-object", lambda: G.forward(P, X.astype(object)), ["X must be", "object"]),
    ("X-rows", lambda: G.forward(P, RNG.normal(size=(4, 5))), ["X must have 3 rows"]),
    ("W-transposed", lambda: G.gradients(_swap(P, 2, P[2].T), X, Y),
     ["W2 must have shape (2, 4)", "(4, 2)"]),
    ("W-dtype", lambda: G.loss(_swap(P, 0, P[0].astype(np.float32)), X, Y),
     ["W1 must be a 2-D array of dtype float64", "float32"]),
    ("W-list", lambda: G.loss(_swap(P, 0, P[0].tolist()), X, Y), ["W1 must be", "list"]),
    ("b-shape", lambda: G.loss(_swap(P, 1, P[1].ravel()), X, Y), ["b1 must be a 2-D array"]),
    ("b-column", lambda: G.loss(_swap(P, 3, np.ones((1, 2))), X, Y),
     ["b2 must have shape (2, 1)"]),
    ("W-augmented", lambda: GB.loss(_swap(PB, 0, np.ones((4, 3))), X, YB),
     ["W1 must have shape (4, 4)", "(4, 3)"]),
    ("params-count", lambda: G.loss(P[:3], X, Y), ["params must be a list of 4",
                                                  "W1, b1, W2, b2"]),
    ("params-none", lambda: G.loss(None, X, Y), ["params must be a list of 4"]),
    ("params-dict", lambda: G.loss({"W1": P[0]}, X, Y), ["params must be a list of 4"]),
    ("Y-shape", lambda: G.loss(P, X, Y[:, :4]), ["Y must be an array", "(2, 5)", "(2, 4)"]),
    ("Y-dtype", lambda: G.loss(P, X, Y.astype(np.float32)), ["Y must be", "float64",
                                                            "float32"]),
    ("Y-int", lambda: G.gradients(P, X, (Y > 0.5).astype(int)), ["Y must be", "int64"]),
    ("Y-list", lambda: G.loss(P, X, Y.tolist()), ["Y must be", "list"]),
    ("batch-no-samples", lambda: GB.loss(PB, X[:, :0], YB[:, :0]),
     ["at least one column", "mean"]),
    ("batch-no-samples-gradients", lambda: GB.gradients(PB, X[:, :0], YB[:, :0]),
     ["at least one column"]),
    ("lr-text", lambda: G.train_step(P, X, Y, "0.1"), ["lr must be a finite real number",
                                                        "'0.1'"]),
    ("lr-none", lambda: G.train_step(P, X, Y, None), ["lr must be a finite real number",
                                                      "None"]),
    ("lr-array", lambda: G.train_step(P, X, Y, np.ones(2)), ["lr must be a finite real number"]),
]


@pytest.mark.parametrize("call, words", [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_arguments_raise_a_value_error_naming_them(call, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as info:
            call()
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)


def test_a_single_sample_network_accepts_zero_columns():
    """Without batch the loss is a sum, and a sum over no samples is 0."""
    assert G.loss(P, X[:, :0], Y[:, :0]) == 0


def test_train_step_keeps_the_dtype_of_the_parameters():
    p32 = [p.astype(np.float32) for p in P]
    new = G.train_step(p32, X.astype(np.float32), Y.astype(np.float32), np.float64(0.1))
    assert all(p.dtype == np.float32 for p in new)
    grads = G.gradients(p32, X.astype(np.float32), Y.astype(np.float32))
    np.testing.assert_allclose(new[0], p32[0] - np.float32(0.1) * grads[0], rtol=1e-6)


#: bounded activations (unbounded ones overflow float16 honestly, which is no saturation)
SATURATING = [("tanh", "sigmoid", "bce"), ("sigmoid", "softmax", "cce"),
              ("sigmoid", "sigmoid", "mse"), ("tanh", "tanh", "sse"),
              ("sigmoid", "softmax", "mean_mse"), ("tanh", "sigmoid", "mean_mse")]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("hidden, out, loss", SATURATING, ids=["-".join(r) for r in SATURATING])
@pytest.mark.parametrize("bias", ["explicit", "augmented"])
def test_saturated_layers_give_finite_values_without_warnings(hidden, out, loss, bias, dtype):
    g = module(hidden, out, loss, bias, True)
    rng = np.random.default_rng(3)
    params = make_params((2, 3, 3), bias, rng, dtype, scale=300.0)    # |h| in the hundreds
    if bias == "explicit":
        params[1] = np.array([[1000.0], [-1000.0], [0.0]], dtype=dtype)
        params[3] = np.array([[1000.0], [-1000.0], [0.0]], dtype=dtype)
    X = rng.normal(size=(2, 4)).astype(dtype)
    Y = make_targets(loss, out, 3, 4, rng, dtype)
    assert_finite_outputs(g, params, X, Y, dtype)
