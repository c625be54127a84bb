"""Golden strings for the LaTeX printer in every notation, and the text printer."""
import pytest
from sympy import KroneckerDelta, Symbol
from sympy.matrices.expressions import HadamardPower, HadamardProduct, OneMatrix

from derive import SpecError
from derive.ir.activations import act_function
from derive.ir.nodes import Act, MatPartial, Partial, Times, Var
from derive.printing.latex import latex
from derive.printing.notation import get
from derive.vocab import DEPTH, LAYER, LOSS

h2 = Var("h", 2, 3, 1)
z2 = Var("z", 2, 3, 1)
z3 = Var("z", 3, 3, 1)
y = Var("y", 3, 3, 1)
W3 = Var("W", 3, 3, 3)
d3 = Var("delta", 3, 3, 1)
k = Symbol("k")
i = Symbol("i")

GOLDEN = {
    "hz": {
        "act": r"\sigma'(\mathbf{h}_{2})",
        "grad": r"\frac{\partial J}{\partial W_{3}} = \boldsymbol{\delta}_{3} \mathbf{z}_{2}^{\top}",
        "comp": r"\frac{\partial J}{\partial (W_{3})_{ik}}",
        "diff": r"\mathbf{z}_{3} - \mathbf{y}",
        "scalar": r"\sigma'(h_{2,k})",
    },
    "gh": {
        "act": r"\sigma'(\mathbf{g}^{2})",
        "grad": r"\frac{\partial L}{\partial W^{F}} = \boldsymbol{\delta}^{F} \left(\mathbf{h}^{2}\right)^{\top}",
        "comp": r"\frac{\partial L}{\partial W^{F}_{ik}}",
        "diff": r"\mathbf{f} - \mathbf{y}",
        "scalar": r"\sigma'(g^{2}_{k})",
    },
    "pq": {
        "act": r"\sigma'(\mathbf{p}_{2})",
        "grad": r"\frac{\partial C}{\partial W_{23}} = \boldsymbol{\delta}_{3} \mathbf{q}_{2}^{\top}",
        "comp": r"\frac{\partial C}{\partial (W_{23})_{ik}}",
        "diff": r"\mathbf{q}_{3} - \mathbf{y}",
        "scalar": r"\sigma'(p_{2,k})",
    },
    "za": {
        "act": r"\sigma'(\mathbf{z}^{2})",
        "grad": r"\frac{\partial C}{\partial W^{3}} = \boldsymbol{\delta}^{3} \left(\mathbf{a}^{2}\right)^{\top}",
        "comp": r"\frac{\partial C}{\partial W^{3}_{ik}}",
        "diff": r"\mathbf{a}^{3} - \mathbf{y}",
        "scalar": r"\sigma'(z^{2}_{k})",
    },
}


def _comp(var, *idx):
    from sympy import IndexedBase
    return IndexedBase(var)[idx]


@pytest.mark.parametrize("nt", sorted(GOLDEN))
def test_golden_strings(nt):
    g = GOLDEN[nt]
    def p(e):
        return latex(e, nt, depth=3)
    assert p(Act("sigmoid", h2, 1)) == g["act"]
    assert p(MatPartial(LOSS, W3)) + " = " + p(d3 * z2.T) == g["grad"]
    assert p(Partial(LOSS, _comp(W3, i, k))) == g["comp"]
    assert p(-y + z3) == g["diff"]
    assert p(act_function("sigmoid", 1)(_comp(h2, k))) == g["scalar"]


def test_kronecker_is_an_indicator_never_a_delta():
    text = latex(KroneckerDelta(i, k) * _comp(d3, i))
    assert text.startswith(r"\mathbb{1}[i=k]")
    assert r"\delta_{ik}" not in text


def test_hadamard_division_and_ones():
    expr = HadamardProduct(HadamardPower(OneMatrix(3, 1) - z3, -1), HadamardPower(z3, -1),
                           -y + z3)
    assert latex(expr) == (r"\left(\mathbf{z}_{3} - \mathbf{y}\right) \oslash "
                           r"\left(\left(\mathbf{1} - \mathbf{z}_{3}\right) \odot "
                           r"\mathbf{z}_{3}\right)")


def test_times_is_an_explicit_product():
    a, b = Symbol("a"), Symbol("b")
    assert latex(Times(a, b)) == r"\left(a\right) \cdot \left(b\right)"


def test_symbolic_layers():
    assert latex(Var("W", LAYER + 1, 2, 2).T) == r"W_{l+1}^{\top}"
    assert latex(Var("z", DEPTH - 1, 2, 1), "gh") == r"\mathbf{h}^{N}"
    assert latex(Var("W", DEPTH, 2, 2), "pq") == r"W_{L-1,L}"


def test_numerator_layout_transposes_vector_derivatives():
    assert latex(MatPartial(LOSS, z2), get("hz", "numerator")) == \
        r"\left(\frac{\partial J}{\partial \mathbf{z}_{2}}\right)^{\top}"
    assert latex(MatPartial(LOSS, W3), get("hz", "numerator")) == \
        r"\frac{\partial J}{\partial W_{3}}"


def test_never_sympy_lambda_or_d_d():
    from derive import Network, backprop
    d = backprop(Network.uniform(depth=3, activation="tanh", loss="mse"))
    for s in d.steps:
        for e in (s.lhs, s.rhs):
            text = latex(e)
            assert "mapsto" not in text and r"\frac{d}{d" not in text and "_prime" not in text


def test_overrides_validated():
    nt = get({"preset": "za", "loss": r"\mathcal{L}", "delta": r"\varepsilon"})
    assert latex(Var("delta", 2, 3, 1), nt) == r"\boldsymbol{\varepsilon}^{2}"
    for bad in ("}", r"\input{x}", "a$", r"\def\x", "{", "", r"\\"):
        with pytest.raises(SpecError, match="'loss'"):
            get({"loss": bad})
    with pytest.raises(SpecError, match="colour"):
        get({"colour": "x"})
    with pytest.raises(SpecError):
        get("nope")
    with pytest.raises(SpecError):
        get("hz", "sideways")


def test_text_printer():
    from derive.printing.text import text
    assert text(d3 * z2.T) == "delta_3 z_2ᵀ" or "δ_3" in text(d3 * z2.T)


def test_gh_general_layer_is_n():
    assert latex(Var("W", LAYER + 1, 2, 2), "gh") == r"W^{n+1}"


def test_negative_summand_is_pulled_out():
    from sympy import IndexedBase, Sum
    yk = IndexedBase(Var("y", 2, 3, 1))[i]
    assert latex(Sum(-yk, (i, 1, 3))) == r"-\sum_{i=1}^{3} y_{i}"
