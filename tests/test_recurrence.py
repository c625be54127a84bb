"""Recurrent networks (SPEC §1c `Network.rnn`: the tanh, LSTM and GRU cells unrolled
through time) derived end to end: certified against the SymPy derivative of the expanded
loss; the derived gradients equal to central finite differences of a NumPy forward
written here from SPEC §1c, and to PyTorch's autograd of nn.RNN / nn.LSTM / nn.GRU with
the same weights; the classic mistakes of backpropagation through time (the last-step
shortcut for ∂J/∂W, δ_t without its recurrent term, ∂J/∂c_t without the cell path) shown
wrong against the same oracles; bad arguments refused in one line."""
import os

import numpy as np
import pytest
from recurrence_cases import (
    NUMERIC,
    SHAPES,
    SIZES,
    as_arrays,
    derivation,
    finite_differences,
    leaf_values,
    point,
    shape_of,
    torch,
    torch_gradients,
)
from sympy import Integer
from sympy.matrices.expressions import MatAdd

from derive import Network
from derive.cli.main import main
from derive.engine.ops import OPS, makeop
from derive.engine.recurrent import RECURRENT_OPS
from derive.engine.vjp import OpError, check
from derive.errors import SpecError
from derive.ir.nodes import MatPartial
from derive.ir.quantities import Q
from derive.spec.conv import refuse_unbuilt
from derive.spec.rnn import RNNNetwork

# --- the certificate: every gradient entry against diff of the expanded loss ----------
#: each cell with each readout; the gated cells at T = 2 (their expanded loss grows fast:
#: 6-8 s each with the loss read out at every step)
CERTIFIED = [("tanh", "every", 4), ("tanh", "last", 3),
             pytest.param("lstm", "every", 2, marks=pytest.mark.slow), ("lstm", "last", 2),
             pytest.param("gru", "every", 2, marks=pytest.mark.slow), ("gru", "last", 2)]


@pytest.mark.parametrize("cell, readout, steps", CERTIFIED)
def test_certified_against_the_expanded_loss(cell, readout, steps):
    d = derivation(cell, readout, steps, sizes=(1, 2, 1))
    cert = d.certify()
    assert cert.ok, cert
    assert cert.checked == sum(r * c for r, c in map(shape_of(d.net), d.net.parameters))



def test_a_wrong_cotangent_fails_the_certificate():
    d = derivation("tanh", "every", 3, sizes=(1, 2, 1))
    q = Q("ht", 1)
    saved = d.cotangents[q]
    d.cotangents[q] = 2 * saved
    try:
        assert not d.certify().ok
    finally:
        d.cotangents[q] = saved


# --- the rows: a wrong claim is caught by the derivation from the index form ----------
@pytest.mark.parametrize("name", [n for n in RECURRENT_OPS if n != "loss_add"])
def test_a_wrong_claim_of_each_row_is_refused(name):
    op = OPS[name]
    port = op.inputs[-1]
    vjps = dict(op.vjps, **{port: lambda b, G, f=op.vjps[port]: 2 * f(b, G)})
    wrong = makeop(op.name, op.output, op.inputs, op.index, op.matrix, op.ports,
                   batched=False, **vjps)
    with pytest.raises(OpError, match=port):
        check(wrong, SHAPES)

@pytest.mark.parametrize("cell, readout, output, loss", NUMERIC)
def test_gradients_equal_finite_differences(cell, readout, output, loss):
    d = derivation(cell, readout, 3, output, loss)
    net = d.net
    P, X, Y = point(net)
    grads = as_arrays(d.gradients(leaf_values(net, P, X, Y)))
    numeric = finite_differences(net, P, X, Y)
    assert set(grads) == {(k, 1) for k in P}
    for k in P:
        assert np.allclose(grads[k, 1], numeric[k], rtol=1e-5, atol=1e-7), k


# --- the classic mistakes of backpropagation through time, against the oracle ---------
def test_the_shared_weights_gradient_is_a_sum_over_time():
    """∂J/∂W = Σ_t δ_t h_{t-1}ᵀ: one term per step, equal to the finite differences,
    and the last-step shortcut δ_T h_{T-1}ᵀ is not."""
    d = derivation("tanh", "every", 3)
    net = d.net
    grad = d.grad("Wh", 1)
    assert isinstance(grad, MatAdd) and len(grad.args) == net.steps
    P, X, Y = point(net)
    env = as_arrays(d.values(leaf_values(net, P, X, Y)))
    numeric = finite_differences(net, P, X, Y)["Wh"]
    total = sum(env["dat", t] @ env["ht", t - 1].T for t in range(1, net.steps + 1))
    shortcut = env["dat", net.steps] @ env["ht", net.steps - 1].T
    assert np.allclose(env["dWh", 1], numeric, atol=1e-7)
    assert np.allclose(total, numeric, atol=1e-7)
    assert not np.allclose(shortcut, numeric, atol=1e-3)


def test_delta_t_carries_the_recurrent_term():
    """δ_t = (Wᵀ δ_{t+1} + Vᵀ ∂J/∂s_t) ⊙ (1 − h_t ⊙ h_t) (the notes' recursion, typed in as an
    oracle); without Wᵀ δ_{t+1} it is wrong."""
    d = derivation("tanh", "every", 3)
    net = d.net
    dh = d.cotangent(Q("ht", 1))
    assert MatPartial in {type(a) for term in dh.args for a in term.args}
    assert any(isinstance(a, MatPartial) and a.wrt.kind == "at" and a.wrt.layer == 2
               for a in dh.atoms(MatPartial))
    P, X, Y = point(net)
    env = as_arrays(d.values(leaf_values(net, P, X, Y)))
    for t in range(1, net.steps):
        local = P["V"].T @ env["dst", t]
        delta = (P["Wh"].T @ env["dat", t + 1] + local) * (1 - env["ht", t] ** 2)
        assert np.allclose(env["dat", t], delta, atol=1e-12)
        assert d.delta(t) == d.cotangent(Q("at", t))
        assert not np.allclose(env["dat", t], local * (1 - env["ht", t] ** 2), atol=1e-6)


def test_the_lstm_cell_state_carries_a_second_path():
    """∂J/∂c_t = ∂J/∂h_t ⊙ o_t ⊙ (1 − tanh²c_t) + f_{t+1} ⊙ ∂J/∂c_{t+1}; without the cell
    path f_{t+1} ⊙ ∂J/∂c_{t+1} it is wrong."""
    d = derivation("lstm", "every", 3)
    net = d.net
    P, X, Y = point(net)
    env = as_arrays(d.values(leaf_values(net, P, X, Y)))
    for t in range(1, net.steps):
        through_h = env["dht", t] * env["go", t] * (1 - np.tanh(env["ct", t]) ** 2)
        full = through_h + env["gf", t + 1] * env["dct", t + 1]
        assert np.allclose(env["dct", t], full, atol=1e-12)
        assert not np.allclose(env["dct", t], through_h, atol=1e-6)


def test_the_gru_interpolation_is_its_own_step():
    d = derivation("gru", "last", 2)
    calls = [c.op for c in d.net.blocks[0]]
    assert "interpolate" in calls
    # h_1 is read by the gates r_2, u_2, by m_2 = W_n h_1 + c_n and by the interpolation:
    # its cotangent sums the four paths
    dh = d.cotangent(Q("ht", 1))
    assert isinstance(dh, MatAdd) and len(dh.args) == 4


@pytest.mark.parametrize("cell, readout, output, loss", NUMERIC)
def test_gradients_equal_torch_autograd(cell, readout, output, loss):
    if torch is None:
        if os.environ.get("CI") == "true":
            pytest.fail("torch is not installed on CI")
        pytest.skip("torch is not installed")
    d = derivation(cell, readout, 3, output, loss)
    net = d.net
    P, X, Y = point(net)
    grads = as_arrays(d.gradients(leaf_values(net, P, X, Y)))
    expected = torch_gradients(net, P, X, Y)
    assert set(expected) == set(P)
    for k in P:
        assert np.allclose(grads[k, 1], expected[k], rtol=1e-9, atol=1e-12), k


# --- the specification ------------------------------------------------------------------
def test_the_blocks_read_one_shared_weight_at_every_step():
    net = Network.rnn("lstm", steps=3, **SIZES)
    readers = [c for block in net.blocks for c in block if Q("W_f", 1) in c.args.values()]
    assert len(readers) == net.steps
    assert {c.args["h"].layer for c in readers} == {0, 1, 2}
    assert net.size_values()[next(iter(net.size_values()))] == Integer(SIZES["inputs"])


@pytest.mark.parametrize("kwargs, message", [
    (dict(cell="elman"), "cell must be one of tanh, lstm, gru"),
    (dict(readout="all"), "readout must be one of every, last"),
    (dict(steps=0), "steps must be an integer from 1"),
    (dict(steps="S"), "steps must be 'T' \\(symbolic\\) or an integer"),
    (dict(hidden=2.5), "hidden must be an integer"),
    (dict(output="relu", loss="cce"), "loss cce needs an output"),
    (dict(loss="hinge"), "unknown loss"),
])
def test_bad_arguments_are_refused_in_one_line(kwargs, message):
    with pytest.raises(SpecError, match=message) as info:
        Network.rnn(**kwargs)
    assert "\n" not in str(info.value)


def test_what_is_not_built_is_refused_in_one_line():
    with pytest.raises(SpecError, match="documents for rnn are not built yet"):
        refuse_unbuilt(RNNNetwork(), "documents")


# --- the CLI: --arch rnn --cell --steps --readout ---------------------------------------
def test_the_cli_writes_the_recursion_through_time(capsys):
    assert main(["notes", "--arch", "rnn", "--cell", "lstm", "--steps", "2", "--readout",
                 "last", "--loss", "mse", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backpropagation for rnn; lstm cell; 2 steps")
    # the cell path into c_1 from c_2, and W_f's gradient summed over both steps
    assert "∂J/∂c_1 = ∂J/∂c_2 ⊙ f_2 + ∂J/∂k_1 ⊙ tanh'(c_1)" in out
    assert "∂J/∂W_f = ∂J/∂a_f_2 h_1ᵀ + ∂J/∂a_f_1 h_0ᵀ" in out


@pytest.mark.parametrize("argv, message", [
    (["--cell", "elman"], "cell must be one of tanh, lstm, gru"),
    (["--steps", "x"], "--steps must be"),
    (["--channels", "2"], "--channels is an option of --arch conv1d|conv2d, not of --arch rnn"),
])
def test_the_cli_refuses_bad_options_in_one_line(argv, message, capsys):
    assert main(["notes", "--arch", "rnn", "--loss", "mse", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1

