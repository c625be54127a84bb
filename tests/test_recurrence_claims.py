"""Claims about a recurrent network (`verify` with `Network.rnn`, SPEC §3 in §1c's names):
the textbook forms hold; the classic mistakes of backpropagation through time differ and
are named (the last step's term alone for a shared weight, δ_t or ∂J/∂h_t without the
recurrent term, ∂J/∂c_t without the cell path); shapes first; bad text refused in one
line naming its column."""
import re

import pytest

from derive import Network, verify
from derive.cli.main import main
from derive.errors import ClaimError

TANH = Network.rnn("tanh", steps="T", inputs=2, hidden=3, outputs=2)
LSTM = Network.rnn("lstm", steps="T", inputs=2, hidden=3, outputs=2)
GRU = Network.rnn("gru", steps=3, inputs=2, hidden=3, outputs=2, readout="last")
DELTA = "(W^T delta_{t+1} + V^T (yhat_t - y_t)) ⊙ (1 - h_t ⊙ h_t)"


@pytest.mark.parametrize("net, param, claim", [
    (TANH, "delta_t", DELTA),
    (TANH, "delta_T", "V^T (yhat_T - y_T) ⊙ tanh'(a_T)"),
    (TANH, "dJ/dh_t", "W^T delta_{t+1} + V^T (yhat_t - y_t)"),
    (LSTM, "dJ/dc_t", "dJ/dh_t ⊙ o_t ⊙ tanh'(c_t) + f_{t+1} ⊙ dJ/dc_{t+1}"),
    (LSTM, "dJ/do_t", "dJ/dh_t ⊙ tanh(c_t)"),
    (GRU, "dJ/dn_t", "dJ/dh_t ⊙ (1 - u_t)"),
    (GRU, "dJ/du_2", "dJ/dh_2 ⊙ (h_1 - n_2)"),
    (Network.rnn("tanh", steps=3, inputs=2, hidden=3, outputs=2), "W",
     "delta_3 h_2^T + delta_2 h_1^T + delta_1 h_0^T"),
])
def test_the_textbook_forms_hold(net, param, claim):
    v = verify(net, param, claim)
    assert v.holds, (v.reason, v.hint)


@pytest.mark.parametrize("net, param, claim, hint", [
    (TANH, "W", "delta_T h_{T-1}^T", "the last step's term alone"),
    (TANH, "delta_t", "(V^T (yhat_t - y_t)) ⊙ (1 - h_t ⊙ h_t)",
     "δ_t is missing the recurrent term from δ_{t+1}"),
    (TANH, "dJ/dh_t", "V^T (yhat_t - y_t)", "the recurrent term from step t + 1 is missing"),
    (LSTM, "dJ/dc_t", "dJ/dh_t ⊙ o_t ⊙ tanh'(c_t)", "the cell path from step t + 1 is missing"),
    (LSTM, "W_f", "dJ/dc_T ⊙ c_{T-1} ⊙ f_T ⊙ (1 - f_T) h_{T-1}^T", "the last step's term"),
])
def test_the_classic_mistakes_differ_and_are_named(net, param, claim, hint):
    v = verify(net, param, claim)
    assert not v.holds and v.reason == "differs"
    assert v.hint.startswith(hint), v.hint
    assert v.counterexample["true"] != v.counterexample["claimed"]


def test_a_wrong_claim_without_a_known_mistake_has_no_hint():
    v = verify(TANH, "W", "h_{T-1} delta_T^T")          # the shortcut, transposed too
    assert not v.holds and v.hint == ""


def test_shapes_first_and_a_transpose_named():
    v = verify(Network.rnn("tanh", steps=2, inputs=2, hidden=3, outputs=2, readout="last"),
               "V", "h_2 (dJ/ds_2)^T")
    assert not v.holds and v.reason.startswith("shape mismatch: the claim is 3×2 but V is 2×3")
    assert v.reason.endswith("(holds if transposed)")
    assert verify(TANH, "U", "delta_t x_t").reason.startswith("shape mismatch")


@pytest.mark.parametrize("param, claim, message", [
    ("W", "delta_T (h_{T-1}^T", "expected ')', got the end (column 19)"),
    ("W", "Q_t", "unknown name 'Q' for an rnn with a tanh cell (column 1)"),
    ("W", "h_x", "expected a step t, T, {t+1}, {T-1} or a number after h_, got 'x' (column 3)"),
    ("x_t", "x_t", "the parameter must be a shared weight"),
])
def test_bad_claims_are_refused_naming_the_column(param, claim, message, capsys):
    with pytest.raises(ClaimError, match=re.escape(message)):
        verify(TANH, param, claim)
    assert main(["verify", "--arch", "rnn", "--loss", "mse", "--param", param, "--claim",
                 claim]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_the_cli_verifies_an_rnn_claim(capsys):
    assert main(["verify", "--arch", "rnn", "--cell", "lstm", "--loss", "mse", "--param",
                 "dJ/dc_t", "--claim", "dJ/dh_t ⊙ o_t ⊙ tanh'(c_t)"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DOES NOT HOLD: differs") and "hint: the cell path" in out
