"""Correct forms of networks with §1b options read back as claims (SPEC §1b, §3).

For each network of the option table below and each of its parameters, the correct form
that `verify` prints for a wrong claim is pasted back into `verify`, as text and as
LaTeX, and must hold; the oracle is `verify` itself, whose truth is the certified
δ-recursion at concrete instances. A normalized layer below the top one puts the
inverse standard deviation 1 ⊘ sqrt(var_l + epsilon) into the form, which is the case
this file exists for, so those rows assert that it is there.

The options are residual × norm (none, layer, batch) × dropout × weight decay (batch
mode where batch norm needs it). Their full product (24 networks, about 200 parameter
rows at depth 3) takes many minutes, so the rows are a pairwise covering subset: every
pair of values of any two options occurs in one of the six networks of `PAIRWISE`, and
each network checks the parameters whose forms take different paths (`_depth3_rows`).
"""
import itertools

import pytest

from derive import Network, verify
from derive.claims.grammar import parse
from derive.claims.network_build import build
from derive.printing.claim_text import to_claim, to_latex
from derive.printing.notation import PRESETS

#: (residual, norm, dropout, weight decay): each pair of values of two options once at least
PAIRWISE = [
    (False, "none", False, False),
    (True, "none", True, True),
    (False, "layer", True, False),
    (True, "layer", False, True),
    (False, "batch", False, True),
    (True, "batch", True, False),
]
OPTION_VALUES = [(False, True), ("none", "layer", "batch"), (False, True), (False, True)]


def test_the_subset_covers_every_pair_of_option_values():
    for i, j in itertools.combinations(range(4), 2):
        seen = {(row[i], row[j]) for row in PAIRWISE}
        assert seen == set(itertools.product(OPTION_VALUES[i], OPTION_VALUES[j])), (i, j)


def _net(row, depth):
    residual, norm, dropout, decay = row
    return Network.uniform(depth=depth, activation="tanh", loss="mse", bias="explicit",
                           residual=residual, norm=norm, dropout=dropout,
                           weight_decay=decay, batch=norm == "batch")


def _label(row):
    residual, norm, dropout, decay = row
    return "-".join([norm] + [name for name, on in (("residual", residual),
                              ("dropout", dropout), ("decay", decay)) if on])


def _depth3_rows():
    """(row, parameter, whether its form passes through a normalization below it): the
    deepest weights, a middle bias and the top weights, and a normalized net's γ_1 and
    β_2 (each path through the block once; every parameter of every net took minutes)."""
    rows = []
    for row in PAIRWISE:
        normed = row[1] != "none"
        rows += [(row, "W_1", normed), (row, "b_2", normed), (row, "W_3", False)]
        if normed:
            rows += [(row, "gamma_1", True), (row, "beta_2", False)]
    return rows


def _symbolic_rows():
    """At a symbolic depth: the top layer, the one below it and the general layer l (in
    δ form), and a normalized net's γ and β."""
    rows = []
    for row in PAIRWISE:
        normed = row[1] != "none"
        params = ["W_L", "W_{L-1}", "b_l"]
        if normed:
            params += ["gamma_{L-1}", "beta_l"]
        rows += [(row, param, normed and param == "W_{L-1}") for param in params]
    return rows


def _reads_back(net, param, normalized_below):
    wrong = verify(net, param, "0")
    assert not wrong.holds and wrong.correct and wrong.correct_latex, wrong.reason
    if normalized_below:
        assert "1 ⊘ sqrt(var_" in wrong.correct and "+ epsilon)" in wrong.correct
        assert r"\mathbf{1} \oslash \sqrt{var_" in wrong.correct_latex
    for text in (wrong.correct, wrong.correct_latex):
        again = verify(net, param, text)
        assert again.holds, (text, again.reason)


@pytest.mark.slow
@pytest.mark.parametrize("row, param, normalized_below", _depth3_rows(),
                         ids=lambda v: _label(v) if isinstance(v, tuple) else str(v))
def test_depth_3_correct_forms_read_back(row, param, normalized_below):
    _reads_back(_net(row, 3), param, normalized_below)


@pytest.mark.slow
@pytest.mark.parametrize("row, param, normalized_below", _symbolic_rows(),
                         ids=lambda v: _label(v) if isinstance(v, tuple) else str(v))
def test_symbolic_depth_correct_forms_read_back(row, param, normalized_below):
    """A residual network's general-layer γ_l, β_l name ∂J/∂z_{l+1} (dJ/dz_{l+1}): their
    forms print and read back like the others (issue 21)."""
    _reads_back(_net(row, "L"), param, normalized_below)


@pytest.mark.slow
@pytest.mark.parametrize("param", ["W_1", "gamma_1"])
def test_normalized_forms_read_back_in_every_notation(param):
    """The form printed in each preset's letters, plain and LaTeX, builds to the same
    expression as the same form printed in hz."""
    net = _net((True, "batch", True, True), 3)
    wrong = verify(net, param, "0")
    reference = build(parse(wrong.correct), net)[0]
    for printer in (to_claim, to_latex):
        expected = build(parse(printer(reference)), net)[0]
        for notation in PRESETS:
            text = printer(reference, notation)
            assert build(parse(text, notation), net)[0] == expected, (notation, text)
