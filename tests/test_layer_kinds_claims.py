"""Claims about networks with §1b options: the new names (gamma_l, beta_l, M_l, a_l,
hhat_l, xhat_l, epsilon, lambda) parse, right claims hold and wrong variants fail, with
the truth taken from the certified derivation at sound instances."""
import pytest

from derive import ClaimError, Network, verify

TANH = dict(activation="tanh", loss="mse")
#: (network options, parameter, a right claim, wrong variants): each typed from the
#: textbook forms (the dropout mask on ∂J/∂z, σ' of the unmasked pre-activation, the
#: penalty's λ W, the sum over the two paths into a residual layer's input)
ROWS = [
    (dict(depth=3, dropout=True), "delta_2", "(M_2 ⊙ (W_3^T delta_3)) ⊙ (1 - a_2 ⊙ a_2)",
     ["(W_3^T delta_3) ⊙ (1 - a_2 ⊙ a_2)", "(M_2 ⊙ (W_3^T delta_3)) ⊙ (1 - z_2 ⊙ z_2)"]),
    (dict(depth=3, weight_decay=True), "W_3",
     "((z_3 - y) ⊙ (1 - z_3 ⊙ z_3)) z_2^T + lambda W_3",
     ["((z_3 - y) ⊙ (1 - z_3 ⊙ z_3)) z_2^T", "((z_3 - y) ⊙ (1 - z_3 ⊙ z_3)) z_2^T + 2 lambda W_3"]),
    (dict(depth=4, residual=True), "z_2", "W_3^T delta_3 + W_4^T delta_4",
     ["W_3^T delta_3"]),
    (dict(depth=3, norm="layer", bias="explicit"), "W_1", "delta_1 x^T", ["delta_1 x^T + gamma_1 x^T"]),
    (dict(depth=3, norm="layer", batch=True), "beta_2",
     "((W_3^T delta_3) ⊙ (1 - z_2 ⊙ z_2)) 1",          # z_2 = tanh(ĥ_2) without dropout
     ["((W_3^T delta_3) ⊙ (1 - hhat_2 ⊙ hhat_2)) 1", "(W_3^T delta_3) 1"]),
]


@pytest.mark.parametrize("options,param,claim,wrong", ROWS)
def test_right_claims_hold_and_wrong_variants_fail(options, param, claim, wrong):
    options = dict(options)
    net = Network.uniform(depth=options.pop("depth"), **TANH, **options)
    assert verify(net, param, claim).holds
    for variant in wrong:
        assert not verify(net, param, variant).holds, variant


def test_the_engines_correct_form_of_gamma_verifies():
    # depth 2: the form of layer 1 ends in the normalization of layer 1 itself;
    # tests/test_kinds_correct_forms.py reads back the forms through a deeper one
    net = Network.uniform(depth=2, **TANH, norm="batch", batch=True)
    wrong = verify(net, "gamma_1", "delta_1 1")
    assert not wrong.holds and wrong.correct
    assert verify(net, "gamma_1", wrong.correct).holds


@pytest.mark.parametrize("options,claim,message", [
    (dict(), "gamma_1", "norm='layer' or norm='batch'"),
    (dict(norm="layer"), "gamma_3", "only the hidden layers"),
    (dict(), "M_1", "dropout=True"),
    (dict(norm="layer"), "lambda W_1", "weight_decay=True"),
    (dict(weight_decay=True), "epsilon W_1", "norm='layer'"),
])
def test_names_of_absent_quantities_are_claim_errors(options, claim, message):
    net = Network.uniform(depth=3, **TANH, **options)
    with pytest.raises(ClaimError, match=message):
        verify(net, "W_1", claim)
