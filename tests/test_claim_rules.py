"""No false HOLDS (issue 21): the rule for ones and 1×1, and sizes that tell identities apart.

Each wrong claim below passed as HOLDS before: ``1 1^T`` read as the number 1 in network
claims, and the catalogue checking a lone square dimension only at size 2 (where
det X = tr(X) I - Xᵀ … are identities). The oracles: NumPy's own sums for what ``1 1ᵀ``
means, and the 3×3 counterexamples computed here with NumPy (the Cayley–Hamilton forms
are true for 2×2 only).
"""
import numpy as np
import pytest

from derive import Network
from derive.claims.identity_check import verify_derivative
from derive.claims.network_check import verify
from derive.claims.verdict import format_verdict

BATCH2 = dict(depth=2, activation="sigmoid", loss="bce", batch=True)
BATCHL = dict(depth="L", activation="sigmoid", loss="bce", batch=True)


@pytest.mark.parametrize("net, param, claim, holds", [
    (BATCH2, "W_2", "1/m 1 1^T (z_2 - y) z_1^T", False),      # sums over the wrong axis
    (BATCHL, "delta_L", "1/m 1 1^T (z_L - y)", False),
    (BATCH2, "W_2", "1/m (z_2 - y) 1 1^T z_1^T", False),      # a wrong claim, not an error
    (BATCH2, "W_2", "1/m (z_2 - y) z_1^T", True),
    (dict(BATCH2, bias="explicit"), "b_2", "1/m (z_2 - y) 1", True),   # δ 1 sums the columns
    (dict(BATCH2, bias="explicit"), "b_2", "1/m 1^T (z_2 - y)", False),
])
def test_ones_in_network_claims(net, param, claim, holds):
    v = verify(Network.uniform(**net), param, claim)
    assert v.holds is holds, format_verdict(v)
    assert "Spread" not in format_verdict(v) and "Open" not in format_verdict(v)


def test_all_ones_matrix_is_the_column_sum_spread():
    """The oracle for what 1 1ᵀ D means: every row is D's column sums (NumPy)."""
    rng = np.random.default_rng(0)
    D = rng.normal(size=(3, 4))
    spread = np.ones((3, 1)) @ np.ones((1, 3)) @ D
    assert np.allclose(spread, np.tile(D.sum(axis=0), (3, 1)))
    assert not np.allclose(spread, D)    # so `1 1^T D` for D is a wrong claim


def test_textbook_layer_norm_vjp_holds():
    """(1/σ) (I - 1 1ᵀ/n - x̂ x̂ᵀ/n) (γ ⊙ G), one sample, G = ∂J/∂ĥ_1."""
    net = Network.uniform(depth=2, activation="tanh", loss="sse", norm="layer")
    G = "(W_2^T delta_2 ⊙ tanh'(hhat_1))"
    good = f"1/sqrt(var_1 + epsilon) (I - 1 1^T/n_1 - xhat_1 xhat_1^T/n_1) (gamma_1 ⊙ {G})"
    assert verify(net, "delta_1", good).holds
    for wrong in (good.replace("- 1 1^T/n_1 ", ""), good.replace("- xhat_1", "+ xhat_1"),
                  good.replace("gamma_1 ⊙ ", "")):
        assert not verify(net, "delta_1", wrong).holds, wrong


@pytest.mark.parametrize("expr, claim", [
    ("det(X)", "tr(X) I - X^T"),
    ("log det(X)", "(tr(X) I - X^T)/det(X)"),
    ("tr(X^3)", "3 (tr(X) X - det(X) I)^T"),
])
def test_two_by_two_identities_do_not_hold(expr, claim):
    v = verify_derivative(expr, "X", claim)
    assert not v.holds, format_verdict(v)
    assert v.counterexample["sizes"]["m"] >= 3


def test_cayley_hamilton_forms_fail_at_three_by_three():
    """The oracle for the three claims above: adj(X)ᵀ = tr(X) I - Xᵀ only for 2×2."""
    rng = np.random.default_rng(1)
    for n, agrees in ((2, True), (3, False)):
        X = rng.normal(size=(n, n))
        cofactor = np.linalg.det(X) * np.linalg.inv(X).T
        assert np.allclose(cofactor, np.trace(X) * np.eye(n) - X.T) is agrees


@pytest.mark.parametrize("expr, wrt", [("det(X)", "X"), ("y^T A x", "A"),
                                       ("x^T A B y", "B")])
def test_every_catalogue_verdict_checks_a_large_distinct_size_set(expr, wrt):
    from derive import matrix_derivative
    from derive.printing.matrix_latex import to_claim
    v = verify_derivative(expr, wrt, to_claim(matrix_derivative(expr, wrt).result))
    assert v.holds and len(v.checked) >= 2
    large = [s for s in v.checked if min(s.values()) >= 3]
    assert any(len(set(s.values())) == len(s) for s in large)
    text = format_verdict(v)
    assert "proved exactly" not in text
    assert all(f"{k}={n}" in text for s in v.exact for k, n in s.items())


@pytest.mark.parametrize("expr, wrt, claim, holds", [
    ("1^T exp(X a)", "X", "exp(X a) a^T", True),
    ("1^T exp(X a)", "X", "exp(X a) 1^T", False),
    ("a^T log(X b)", "X", "(a ⊘ (X b)) b^T", True),
    ("a^T log(X b)", "X", "(a ./ (X b)) b^T", True),
    ("a^T log(X b)", "X", "(a ⊘ (X b)) a^T", False),
    ("x^T 1 1^T y", "x", "1 1^T y", True),
    ("x^T 1 1^T y", "x", "y", False),
])
def test_ones_and_division_in_the_catalogue(expr, wrt, claim, holds):
    v = verify_derivative(expr, wrt, claim)
    assert v.holds is holds, format_verdict(v)


def test_ones_printed_read_back():
    """A correct form with ones prints in the claim syntax and verifies."""
    from derive import matrix_derivative
    from derive.printing.matrix_latex import to_claim
    text = to_claim(matrix_derivative("x^T 1 1^T y", "x").result)
    assert verify_derivative("x^T 1 1^T y", "x", text).holds, text


@pytest.mark.parametrize("claim, holds", [("A x + A^T x", True), ("2 A x", True),
                                          ("A x", False)])
def test_all_one_by_one_catalogue_answers(claim, holds):
    v = verify_derivative("x^T A x", "x", claim, shapes={"x": (1, 1), "A": (1, 1)})
    assert v.holds is holds
    assert "the given shapes" in format_verdict(v)


def test_one_by_one_factor_multiplies_as_a_scalar():
    """A single-output network's z_2 - y is 1×1 at one sample: (z_2 - y) W_2^T reads as
    the scalar times W_2ᵀ, as in the catalogue."""
    net = Network.uniform(depth=2, activation="sigmoid", loss="bce", widths=(3, 4, 1))
    assert verify(net, "delta_1", "(z_2 - y) W_2^T ⊙ z_1 ⊙ (1 - z_1)").holds
    assert not verify(net, "delta_1", "2 (z_2 - y) W_2^T ⊙ z_1 ⊙ (1 - z_1)").holds


@pytest.mark.parametrize("claim, words", [
    ("-det(X) X^{-T}", "wrong sign"), ("2 det(X) X^{-T}", "factor 2"),
    ("1/2 det(X) X^{-T}", "factor 1/2"), ("det(X) X^{-1}", "transposed"),
    ("det(X) X", ""),                      # no repair of the list makes it hold
])
def test_catalogue_hints_factor_sign_transpose(claim, words):
    """Planted into d/dX det(X) = det(X) X^{-T} (Matrix Cookbook (49)); each hint is
    verified by the checker itself before it is given."""
    v = verify_derivative("det(X)", "X", claim)
    assert not v.holds
    assert (words in v.hint) if words else v.hint == ""


def test_residual_symbolic_depth_knows_the_hidden_widths_are_equal():
    """Was refused with a shape mismatch (n_{L-1} vs n_{L-2}); the skip path's sum."""
    net = Network.uniform(depth="L", activation="tanh", loss="sse", residual=True)
    right = "(W_{L-1}^T delta_{L-1} + W_L^T delta_L) ⊙ tanh'(h_{L-2})"
    assert verify(net, "delta_{L-2}", right).holds
    assert not verify(net, "delta_{L-2}", "(W_{L-1}^T delta_{L-1}) ⊙ tanh'(h_{L-2})").holds


def test_sigma_of_hhat_is_the_layers_activation():
    """σ'(ĥ_1) in a network with tanh then sigmoid means tanh'(ĥ_1) (was refused)."""
    net = Network(activations=("tanh", "sigmoid"), loss="bce", depth=2, norm="layer")
    assert verify(net, "beta_1", "W_2^T (z_2 - y) ⊙ σ'(hhat_1)").holds
    assert not verify(net, "beta_1", "W_2^T (z_2 - y) ⊙ sigmoid'(hhat_1)").holds


@pytest.mark.parametrize("notation", ["hz", "gh"])
def test_residual_general_layer_correct_form_prints_and_reads_back(notation):
    """The general layer's recursion names ∂J/∂z_{l+1} (dJ/dz_{l+1}); its correct form was
    empty before (no claim syntax for the cotangent)."""
    from derive.claims.network_check import correct_form
    net = Network.uniform(depth="L", activation="tanh", loss="sse", residual=True)
    text, latex = correct_form(net, "delta_l", notation)
    assert "dJ/d" in text
    assert verify(net, "delta_l", text, notation=notation).holds
    assert verify(net, "delta_l", latex, notation=notation).holds


@pytest.mark.parametrize("claim, holds", [
    ("(W_2^T delta_2 + dJ/dz_2) ⊙ tanh'(h_1)", True),
    ("dJ/dz_1 ⊙ tanh'(h_1)", True),
    ("(W_2^T delta_2) ⊙ tanh'(h_1)", False),            # the skip path forgotten
    ("(W_2^T delta_2 + dJ/dz_3) ⊙ tanh'(h_1)", False),   # the wrong layer's cotangent
])
def test_named_cotangents_in_claims(claim, holds):
    net = Network.uniform(depth=3, activation="tanh", loss="sse", residual=True)
    assert verify(net, "delta_1", claim).holds is holds


def test_long_chains_are_answered_not_recursed():
    """Issue 23: a 200-factor Hadamard chain raised RecursionError, 80 copies of a term
    hung; both are verdicts now (wrong claims: z_1^{∘200} ≠ ∂J/∂z_1, 80 × the gradient)."""
    net = Network.uniform(depth=3, activation="sigmoid", loss="bce")
    assert not verify(net, "z_1", " ⊙ ".join(["z_1"] * 200)).holds
    assert not verify(net, "W_3", " + ".join(["(z_3 - y) z_2^T"] * 80)).holds


@pytest.mark.parametrize("call", [
    lambda: verify(Network.uniform(depth=3, activation="sigmoid", loss="bce"), "W_3",
                   "1" * 5000 + " (z_3 - y) z_2^T"),
    lambda: verify_derivative("1" * 5000 + " y^T A x", "A", "y x^T"),
    lambda: verify_derivative("tr(X^20)", "X", "20 (X^T)^{19}"),
    lambda: verify_derivative("y^T X^30 x", "X", "y x^T"),
    lambda: verify_derivative("tr(X^{-5})", "X", "X"),
])
def test_refused_up_front_in_one_line(call):
    from derive.errors import ClaimError
    with pytest.raises(ClaimError) as info:
        call()
    assert "\n" not in str(info.value) and len(str(info.value)) < 200
