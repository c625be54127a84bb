"""Each preset's own conventions (SPEC §4): the forms a preset's source note reaches."""
import numpy
from sympy import ImmutableMatrix, Transpose

from derive import Network, backprop, render
from derive.documents.notes import context
from derive.documents.rows import row, row_results
from derive.documents.scalars import Scalar, scalar
from derive.ir.activations import is_atom
from derive.ir.nodes import Act, Var
from derive.printing.latex import NotesLatexPrinter

BCE = dict(activation="sigmoid", loss="bce")
HEADING = "From the last weight matrix to the one before"


def _tex(d, expr, notation="hz"):
    depth = None if d.net.symbolic else d.net.depth
    return NotesLatexPrinter(dict(notation=notation, depth=depth, human=True)).doprint(expr)


def test_hz_answers_the_thread_for_both_000_networks():
    for depth in (3, "L"):
        d = backprop(Network.uniform(depth=depth, **BCE))
        L = d.net.L
        answer = context(d, "hz")["answer"]
        reuse = [line["rhs"] for line in answer["reuse"]["lines"]]
        below = d.grad("W", L - 1).xreplace({Var("delta", L - 1, d.net.width(L - 1), 1):
                                             d.delta(L - 1)})
        assert _tex(d, below) in reuse                      # δ_L reappears in ∂J/∂W_{L-1}
        assert _tex(d, d.grad("W", L)) == reuse[0]
        division = [line["rhs"] for line in answer["division"]["lines"]]
        assert _tex(d, d.dJdz(L)) in division[1] and r"\oslash" in division[1]
        assert division[-1] == _tex(d, d.delta(L)) and r"\oslash" not in division[-1]
        for fmt in ("latex", "markdown"):
            text = render(d, fmt, "hz")
            assert HEADING in text and "small constant" in text
            assert text.count(division[0]) >= 1 and text.count(reuse[-1]) == 1


def test_hz_answer_only_where_the_cancellation_happens():
    assert context(backprop(Network.uniform(depth=3, activation="sigmoid", loss="mse")),
                   "hz")["answer"] is None
    d = backprop(Network.uniform(depth=3, **BCE))
    for notation in ("gh", "pq", "za"):
        assert HEADING not in render(d, "markdown", notation)
    assert HEADING not in render(d, "markdown", "hz", detail="brief")
    assert context(backprop(Network.uniform(depth=1, **BCE)), "hz")["answer"] is None


# -- gh and the layout: row-vector results from the column ones -------------------------
GH = Network.uniform(depth="L", activation="sigmoid", output="identity", loss="sse")


def _box(text):
    return text[text.index(r"\boxed"):text.index(r"\end{aligned}}")]


def test_gh_boxes_002_row_vector_results():
    box = _box(render(backprop(GH), "latex", "gh"))
    assert r"\frac{\partial L}{\partial \mathbf{h}^{n}} &= \frac{\partial L}{\partial " \
           r"\mathbf{g}^{n+1}} W^{n+1}" in box                                    # (77)
    assert r"\frac{\partial L}{\partial \mathbf{g}^{n}} &= \frac{\partial L}{\partial " \
           r"\mathbf{h}^{n}} \odot \sigma'(\mathbf{g}^{n})^{\top}" in box          # (76)
    assert r"\frac{\partial L}{\partial W^{n}} &= \left(\frac{\partial L}{\partial " \
           r"\mathbf{g}^{n}}\right)^{\top} \left(\mathbf{h}^{n-1}\right)^{\top}" in box  # (75)
    assert r"\boldsymbol{\delta}" not in box and r"\left(W^{n+1}\right)^{\top}" not in box
    rule = context(backprop(GH), "gh")["row_rule"]["lines"]
    assert rule[2]["rhs"].startswith(r"\left(\left(\boldsymbol{\delta}^{n+1}\right)^{\top} W")


def test_layout_changes_the_results():
    d = backprop(Network.uniform(depth=3, **BCE))
    col = context(d, "hz", "denominator")
    row = context(d, "hz", "numerator")
    assert col["row_rule"] is None and row["row_rule"] is not None
    assert col["summary"] != row["summary"]
    assert any(r"\boldsymbol{\delta}" in r["lhs"] for r in col["summary"])
    assert not any(r"\boldsymbol{\delta}" in r["lhs"] + r["rhs"] for r in row["summary"])
    assert context(backprop(GH), "gh", "denominator")["summary"] != \
        context(backprop(GH), "gh")["summary"]


def _random(shape, rng):
    return ImmutableMatrix(rng.normal(size=shape).round(3).tolist())


def _value(expr, values):
    return ImmutableMatrix(expr.xreplace(values).doit().as_explicit()).evalf()


def test_layouts_agree_numerically():
    """At a random point every row result is the transpose of the column one (a weight
    gradient is the same matrix in both)."""
    rng = numpy.random.default_rng(0)
    net = Network(activations=("sigmoid", "sigmoid", "identity"), loss="sse",
                  widths=(2, 3, 2, 2))
    d = backprop(net)
    rows = d.summary()
    leaves = {}
    for _, rhs in rows:
        for a in rhs.atoms(Var, Act):
            if not (isinstance(a, Var) and a.kind == "delta"):
                leaves.setdefault(a, _random(a.shape, rng))
    col = dict(leaves)
    for lhs, rhs in rows:
        col[lhs] = _value(rhs, col)
    got = dict(leaves)
    for lhs, rhs in row_results(rows):
        got[lhs] = _value(rhs, got)
    for lhs, _ in rows:
        if isinstance(lhs, Var):
            assert _close(got[row(lhs)], col[lhs].T)
        else:
            assert _close(got[lhs], col[lhs])
    checked = [k for k in got if isinstance(k, Transpose) and k.arg.wrt.kind == "z"]
    assert checked
    for key in checked:
        layer = key.arg.wrt.layer
        assert _close(got[key], _value(d.dJdz(layer), col).T)


def _close(a, b):
    return a.shape == b.shape and max(abs(x) for x in (a - b)) < 1e-9


# -- pq: a chain of one-node layers written with numbers ---------------------------------
ONE = Network(activations=("sigmoid",) * 3, loss="mse", widths=(1, 1, 1, 1))


def test_pq_one_node_chain_with_numbers():
    md = render(backprop(ONE), "markdown", "pq")
    part = md[md.index("## The chain with numbers"):]
    part = part[:part.index("\n## ", 3)]
    assert r"q_{3} = \sigma(w_{23} \sigma(w_{12} \sigma(w_{01} \sigma_0(p_{0}))))" in part
    # errors numbered as 003 numbers them, from the output down
    assert r"\underbrace{\left(q_{3} - y\right) \sigma'(p_{3})}_{\delta_{0}}" in part
    assert r"\underbrace{\sigma_0(p_{0})}_{q_{0}} = \delta_{2} q_{0}" in part
    assert r"\frac{\partial C}{\partial w_{i,i+1}} = \delta_{2-i} q_{i}" in part
    assert r"\delta_{1} = w_{23} \delta_{0} \sigma'(p_{2})" in part
    assert r"\mathbf" not in part and r"\boldsymbol" not in part and r"\sum" not in part


def test_numbers_only_for_pq_one_node_chains():
    multi = Network(activations=("sigmoid",) * 3, loss="mse")
    assert "The chain with numbers" not in render(backprop(multi), "markdown", "pq")
    assert "The chain with numbers" not in render(backprop(ONE), "markdown", "hz")
    assert "The chain with numbers" not in render(backprop(ONE), "markdown", "pq",
                                                  detail="brief")


def test_the_scalar_rule_agrees_with_the_matrices():
    d = backprop(ONE)
    rng = numpy.random.default_rng(1)
    for layer in (1, 2, 3):
        expr = d.expanded("W", layer)
        leaves = {a: _random((1, 1), rng) for a in expr.atoms(Var, Act)}
        number = scalar(expr).xreplace({scalar(k): v[0, 0] for k, v in leaves.items()})
        assert not number.atoms(Scalar) and not [a for a in number.atoms() if is_atom(a)]
        assert abs(float(number) - float(_value(expr, leaves)[0, 0])) < 1e-9


def test_pq_one_node_shapes_are_numbers():
    shapes = [r["shapes"] for r in context(backprop(ONE), "pq")["shapes"]]
    assert shapes[0] == r"w_{01}, p_{1}, q_{1} \in \mathbb{R}"
    assert not any(r"1 \times 1" in s for s in shapes)
