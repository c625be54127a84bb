"""The claim parser: spellings, trees, errors with columns, and bounds."""
import re
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import ClaimError, Network
from derive.claims.grammar import parse, parse_param
from derive.claims.lexer import MAX_LENGTH, MAX_NESTING, tokenize
from derive.claims.network_build import build
from derive.claims.shapes import ShapeMismatch
from derive.printing.claim_text import to_claim, to_latex

SAME = [
    ["(z_L - y) z_{L-1}^T", r"(\mathbf{z}_L-\mathbf{y})\mathbf{z}_{L-1}^\top",
     "(z_L - y) @ z_{L-1}.T", "(z_{L} − y) z_{L-1}ᵀ", r"\left(z_L - y\right) z_{L-1}^{\top}",
     r"(\boldsymbol{z}_{L}-\mathbf{y})\,\mathbf{z}_{L-1}^{T}", "[z_L - y] z_{L-1}^⊤"],
    ["2 ((W_2^T (z_2 - y)) ⊙ σ'(h_1)) x^T", r"2 ((W_2^\top (z_2 - y)) \odot \sigma'(h_1)) x^\top",
     "2 @ ((W_2.T @ (z_2 - y)) .* sigma'(h_1)) @ x.T",
     r"2\left(\left(W_{2}^{T}(z_{2}-y)\right)\odot\sigma^{\prime}(h_{1})\right)\mathbf{x}^{T}",
     "2 ((W_2ᵀ (z_2 − y)) ∘ σ′(h_1)) xᵀ"],
    ["W_3.T @ delta_3 .* (1 - z_2 .* z_2)", r"W_3^\top \delta_3 \odot (1 - z_2 \odot z_2)",
     "W_3^T δ_3 ⊙ (1 - z_2 ⊙ z_2)", r"\mathbf{W}^\top_{3} \delta_3 \odot (1 - z_2 \odot z_2)",
     "W^T_3 δ_3 ⊙ (1 - z_2 ⊙ z_2)", r"W_{3}^{T}\boldsymbol{\delta}_{3}\odot(1-\mathbf{z}_{2}\odot\mathbf{z}_{2})"],
    ["delta_{l+1}", r"\delta_{l+1}", "δ_{l+1}", "delta_{ l + 1 }"],
    ["z_0", "x", r"\mathbf{x}"],
    ["log(z_L) - exp(h_2)", r"\log(z_L) - \exp(h_2)", r"\ln\left(z_L\right) - \exp(h_2)"],
    ["delta_L zaug_{L-1}^T", "delta_L [z_{L-1}; 1]^T", "delta_L [ z_{L-1} ; 1 ]^T",
     "delta_L ([z_{L-1}; 1])^T"],
    ["zaug_0", "[x; 1]", "zaug_{0}", "[z_0; 1]"],
    ["zaug_l", "[z_l; 1]"],
]


@pytest.mark.parametrize("group", SAME, ids=lambda g: g[0])
def test_every_spelling_parses_to_the_same_tree(group):
    trees = {spelling: parse(spelling) for spelling in group}
    first = trees[group[0]]
    assert all(tree == first for tree in trees.values()), trees


def test_trees_have_the_expected_structure():
    assert parse("(z_L - y) z_{L-1}^T") == (
        "matmul", ("sub", ("var", "z", ("L", 0)), ("var", "y", ("L", 0))),
        ("T", ("var", "z", ("L", -1))))
    # products share one precedence and associate to the left, as in NumPy
    assert parse("W_2^T delta_2 ⊙ σ'(h_1) x^T")[0] == "matmul"
    tree = parse("W_3.T @ delta_3 .* (1 - z_2 .* z_2)")
    assert tree[0] == "had" and tree[1][0] == "matmul"
    assert parse("sigma'(h_{L-2})") == ("call", "sigma", 1, ("var", "h", ("L", -2)))
    assert parse("z_{L-2}") == parse("z_{(L-2)}")


def test_notations_rename_the_letters():
    assert parse("(a^L - y) (a^{L-1})^T", "za") == parse("(z_L - y) (z_{L-1})^T")
    assert parse("z^l", "za") == parse("h_l")
    assert parse("(f - y) (h^{2})^T", "gh") == parse("(z_L - y) (z_2)^T")
    assert parse("q_2 - p_1", "pq") == parse("z_2 - h_1")
    with pytest.raises(ClaimError):
        parse("q_2", "hz")


@pytest.mark.parametrize("text, column, words", [
    ("z_L -", 6, "expected a name"),
    ("z_L + q_1", 7, "unknown name 'q'"),
    ("z_ - y", 4, "a layer"),
    ("(z_L - y", 9, "expected ')'"),
    ("z_L - y)", 8, "end of the claim"),
    ("W_2^X z_1", 5, "T, \\top"),
    ("z_L $ y", 5, "unexpected character"),
    ("z_L - y \\foo", 9, "unknown command"),
    ("W z_1", 3, "layer index after 'W'"),
    ("sigma h_1", 7, "'(' after sigma"),
    ("z_{L-} - y", 6, "a number in the layer"),
    ("", 1, "expected a name"),
    ("[z_1; 2]", 7, "1 after ';'"),
    ("[W_1; 1]", 1, "appends a 1 to an activation only"),
    ("[z_1; 1", 8, "expected ']'"),
    ("(z_1; 1)", 5, "expected ')'"),
])
def test_malformed_claims_name_the_column(text, column, words):
    with pytest.raises(ClaimError) as info:
        parse(text)
    assert info.value.column == column
    assert words in str(info.value)
    assert f"(column {column})" in str(info.value)


def test_deep_nesting_is_an_error_not_a_recursion_error():
    with pytest.raises(ClaimError):
        parse("(" * 5000)
    with pytest.raises(ClaimError) as info:
        parse("(" * (MAX_NESTING + 5) + "z_1" + ")" * (MAX_NESTING + 5))
    assert "nested too deeply" in str(info.value)
    with pytest.raises(ClaimError):
        parse("-" * 1500 + "z_1")
    assert parse("(" * 40 + "z_1" + ")" * 40) == parse("z_1")


def test_long_input_is_bounded():
    with pytest.raises(ClaimError) as info:
        tokenize("z_1 + " * (MAX_LENGTH // 4))
    assert "too long" in str(info.value)


def test_the_parser_never_evaluates_text():
    for module in ("claims/lexer.py", "claims/grammar.py", "claims/network_build.py",
                   "claims/network_check.py"):
        source = (Path(__file__).resolve().parent.parent / "derive" / module).read_text()
        for banned in ("eval(", "exec(", "sympify(", "parse_expr", "parse_latex",
                       "__import__", "compile("):
            assert re.search(r"(?<![\w.])" + re.escape(banned), source) is None, (module, banned)
    with pytest.raises(ClaimError):
        parse("__import__('os').system('true')")


def test_params():
    assert parse_param("W_{L-1}") == ("W", ("L", -1))
    assert parse_param("delta_2") == ("delta", (None, 2))
    assert parse_param(r"\mathbf{z}_1") == ("z", (None, 1))
    with pytest.raises(ClaimError):
        parse_param("h_1")
    with pytest.raises(ClaimError):
        parse_param("z_1 + z_2")


NET = Network.uniform(depth="L", activation="sigmoid", loss="bce")


def test_build_checks_shapes_with_symbolic_widths():
    expr, shape = build(parse("(z_L - y) z_{L-1}^T"), NET)
    assert str(shape) == "(n[L], n[L - 1])"
    with pytest.raises(ShapeMismatch, match="cannot subtract"):
        build(parse("z_{L-1} - y"), NET)
    with pytest.raises(ShapeMismatch, match="cannot multiply"):
        build(parse("W_L W_L"), NET)
    with pytest.raises(ShapeMismatch, match="Hadamard"):
        build(parse("z_L ⊙ z_{L-1}"), NET)
    # juxtaposition is the matrix product: two column vectors side by side do not fit
    # (SPEC §3); the outer-product reading u vᵀ is a hint's, asked for explicitly
    with pytest.raises(ShapeMismatch, match="cannot multiply"):
        build(parse("z_{L-1} (z_L - y)"), NET)
    assert build(parse("z_{L-1} (z_L - y)"), NET, outer=True)[1] == \
        build(parse("z_{L-1} (z_L - y)^T"), NET)[1]
    # 1 next to a matrix is a ones vector
    from sympy import OneMatrix
    assert any(isinstance(a, OneMatrix) for a in build(parse("1 - z_L"), NET)[0].args)


def test_layers_that_do_not_exist_are_claim_errors():
    net = Network.uniform(depth=3, activation="sigmoid", loss="bce")
    with pytest.raises(ClaimError, match="does not exist"):
        build(parse("z_4"), net)
    with pytest.raises(ClaimError, match="bias"):
        build(parse("b_1"), net)


@pytest.mark.parametrize("claim", ["(z_L - y) z_{L-1}^T", "2 ((W_L^T (z_L - y)) ⊙ σ'(h_{L-1})) z_{L-2}^T",
                                   "W_L^T delta_L ⊙ (1 - z_{L-1} ⊙ z_{L-1})", "(1/2) z_L^{-1} - log(z_L)"])
def test_printed_claims_parse_back_to_the_same_expression(claim):
    expr = build(parse(claim), NET)[0]
    assert build(parse(to_claim(expr)), NET)[0] == expr
    assert build(parse(to_latex(expr)), NET)[0] == expr


ALPHABET = st.sampled_from(list("zWhyxLl_{}()[]^T'-+*/@.0123 ⊙σδᵀ\\") +
                           ["delta", "sigma", "\\top", "\\odot", "\\mathbf{z}", ".*", ".T", "sqrt",
                        "\\sqrt", "⊘", "./", ".^", "∘", "\\mathbf{1}"])


@settings(max_examples=examples(300))
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_any_text_parses_or_raises_claim_error(text):
    try:
        tree = parse(text)
    except ClaimError as exc:
        assert exc.column is None or 1 <= exc.column <= len(text) + 1
    else:
        assert isinstance(tree, tuple)
        try:
            build(tree, NET)
        except (ClaimError, ShapeMismatch):
            pass
