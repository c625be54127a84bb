"""verify: the claims of the seeds, right and wrong, with reasons and counterexamples."""
import pytest

from derive import ClaimError, Network, SpecError, verify
from derive.claims.verdict import format_verdict

SIGMOID_BCE = Network.uniform(depth="L", activation="sigmoid", loss="bce")
RIGHT_HIDDEN = "((W_L^T (z_L - y)) ⊙ σ'(h_{L-1})) z_{L-2}^T"


def test_000_last_layer_claim_holds_for_symbolic_depth():
    v = verify(SIGMOID_BCE, "W_L", "(z_L - y) z_{L-1}^T")
    assert v.holds and v.reason == "holds"
    assert v.depths == [1, 2, 3, 4, 5, 6]
    assert v.exact                       # proved by cancellation at the small depths
    assert v.counterexample is None
    assert v.correct == "(z_L - y) z_{L-1}^T"


def test_000_last_layer_claim_holds_at_depth_3():
    net = Network.uniform(depth=3, activation="sigmoid", loss="bce")
    assert verify(net, "W_3", "(z_3 - y) z_2^T").holds
    assert verify(net, "W_L", "(z_L - y) z_{L-1}^T").holds


def test_000_analogue_for_the_layer_before_fails_with_a_counterexample():
    v = verify(SIGMOID_BCE, "W_{L-1}", "(W_L^T (z_L - y)) z_{L-2}^T")
    assert not v.holds and v.reason.startswith("differs at L = 2")
    cex = v.counterexample
    assert set(cex) >= {"L", "widths", "entry", "true", "claimed", "point"}
    assert cex["true"] != cex["claimed"]
    assert all("/" in value or value.lstrip("-").isdigit() for value in cex["point"].values())
    assert v.correct == "((W_L^T (z_L - y)) ⊙ z_{L-1} ⊙ (1 - z_{L-1})) z_{L-2}^T"
    assert "\\odot" in v.correct_latex
    text = format_verdict(v)
    assert "counterexample" in text and "correct form" in text


@pytest.mark.slow
def test_000_correct_form_for_the_layer_before_holds():
    v = verify(SIGMOID_BCE, "W_{L-1}", RIGHT_HIDDEN)
    assert v.holds and v.depths == [2, 3, 4, 5, 6]
    # written with the derivative in terms of the output, as in 000
    assert verify(SIGMOID_BCE, "W_{L-1}",
                  "(W_L.T @ (z_L - y) .* z_{L-1} .* (1 - z_{L-1})) @ z_{L-2}.T").holds
    # its own correct form verifies
    assert verify(SIGMOID_BCE, "W_{L-1}", v.correct).holds
    assert verify(SIGMOID_BCE, "W_{L-1}", v.correct_latex).holds


def test_000_own_spelling_holds_if_transposed():
    v = verify(SIGMOID_BCE, "W_L", "z_{L-1}(z_L - y)")
    assert not v.holds
    assert v.reason == ("shape mismatch: cannot multiply z_{L-1} (n_{L-1}×1) by z_L - y "
                        "(n_L×1); read as the outer product u vᵀ, the claim is "
                        "z_{L-1} ((z_L - y)^T) (n_{L-1}×n_L), which holds if transposed")
    assert v.hint and "holds if transposed" in v.hint
    flipped = verify(SIGMOID_BCE, "W_L", "z_{L-1} (z_L - y)^T")
    assert flipped.reason.endswith("; holds if transposed")
    wrong = verify(SIGMOID_BCE, "W_L", "z_{L-1} (2 z_L - y)")
    assert "shape mismatch" in wrong.reason and "transposed" not in wrong.reason


def test_shape_mismatch_inside_the_claim_is_a_verdict():
    v = verify(SIGMOID_BCE, "W_{L-1}", "(z_{L-1} - y) z_{L-2}^T")
    assert not v.holds and v.reason.startswith("shape mismatch: cannot subtract y")
    v = verify(SIGMOID_BCE, "W_L", "z_L - y")
    assert not v.holds and "n_L×1" in v.reason


def test_002_factor_two_of_the_squared_loss_is_required():
    net = Network.uniform(depth=2, activation="sigmoid", output="identity", loss="sse")
    assert verify(net, "W_2", "2 (z_2 - y) z_1^T").holds
    v = verify(net, "W_2", "(z_2 - y) z_1^T")
    assert not v.holds and v.counterexample["true"] == 2 * v.counterexample["claimed"] or \
        abs(v.counterexample["true"] - 2 * v.counterexample["claimed"]) < 1e-9
    # in 002's own letters: f the output, h the hidden layer, superscript layers
    assert verify(net, "W^2", "2 (f - y) (h^1)^T", notation="gh").holds


def test_003_linear_chain_forms_hold_and_wrong_order_fails():
    net = Network.uniform(depth=3, activation="identity", loss="mse")
    assert verify(net, "W_1", "W_2^T W_3^T (z_3 - y) x^T").holds
    assert verify(net, "W_2", "W_3^T (z_3 - y) z_1^T").holds
    assert verify(net, "delta_1", "(W_3 W_2)^T (z_3 - y)").holds
    # the transposes in the wrong order do not even fit symbolic widths …
    assert "shape mismatch" in verify(net, "W_1", "W_3^T W_2^T (z_3 - y) x^T").reason
    # … and at equal widths they give the wrong numbers
    square = Network.uniform(depth=3, activation="identity", loss="mse", widths=(2, 2, 2, 2))
    v = verify(square, "W_1", "W_3^T W_2^T (z_3 - y) x^T")
    assert not v.holds and v.counterexample["widths"] == (2, 2, 2, 2)
    assert verify(square, "W_1", "W_2^T W_3^T (z_3 - y) x^T").holds


def test_sigmoid_mse_does_not_cancel():
    net = Network.uniform(depth="L", activation="sigmoid", loss="mse")
    v = verify(net, "delta_L", "z_L - y")
    assert not v.holds and v.counterexample
    assert v.correct == "(z_L - y) ⊙ z_L ⊙ (1 - z_L)"
    assert verify(net, "delta_L", "(z_L - y) ⊙ z_L ⊙ (1 - z_L)").holds


def test_softmax_cce_gives_z_minus_y():
    net = Network.uniform(depth="L", activation="tanh", output="softmax", loss="cce")
    v = verify(net, "delta_L", "z_L - y")
    assert v.holds and "probability vector" in v.reason
    assert verify(Network(activations=("sigmoid", "softmax"), loss="cce"), "W_2",
                  "(z_2 - y) z_1^T").holds


@pytest.mark.slow
def test_general_layer_and_dJdz_and_bias():
    assert verify(SIGMOID_BCE, "delta_l", "(W_{l+1}^T delta_{l+1}) ⊙ σ'(h_l)").holds
    assert verify(SIGMOID_BCE, "W_l", "delta_l z_{l-1}^T").holds
    assert not verify(SIGMOID_BCE, "delta_l", "W_{l+1}^T delta_{l+1}").holds
    assert verify(SIGMOID_BCE, "z_{L-1}", "W_L^T (z_L - y)").holds
    assert verify(SIGMOID_BCE, "z_L", "(z_L - y) ⊙ z_L^{-1} ⊙ (1 - z_L)^{-1}").holds
    net = Network.uniform(depth="L", activation="sigmoid", loss="bce", bias="explicit")
    assert verify(net, "b_L", "z_L - y").holds
    assert verify(net, "b_{L-1}", "W_L^T (z_L - y) ⊙ z_{L-1} ⊙ (1 - z_{L-1})").holds


@pytest.mark.slow
def test_batch_and_augmented_correct_forms_verify():
    batch = Network.uniform(depth="L", activation="sigmoid", loss="bce", batch=True)
    assert not verify(batch, "W_L", "(z_L - y) z_{L-1}^T").holds
    assert verify(batch, "W_L", "(1/m) (z_L - y) z_{L-1}^T").holds
    aug = Network.uniform(depth="L", activation="tanh", loss="mse", output="identity",
                          bias="augmented")
    v = verify(aug, "W_{L-1}", "W_L^T (z_L - y) z_{L-2}^T")
    assert not v.holds
    assert verify(aug, "W_{L-1}", v.correct).holds
    # the augmented input, as 002 writes it: [z_l; 1] is zaug_l
    assert verify(aug, "W_L", "(z_L - y) [z_{L-1}; 1]^T").holds
    assert not verify(aug, "W_L", "(z_L - y) [z_{L-1}; 1]").holds
    with pytest.raises(ClaimError, match="augmented"):
        verify(SIGMOID_BCE, "W_L", "(z_L - y) [z_{L-1}; 1]^T")


def test_claims_with_numbered_layers_in_a_symbolic_net():
    v = verify(SIGMOID_BCE, "W_2", "delta_2 z_1^T")
    assert v.holds and v.depths == [2, 3, 4, 5, 6]


def test_bad_input_raises():
    with pytest.raises(ClaimError):
        verify(SIGMOID_BCE, "W_L", "(z_L - y")
    with pytest.raises(ClaimError):
        verify(SIGMOID_BCE, "h_L", "z_L")
    with pytest.raises(ClaimError):
        verify(Network.uniform(depth=3, activation="sigmoid", loss="bce"), "W_4", "z_4")
    with pytest.raises(SpecError):
        verify("net", "W_L", "z_L")
    with pytest.raises(ClaimError):
        verify(SIGMOID_BCE, "W_L", "z_L", notation="xy")


@pytest.mark.slow
def test_ones_vector_sums_the_batch_for_the_bias():
    net = Network.uniform(depth="L", activation="sigmoid", loss="bce", batch=True,
                          bias="explicit")
    v = verify(net, "b_L", "(1/m) (z_L - y) 1")
    assert v.holds
    assert verify(net, "b_L", v.correct).holds
    assert "shape mismatch" in verify(net, "b_L", "(1/m) (z_L - y)").reason


def test_four_fundamental_equations_in_za_notation():
    za = dict(notation="za")
    assert verify(SIGMOID_BCE, "w^L", "delta^L (a^{L-1})^T", **za).holds
    assert verify(SIGMOID_BCE, "delta^{L-1}", "((w^L)^T delta^L) ⊙ σ'(z^{L-1})", **za).holds
    v = verify(SIGMOID_BCE, "W^{L-1}", "delta^{L-1} a^{L-1}^T", **za)
    assert not v.holds and "shape mismatch" in v.reason
    assert v.correct.startswith("((W^L^T (a^L - y)) ⊙ a^{L-1} ⊙ (1 - a^{L-1}))")
    assert v.correct_latex.startswith(r"(({W^L}^\top (a^L - y)) \odot a^{L-1}")


def test_pq_notation():
    net = Network.uniform(depth=3, activation="identity", loss="mse")
    assert verify(net, "W_1", "W_2^T W_3^T (q_3 - y) x^T", notation="pq").holds


def _pairs():
    from nets import valid_pairs
    return valid_pairs()


@pytest.mark.parametrize("act, loss", _pairs())
def test_the_printed_correct_form_verifies_for_every_rule_pair(act, loss):
    from nets import net_for
    net = net_for(act, loss, depth=2)
    for param in ("W_1", "W_2", "delta_2", "z_1"):
        v = verify(net, param, "0 z_2 z_1^T" if param.startswith("W_2") else "0 z_2")
        assert v.correct, (param, v.reason)
        again = verify(net, param, v.correct)
        assert again.holds, (param, v.correct, again.reason)
