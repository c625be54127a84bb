"""A pairwise cover of the option table for the framework exports (SPEC §5b), and the
helpers the framework tests share.

The factors are the hidden activation, the output activation with a loss, the bias,
batch, and the §1b options. Every pair of values of two factors that a network admits
appears in some case, except hidden activation × (output, loss): what the printed code
of the hidden layers depends on is the layer's options, not the loss. A greedy cover
(deterministic), built from the rule tables.
"""
import importlib
import itertools
import os

import numpy as np
import pytest

from derive import Network, SpecError
from derive.spec import rules

IN_CI = os.environ.get("CI", "").lower() == "true"
HIDDEN = tuple(name for name, row in rules.ACTIVATIONS.items() if row.elementwise) + \
    ("custom:x/(1+exp(-x))",)
#: one loss per output activation (its own stable form), and softmax with bce as well
OUTPUTS = (("identity", "mse"), ("sigmoid", "bce"), ("tanh", "sse"), ("relu", "mean_mse"),
           ("leaky_relu", "mse"), ("softplus", "sse"), ("softmax", "cce"), ("softmax", "bce"))
FACTORS = dict(hidden=HIDDEN, output=OUTPUTS, bias=("none", "augmented", "explicit"),
               batch=(False, True), norm=("none", "layer", "batch"), dropout=(False, True),
               residual=(False, True), weight_decay=(False, True))
NOT_PAIRED = {("hidden", "output")}
WIDTHS = (3, 4, 4, 2)


def need(name):
    """Import a framework; skip without it on a laptop, fail in CI (CI=true)."""
    if IN_CI:
        return importlib.import_module(name)
    return pytest.importorskip(name)


def network(case):
    out, loss = case["output"]
    return Network(activations=(case["hidden"], case["hidden"], out), loss=loss,
                   bias=case["bias"], batch=case["batch"], norm=case["norm"],
                   dropout=case["dropout"], residual=case["residual"],
                   weight_decay=case["weight_decay"], widths=WIDTHS)


def _valid(case):
    try:
        network(case)
    except SpecError:
        return False
    return True


def _pairs(case):
    keys = list(FACTORS)
    return {(a, case[a], b, case[b]) for a, b in itertools.combinations(keys, 2)
            if (a, b) not in NOT_PAIRED}


def pairwise_cover():
    """Cases (dicts of factor values) covering every admissible pair."""
    keys = list(FACTORS)
    candidates = [dict(zip(keys, values)) for values in itertools.product(*FACTORS.values())]
    candidates = [c for c in candidates if _valid(c)]
    wanted = set().union(*(_pairs(c) for c in candidates))
    cases = []
    while wanted:
        best = max(candidates, key=lambda c: len(_pairs(c) & wanted))
        wanted -= _pairs(best)
        cases.append(best)
    return cases


CASES = pairwise_cover()


def case_id(case):
    out, loss = case["output"]
    opts = [k for k in ("dropout", "residual", "weight_decay") if case[k]]
    return "-".join([case["hidden"].split(":")[0], out, loss, case["bias"],
                     "batch" if case["batch"] else "sum", f"norm_{case['norm']}", *opts])


def make_inputs(net, rng, shapes, m=5):
    """params (list of float64 arrays of entries about ±0.5, γ near 1: logits of order
    one, where a loss such as bce on a softmax is well conditioned), X, Y, the masks."""
    params = []
    for kind, shape in zip((name.split("_")[0] for name in shapes[0]), shapes[1]):
        value = 0.5 * rng.normal(size=shape)
        params.append(1 + 0.3 * value if kind == "gamma" else value)
    X = rng.normal(size=(net.widths[0], m))
    out, loss = net.activations[-1], net.loss
    if rules.loss(loss).target == "simplex" or out == "softmax":
        Y = rng.dirichlet(np.ones(net.widths[-1]), size=m).T
    elif rules.loss(loss).target == "unit":
        Y = rng.uniform(0.05, 0.95, size=(net.widths[-1], m))
    else:
        Y = rng.normal(size=(net.widths[-1], m))
    masks = None
    if net.dropout:
        masks = [(rng.random((w, m)) > 0.3) / 0.7 for w in net.widths[1:-1]]
    return params, X, Y, masks


def keywords(net, masks):
    """The keyword arguments of the loss: masks, weight_decay, eps where the net has them."""
    kw = {}
    if net.dropout:
        kw["masks"] = masks
    if net.weight_decay:
        kw["weight_decay"] = 0.1
    if net.norm != "none":
        kw["eps"] = 1e-3
    return kw
