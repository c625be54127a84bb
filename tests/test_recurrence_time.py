"""Recurrent networks at a symbolic number of steps T (the steps T and T − 1 and the
general step t, certified by instantiation against the unrolled networks), and their
NumPy export, a loop over t only (against the derivation, the NumPy forward of SPEC §1c
and its finite differences)."""

import os

import numpy as np
import pytest
from recurrence_cases import NUMERIC, as_arrays, derivation, finite_differences, forward_loss, leaf_values, point

from derive import Network, backprop, export_numpy
from derive.cli.main import main
from derive.errors import SpecError
from derive.ir.nodes import MatPartial
from derive.ir.quantities import KINDS, Q
from derive.ir.time_sum import TimeSum
from derive.spec.rnn import STEP


# --- a symbolic number of steps T: the steps T, T − 1 and the general step t ----------
@pytest.fixture(scope="module")
def symbolic():
    cache = {}

    def get(cell, readout):
        if (cell, readout) not in cache:
            cache[cell, readout] = backprop(Network.rnn(cell, steps="T", readout=readout,
                                                        inputs=1, hidden=2, outputs=1))
        return cache[cell, readout]
    return get


@pytest.mark.parametrize("readout", ["every", "last"])
def test_symbolic_steps_certified_through_the_unrolled_networks(symbolic, readout):
    cert = symbolic("tanh", readout).certify(steps=(2, 3))
    assert cert.ok, cert
    assert cert.checked == 2 * 11 and cert.compared > 10


@pytest.mark.parametrize("cell, readout", [(c, r) for c in ("lstm", "gru")
                                           for r in ("every", "last")])
def test_symbolic_steps_instantiate_to_the_unrolled_derivation(symbolic, cell, readout):
    """Written at T = 2, 3, 4 (the general step at every t < T), each cotangent and
    gradient is the unrolled network's (whose certificate and numbers the tests above
    check)."""
    d = symbolic(cell, readout)
    assert all(d.instantiates(T) for T in (2, 3, 4))


def test_a_wrong_general_step_does_not_instantiate(symbolic):
    d = symbolic("tanh", "every")
    cotangents = d.walks[STEP][1]
    q = Q("ht", STEP)
    saved = cotangents[q]
    cotangents[q] = saved.args[0]          # δ_t without one of its two paths
    try:
        assert not d.instantiates(3)
    finally:
        cotangents[q] = saved
    assert d.instantiates(3)


def test_symbolic_delta_t_reads_delta_t_plus_1_and_the_weights_sum_over_t(symbolic):
    d = symbolic("tanh", "every")
    named = {(a.wrt.kind, a.wrt.layer) for a in d.cotangent(Q("ht", STEP)).atoms(MatPartial)}
    assert named == {("at", STEP + 1), ("st", STEP)}
    assert d.delta(STEP) == d.cotangent(Q("at", STEP))
    assert isinstance(d.grad("Wh"), TimeSum) and isinstance(d.grad("V"), TimeSum)
    last = symbolic("tanh", "last")
    assert not isinstance(last.grad("V"), TimeSum)          # read out at T only
    assert {a.wrt.kind for a in last.cotangent(Q("ht", STEP)).atoms(MatPartial)} == {"at"}


def test_the_cli_writes_the_general_step(capsys):
    assert main(["notes", "--arch", "rnn", "--cell", "tanh", "--steps", "T", "--loss", "mse",
                 "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "∂J/∂h_t = Wᵀ ∂J/∂a_{t+1} + Vᵀ ∂J/∂s_t" in out
    assert "∂J/∂W = Σ_{t=1}^{T} ∂J/∂a_t h_{t-1}ᵀ" in out


# --- the NumPy export: a loop over t only, from the symbolic-T derivation ---------------
@pytest.mark.parametrize("cell, readout, output, loss", NUMERIC)
def test_the_export_equals_the_derivation_and_finite_differences(cell, readout,
                                                                 output, loss):
    d = derivation(cell, readout, 3, output, loss)
    net = d.net
    g = export_numpy(net)
    assert g.param_names == tuple(KINDS[k].claim for k in net.parameters)
    P, X, Y = point(net)
    params = [P[k] for k in net.parameters]
    J, grads = g.loss_and_gradients(params, np.hstack(X), np.hstack(Y))
    assert J == pytest.approx(forward_loss(net, P, X, Y), rel=1e-12)
    derived_grads = as_arrays(d.gradients(leaf_values(net, P, X, Y)))
    numeric = finite_differences(net, P, X, Y)
    for k, G in zip(net.parameters, grads):
        assert np.allclose(G, derived_grads[k, 1], rtol=1e-10, atol=1e-13), k
        assert np.allclose(G, numeric[k], rtol=1e-5, atol=1e-7), k
    loops = [line.strip() for line in g.source.splitlines() if line.strip().startswith("for ")]
    assert loops[1:-1] == ["for t in range(1, T + 1):", "for t in range(T, 0, -1):",
                           "for t in range(1, T + 1):"]    # the only loops are over the steps
    assert loops[-1] == "for name, shape in zip(param_names, param_shapes)]"   # init_params
    assert loops[0].startswith("for p, name, shape in zip(params")   # checking the arguments
    hidden = g.forward(params, np.hstack(X))
    assert len(hidden) == net.steps and hidden[-1].shape == (net.hidden, 1)


def test_the_export_of_symbolic_steps_is_refused_in_one_line():
    with pytest.raises(SpecError, match="needs a number of steps, not T"):
        export_numpy(Network.rnn("tanh", steps="T"))


def test_the_cli_exports_an_rnn(tmp_path, capsys):
    path = tmp_path / "lstm.py"
    assert main(["export", "--arch", "rnn", "--cell", "lstm", "--steps", "4", "--loss", "mse",
                 "-o", str(path)]) == 0
    assert "def loss_and_gradients" in path.read_text()


@pytest.mark.parametrize("head", [("softmax", "cce"), ("sigmoid", "bce")])
def test_a_saturated_readout_keeps_finite_gradients_as_torch(head):
    """Readout logits of ±800: softmax underflows to 0 and sigmoid rounds to 1 exactly, so
    ∂J/∂ŷ_t alone would divide 0 by 0; the export prints the loss/activation cancellation
    at every step and matches PyTorch's log-softmax / BCE-with-logits gradients."""
    torch = pytest.importorskip("torch") if not os.environ.get("CI") else __import__("torch")
    net = Network.rnn("tanh", steps=2, inputs=1, hidden=2, outputs=2, output=head[0],
                      loss=head[1])
    g = export_numpy(net)
    assert g.source.count("loss/activation cancellation") == 2 and "dJ_dyhat[t] =" not in g.source
    params = [np.array([[0.5, -0.25], [0.25, 0.5]]), np.array([[1.0], [-1.0]]), np.zeros((2, 1)),
              np.array([[400.0, 400], [-400, -400]]), np.zeros((2, 1))]
    X, Y = np.array([[1.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    J, grads = g.loss_and_gradients(params, X, Y)
    W, U, b, V, c = (torch.tensor(p, requires_grad=True) for p in params)
    F, h, loss = torch.nn.functional, torch.zeros(2, 1, dtype=torch.float64), 0
    for t in range(2):
        h = torch.tanh(W @ h + U @ torch.tensor(X[:, t:t + 1]) + b)
        s, y = V @ h + c, torch.tensor(Y[:, t:t + 1])
        loss = loss + (-(y * F.log_softmax(s, dim=0)).sum() if head[0] == "softmax" else
                       F.binary_cross_entropy_with_logits(s, y, reduction="sum"))
    loss.backward()
    assert np.isfinite(float(J)) and abs(float(J) - loss.item()) < 1e-9
    for got, p in zip(grads, (W, U, b, V, c)):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-12, atol=1e-12)
