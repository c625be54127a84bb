"""Networks and data for the export tests, generated from the rule tables."""
import warnings
from functools import lru_cache

import numpy as np
from nets import BIASES, valid_pairs

from derive import Network, export_numpy
from derive.spec import rules

#: every elementwise activation (and one custom) takes a turn as the hidden layer
HIDDEN = tuple(name for name, row in rules.ACTIVATIONS.items() if row.elementwise) + \
    ("custom:x/(1+exp(-x))",)

CASES = []
for _index, (_out, _loss) in enumerate(valid_pairs()):
    for _b, _bias in enumerate(BIASES):
        for _batch in (False, True):
            _hidden = HIDDEN[(_index * 6 + _b * 2 + _batch) % len(HIDDEN)]
            CASES.append((_hidden, _out, _loss, _bias, _batch))


def case_id(case):
    hidden, out, loss, bias, batch = case
    return f"{hidden.split(':')[0]}-{out}-{loss}-{bias}-{'batch' if batch else 'single'}"


@lru_cache(maxsize=None)
def module(hidden, out, loss, bias, batch):
    net = Network(activations=(hidden, out), loss=loss, bias=bias, batch=batch)
    return export_numpy(net)


def make_params(widths, bias, rng, dtype=np.float64, scale=1.0):
    params = []
    for l in range(1, len(widths)):
        extra = 1 if bias == "augmented" else 0
        params.append((scale * rng.normal(size=(widths[l], widths[l - 1] + extra))).astype(dtype))
        if bias == "explicit":
            params.append((scale * rng.normal(size=(widths[l], 1))).astype(dtype))
    return params


def make_targets(loss, out, rows, m, rng, dtype=np.float64):
    if rules.loss(loss).target == "simplex" or out == "softmax":
        return rng.dirichlet(np.ones(rows), size=m).T.astype(dtype)
    if rules.loss(loss).target == "unit":
        return rng.uniform(0.05, 0.95, size=(rows, m)).astype(dtype)
    return rng.normal(size=(rows, m)).astype(dtype)


def central_differences(g, params, X, Y, eps=1e-6):
    """∂J/∂p entry by entry: (J(p + ε) − J(p − ε)) / 2ε."""
    return loss_differences(lambda ps: g.loss(ps, X, Y), params, eps)


def loss_differences(loss, params, eps=1e-6):
    """Central differences of ``loss(params)`` in every entry of every parameter (each
    entry moved in place and put back)."""
    grads = []
    for p in params:
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = float(loss(params))
            p[idx] = old - eps
            down = float(loss(params))
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        grads.append(num)
    return grads


def assert_finite_outputs(g, params, X, Y, dtype):
    """loss, gradients and activations: finite, of ``dtype``, and no warning raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = [g.loss(params, X, Y)] + g.gradients(params, X, Y) + g.forward(params, X)
    for value in values:
        assert value.dtype == dtype and np.all(np.isfinite(value))
