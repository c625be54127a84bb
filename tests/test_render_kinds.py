"""Documents for networks with the §1b options (residual, norm, dropout) and weight
decay: every hidden block renders (the other options pairwise) in both formats and
layouts, the backward walk the engine derived is printed, a few compile with pdflatex,
and the normalization page's rules are checked against finite differences of the
standardization."""
import itertools

import numpy as np
import pytest
from pairwise import missing_pairs, pairwise
from sympy import Integer, KroneckerDelta, Sum, Symbol

from derive import Network, backprop, render
from derive.documents.norm import (
    Group,
    contract,
    cotangent,
    jacobian_chain,
    mean_back,
    name_statistics,
    standardize,
    statistics_lines,
    vjp_chain,
)
from derive.documents.norm_forms import letters, short_rows
from derive.documents.pdf import compile_pdf, pdflatex_available
from derive.documents.rows import row_results
from derive.documents.sections import kind_results
from derive.ir.nodes import MatPartial, Partial
from derive.printing.latex import NotesLatexPrinter
from derive.printing.notation import PRESETS
from derive.printing.notation import get as get_notation
from derive.vocab import LAYER

#: (residual, norm, dropout, weight decay, bias, batch): every option combination
COMBOS = [c for c in itertools.product((False, True), ("none", "layer", "batch"),
                                       (False, True), (False, True), ("none", "explicit"),
                                       (False, True))
          if (c[0] or c[1] != "none" or c[2] or c[3]) and not (c[1] == "batch" and not c[5])]
PRESET_ORDER = sorted(PRESETS)
#: the rendered networks with their preset: every hidden block (residual, norm, dropout)
#: in each batch mode, weight decay, bias and preset over a pairwise cover (tests/pairwise.py)
COVER_FACTORS = ((False, True), ("none", "layer", "batch"), (False, True), (False, True),
                 ("none", "explicit"), (False, True), tuple(PRESET_ORDER))
COVER = pairwise(COVER_FACTORS, keep=(0, 1, 2, 5), allowed=lambda r: r[:6] in COMBOS)


def _net(combo, depth=3, activation="tanh", loss="mse"):
    residual, norm, dropout, decay, bias, batch = combo
    return Network.uniform(depth=depth, activation=activation, loss=loss, residual=residual,
                           norm=norm, dropout=dropout, weight_decay=decay, bias=bias,
                           batch=batch)


def _printed(d, notation, layout, fmt):
    indicator = r"\mathbb{1}" if fmt == "latex" else r"\mathbb{I}"
    p = NotesLatexPrinter(dict(notation=get_notation(notation, layout),
                               depth=Integer(d.net.depth), human=True, indicator=indicator))
    nt = get_notation(notation, layout)
    results = short_rows(kind_results(d) or [], letters(nt, d.net))
    if layout == "numerator":      # rows, the transposes of the columns
        results = row_results(results)
    return [(p.doprint(lhs), p.doprint(rhs)) for lhs, rhs in results]


def _updates(d):
    """The printed update lines; every parameter kind with a gradient has one."""
    updates = [s for s in d.steps if s.topic == "update"]
    graded = {lhs.wrt.kind for lhs, _ in d.summary() if isinstance(lhs, MatPartial)}
    assert sorted(s.lhs.kind for s in updates) == sorted(graded)
    assert all(s.lhs.layer == LAYER for s in updates)
    p = NotesLatexPrinter(dict(notation=get_notation("hz"), depth=Integer(d.net.depth),
                               human=True, indicator=r"\mathbb{I}"))
    return [(p.doprint(s.lhs), p.doprint(s.rhs)) for s in updates]


def test_the_cover_has_every_block_and_every_pair():
    assert missing_pairs(COVER, COVER_FACTORS, lambda r: r[:6] in COMBOS) == set()
    assert {(c[0], c[1], c[2], c[5]) for c in COVER} == {(c[0], c[1], c[2], c[5]) for c in COMBOS}


@pytest.mark.parametrize("combo, notation", [(c[:6], c[6]) for c in COVER],
                         ids=["-".join(map(str, c)) for c in COVER])
def test_every_combination_renders_with_its_backward_walk(combo, notation):
    """Both formats, both layouts, a preset per network (a factor of the pairwise cover):
    no template debris, and every result of the backward walk (each cotangent, error and
    gradient of every layer, as the engine derived it) printed in the summary; an update
    line for every parameter with a gradient; the normalization page whenever there is a
    normalization."""
    d = backprop(_net(combo))
    for fmt in ("latex", "markdown"):
        for layout in ("denominator", "numerator"):
            text = render(d, fmt, notation, layout=layout)
            for bad in ("<<", "<%", "Undefined", "KroneckerDelta", r"\text{}"):
                assert bad not in text, bad
            for lhs, rhs in _printed(d, notation, layout, fmt):
                assert f"{lhs} &= {rhs}" in text, lhs
    residual, norm, dropout, decay = combo[:4]
    md = render(d, "markdown")
    for lhs, rhs in _updates(d):     # aligned, or alone in its display
        assert any(f"{lhs} {rel} {rhs}" in md for rel in (r"&\leftarrow", r"\leftarrow")), lhs
    assert ("Where the skip connection joins" in md) == residual
    assert ("The normalization's backward pass" in md) == (norm != "none")
    assert (r"\frac{\partial J}{\partial \mathbf{a}_{2}}" in md) == dropout
    assert (r"\frac{\partial J}{\partial \boldsymbol{\hat{h}}_{2}}" in md) == (norm != "none")
    assert (r"\lambda W_{2}" in md) == decay


def test_the_two_routes_of_a_skip_connection_add():
    """The layer where the skip paths meet: ∂J/∂z_1 is the weights' route plus the
    cotangent of the layer above, the lead-in says why they add."""
    md = render(backprop(_net((True, "none", False, False, "none", False))), "markdown")
    # every line carries the second route: the sum is stated in one line, never
    # ∂J/∂z_1 = W_2ᵀδ_2 alone (which would say the skip route is zero)
    assert (r"\frac{\partial J}{\partial \mathbf{z}_{1}} &= W_{2}^{\top} \boldsymbol{\delta}_{2} + "
            r"\frac{\partial J}{\partial \mathbf{z}_{2}}" in md)
    assert (r"\frac{\partial J}{\partial \mathbf{z}_{1}} &= W_{2}^{\top} \boldsymbol{\delta}_{2}"
            r" &&" not in md)
    assert "The contributions of separate routes add" in md


@pytest.mark.skipif(not pdflatex_available(), reason="pdflatex is not installed")
@pytest.mark.parametrize("combo", [COMBOS[-1], (True, "none", True, True, "none", False),
                                   (False, "batch", False, False, "explicit", True)],
                         ids=lambda c: "-".join(map(str, c)))
def test_a_few_compile_with_pdflatex(combo):
    pdf = compile_pdf(render(backprop(_net(combo)), "latex", "za"))
    assert pdf.startswith(b"%PDF")


# -- the normalization page's rules, against finite differences ---------------------
def _group(norm, batch=True, depth=3):
    d = backprop(_net((False, norm, False, False, "explicit", batch), depth=depth))
    layer = 2 if depth == 3 else LAYER
    steps = [s for s in d.steps if s.topic == "forward" and s.layer == layer]
    return Group(steps, norm)


def test_entry_reads_a_ones_product_as_a_group_sum():
    grp = _group("layer")
    mu = grp.definition("mu", grp.a)
    assert isinstance(mu.args[-1], Sum) or any(isinstance(a, Sum) for a in mu.args)
    assert mean_back(mu * grp.size, grp) == grp.size * grp.mu


def test_contract_keeps_the_matching_term():
    grp = _group("layer")
    q = Symbol("q", integer=True, positive=True)
    expr = Sum(KroneckerDelta(grp.b, q) * grp.at("h", q) + 3, (q, 1, grp.size))
    assert contract(expr) == grp.at("h", grp.b) + 3 * grp.size


def test_name_statistics_and_standardize_invert_the_definitions():
    grp = _group("batch")
    written = grp.expanded("xhat")
    assert name_statistics(written, grp) == grp.definition("xhat", grp.a)
    assert standardize(grp.definition("xhat", grp.a), grp) == grp.at("xhat", grp.a)


#: the pages derived: (norm, batch, depth); a single sample's layer norm has scalar
#: statistics, a symbolic depth derives the page at the general layer l
PAGES = [("layer", True, 3), ("batch", True, 3), ("layer", False, 3), ("layer", False, "L"),
         ("batch", True, "L")]


@pytest.mark.parametrize("norm,batch,depth", PAGES)
def test_the_jacobian_and_the_vjp_match_finite_differences(norm, batch, depth):
    """Every line of the page's statistics, Jacobian and VJP chains, evaluated for a
    group of four numbers, against central differences of the standardization (typed
    here as the oracle: x̂ = (h − mean) / sqrt(var + ε), the biased variance); the
    cotangent ∂J/∂x̂ gets random values c."""
    grp = _group(norm, batch, depth)
    rng = np.random.default_rng(0)
    h, c, eps, n = rng.normal(size=4), rng.normal(size=4), 0.1, 4

    def standardized(x):
        return (x - x.mean()) / np.sqrt(x.var() + eps)

    def central(f):     # fd[a, b] = ∂f_a/∂h_b
        return np.array([(f(h + 1e-6 * e) - f(h - 1e-6 * e)) / 2e-6 for e in np.eye(n)]).T
    fd = central(standardized)
    stats = central(lambda x: np.array([x.mean(), x.var()]))
    jacobians = jacobian_chain(grp)
    vjps = vjp_chain(grp, jacobians[-1])
    x = standardized(h)
    values = {grp.mu: h.mean(), grp.v: h.var(), Symbol("epsilon", positive=True): eps}
    entries = {**{grp.at("xhat", Integer(a + 1)): x[a] for a in range(n)},
               **{grp.at("h", Integer(a + 1)): h[a] for a in range(n)},
               **{cotangent(grp, Integer(a + 1)): c[a] for a in range(n)},
               **{Partial(grp.at("xhat", Integer(a + 1)), grp.at("h", Integer(b + 1))):
                  fd[a, b] for a in range(n) for b in range(n)}}

    def written_out(e):     # a group sum as its n terms
        return Sum(e.function, (e.limits[0][0], 1, n)).doit()

    def number(expr):     # components first: the size also sits in the Vars' shapes
        expr = expr.replace(lambda e: isinstance(e, Sum), written_out)
        return float(expr.xreplace(entries).xreplace(values).xreplace({grp.size: n}).doit())
    assert len(jacobians) == 4 and len(vjps) == 3
    for k, (_, rhs) in enumerate(statistics_lines(grp)):
        for b in range(n):
            assert abs(number(rhs.xreplace({grp.b: Integer(b + 1)})) - stats[k, b]) < 1e-6
    for jac in jacobians:
        for a, b in itertools.product(range(n), repeat=2):
            at = jac.xreplace({grp.a: Integer(a + 1), grp.b: Integer(b + 1)})
            assert abs(number(at) - fd[a, b]) < 1e-6
    for vjp in vjps:
        for b in range(n):
            assert abs(number(vjp.xreplace({grp.b: Integer(b + 1)})) - fd[:, b] @ c) < 1e-6


def test_every_normalized_network_gets_the_page():
    """A single sample's layer norm and a symbolic depth get the page too; its group is
    the one sample's features (no sample index) or the general layer's."""
    single = render(backprop(_net((False, "layer", False, False, "none", False))), "markdown")
    assert "The normalization's backward pass" in single
    assert "features of the one sample" in single and r"\mu_{2} &=" in single
    general = render(backprop(_net((False, "batch", False, False, "none", True), depth="L")),
                     "markdown")
    assert "We derive it for layer $l$" in general
