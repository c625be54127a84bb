"""``layout`` in the derivation sections (SPEC §4): in numerator layout the errors and
gradients derived in the output, hidden, general and remaining-layer sections are their
row forms, not only the summary. Oracle: both forms evaluated at a random point, the
row form must be the transpose of the column form (a weight gradient the same matrix).
"""
import numpy
import pytest
from sympy import ImmutableMatrix, Transpose

from derive import Network, backprop
from derive.documents.notes import context
from derive.documents.rows import ROW_SECTIONS, row_steps
from derive.ir.nodes import Act, MatPartial, Var
from derive.vocab import LOSS

NETS = [Network.uniform(depth=3, activation="sigmoid", loss="bce"),
        Network(activations=("sigmoid", "sigmoid", "identity"), loss="sse", widths=(2, 3, 2, 2)),
        Network(activations=("tanh", "sigmoid"), loss="mse", bias="explicit", widths=(3, 2, 2)),
        Network.uniform(depth="L", activation="sigmoid", output="identity", loss="sse")]


def _lines(ctx, names):
    return [line for name in names for b in ctx["sections"][name] for line in b["lines"]]


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.describe()[:40])
def test_layouts_differ_in_the_derivation_where_they_should(net):
    d = backprop(net)
    col, row = context(d, "hz", "denominator"), context(d, "hz", "numerator")
    assert _lines(col, ("forward", "loss")) == _lines(row, ("forward", "loss"))
    a, b = _lines(col, ROW_SECTIONS), _lines(row, ROW_SECTIONS)
    assert len(a) == len(b)
    changed = 0
    for c, r in zip(a, b):
        if c["lhs"].startswith(r"\boldsymbol{\delta}"):      # an error as a vector
            assert r["lhs"].startswith(r"\frac{\partial J}{\partial \mathbf{h}")
            changed += 1
        if r"\boldsymbol{\delta}" in c["rhs"] and "_{" in c["rhs"]:
            assert r"\boldsymbol{\delta}" not in r["rhs"]
        if c["lhs"].startswith(r"\delta_{") or "_{ab}" in c["lhs"]:   # entries: the same
            assert c == r
    assert changed >= 2
    assert not any(r"\boldsymbol{\delta}" in line["lhs"] + line["rhs"] for line in b)


def _random(shape, rng):
    return ImmutableMatrix(rng.normal(size=shape).round(3).tolist())


def _value(expr, values):
    return ImmutableMatrix(expr.xreplace(values).doit().as_explicit()).evalf()


def _close(a, b):
    return a.shape == b.shape and max(abs(x) for x in (a - b)) < 1e-9


@pytest.mark.parametrize("net", NETS[1:3], ids=lambda n: n.describe()[:40])
def test_row_lines_are_the_transposed_column_lines(net):
    d = backprop(net)
    steps = [s for s in d.steps if s.form == "matrix" and s.topic not in ("forward", "general")
             and (isinstance(s.lhs, MatPartial) or getattr(s.lhs, "kind", "") == "delta")]
    rng = numpy.random.default_rng(5)
    values = {}
    for s in steps:
        for a in (s.rhs.atoms(Var, Act) | s.rhs.atoms(MatPartial)):
            if isinstance(a, MatPartial) and a.wrt.kind == "h":
                continue
            values.setdefault(a, _random(a.shape, rng))
    for layer in range(1, net.depth + 1):      # ∂J/∂h_l is δ_l
        delta = Var("delta", layer, net.width(layer), 1)
        values.setdefault(delta, _random(delta.shape, rng))
        values[MatPartial(LOSS, Var("h", layer, net.width(layer), 1))] = values[delta]
    rows = row_steps(steps)
    assert rows != steps
    for col, new in zip(steps, rows):
        c, r = _value(col.rhs, values), _value(new.rhs, values)
        if isinstance(col.lhs, MatPartial) and col.lhs.wrt.shape[1] != 1:
            assert new.lhs == col.lhs and _close(r, c)
        else:
            assert isinstance(new.lhs, Transpose) and _close(r, c.T)
            if isinstance(col.lhs, Var):
                assert new.lhs.arg == MatPartial(LOSS, Var("h", col.layer, *col.lhs.shape))
