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
from sympy import Integer
from sympy.matrices.expressions import MatAdd

from derive import Network, backprop, export_numpy
from derive.cli.main import main
from derive.engine.ops import OPS, Shapes, makeop
from derive.engine.recurrent import RECURRENT_OPS
from derive.engine.vjp import OpError, check
from derive.errors import SpecError
from derive.ir.nodes import MatPartial
from derive.ir.quantities import GATES, KINDS, Q
from derive.ir.time_sum import TimeSum
from derive.spec.conv import refuse_unbuilt
from derive.spec.rnn import STEP, RNNNetwork

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None

SIZES = dict(inputs=2, hidden=3, outputs=2)
SHAPES = Shapes("none", False)   # the symbolic sizes the rows are proved at
RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def derived():
    """One derivation per (cell, readout, steps, output, loss), shared by the tests."""
    cache = {}

    def get(cell, readout="every", steps=3, output="identity", loss="mse", **sizes):
        key = (cell, readout, steps, output, loss, tuple(sorted(sizes.items())))
        if key not in cache:
            net = Network.rnn(cell, steps=steps, readout=readout, output=output, loss=loss,
                              **(sizes or SIZES))
            cache[key] = backprop(net)
        return cache[key]
    return get


# --- the certificate: every gradient entry against diff of the expanded loss ----------
#: each cell with each readout; the gated cells at T = 2 (their expanded loss grows fast:
#: 6-8 s each with the loss read out at every step)
CERTIFIED = [("tanh", "every", 4), ("tanh", "last", 3),
             pytest.param("lstm", "every", 2, marks=pytest.mark.slow), ("lstm", "last", 2),
             pytest.param("gru", "every", 2, marks=pytest.mark.slow), ("gru", "last", 2)]


@pytest.mark.parametrize("cell, readout, steps", CERTIFIED)
def test_certified_against_the_expanded_loss(derived, cell, readout, steps):
    d = derived(cell, readout, steps, inputs=1, hidden=2, outputs=1)
    cert = d.certify()
    assert cert.ok, cert
    assert cert.checked == sum(r * c for r, c in map(shape_of(d.net), d.net.parameters))


def shape_of(net):
    """kind -> its concrete shape in ``net`` (a shared weight's, at "layer" 1)."""
    sizes = net.size_values()
    return lambda kind: tuple(int(v.xreplace(sizes)) for v in Q(kind, 1).var(SHAPES).shape)


def test_a_wrong_cotangent_fails_the_certificate(derived):
    d = derived("tanh", "every", 3, inputs=1, hidden=2, outputs=1)
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


# --- the oracle: a NumPy forward of SPEC §1c ------------------------------------------
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


OUTPUTS = {"identity": lambda s: s, "sigmoid": sigmoid,
           "softmax": lambda s: np.exp(s - s.max()) / np.exp(s - s.max()).sum()}
LOSSES = {"mse": lambda p, y: 0.5 * ((p - y) ** 2).sum(),
          "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(),
          "cce": lambda p, y: -(y * np.log(p)).sum()}


def step(cell, P, x, h, c):
    """One step of SPEC §1c's cell: (h_t, c_t)."""
    def pre(g):
        return P["W_" + g] @ h + P["U_" + g] @ x + P["b_" + g]
    if cell == "tanh":
        return np.tanh(P["Wh"] @ h + P["Uh"] @ x + P["bh"]), c
    if cell == "lstm":
        i, f, o, g = sigmoid(pre("i")), sigmoid(pre("f")), sigmoid(pre("o")), np.tanh(pre("g"))
        c = f * c + i * g
        return o * np.tanh(c), c
    r, u = sigmoid(pre("r")), sigmoid(pre("u"))
    n = np.tanh(P["U_n"] @ x + P["b_n"] + r * (P["W_n"] @ h + P["c_n"]))
    return (1 - u) * n + u * h, c


def forward_loss(net, P, X, Y):
    """J of SPEC §1c: h_0 = c_0 = 0, the readout ŷ_t = σ_out(V h_t + c), the loss summed
    over t (``every``) or at t = T (``last``)."""
    h = np.zeros((net.hidden, 1))
    c = np.zeros((net.hidden, 1))
    J = 0.0
    for t in range(net.steps):
        h, c = step(net.cell, P, X[t], h, c)
        if net.readout == "every" or t == net.steps - 1:
            J += LOSSES[net.loss](OUTPUTS[net.output](P["V"] @ h + P["cy"]), Y[t])
    return J


def point(net, scale=0.6):
    """Random weights (every parameter kind at its shape), inputs and targets."""
    P = {k: RNG.uniform(-scale, scale, shape_of(net)(k)) for k in net.parameters}
    X = [RNG.uniform(-1, 1, (net.inputs, 1)) for _ in range(net.steps)]
    if net.loss == "mse":
        Y = [RNG.uniform(-1, 1, (net.outputs, 1)) for _ in range(net.steps)]
    else:   # a probability vector (cce) or probabilities (bce)
        Y = [RNG.dirichlet(np.ones(net.outputs)).reshape(-1, 1) for _ in range(net.steps)]
    return P, X, Y


def leaf_values(net, P, X, Y):
    """The leaves as `GraphDerivation.values` takes them: {(kind, layer): array}."""
    values = {(k, 1): v for k, v in P.items()}
    values.update({("xt", t + 1): X[t] for t in range(net.steps)})
    values.update({("yt", t + 1): Y[t] for t in range(net.steps)})
    values.update({(q.kind, 0): np.zeros((net.hidden, 1)) for q in net.initial_state()})
    return {key: v.tolist() for key, v in values.items()}


def as_arrays(env):
    return {key: np.array(M.tolist(), dtype=float) for key, M in env.items()}


def finite_differences(net, P, X, Y, eps=1e-6):
    out = {}
    for k, W in P.items():
        G = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            old = W[idx]
            W[idx] = old + eps
            up = forward_loss(net, P, X, Y)
            W[idx] = old - eps
            down = forward_loss(net, P, X, Y)
            W[idx] = old
            G[idx] = (up - down) / (2 * eps)
        out[k] = G
    return out


#: every cell with every readout, each with an output/loss pair (pairwise)
NUMERIC = [("tanh", "every", "identity", "mse"), ("tanh", "last", "softmax", "cce"),
           ("lstm", "every", "sigmoid", "bce"), ("lstm", "last", "identity", "mse"),
           ("gru", "every", "softmax", "cce"), ("gru", "last", "identity", "mse")]


@pytest.mark.parametrize("cell, readout, output, loss", NUMERIC)
def test_gradients_equal_finite_differences(derived, cell, readout, output, loss):
    d = derived(cell, readout, 3, output, loss)
    net = d.net
    P, X, Y = point(net)
    grads = as_arrays(d.gradients(leaf_values(net, P, X, Y)))
    numeric = finite_differences(net, P, X, Y)
    assert set(grads) == {(k, 1) for k in P}
    for k in P:
        assert np.allclose(grads[k, 1], numeric[k], rtol=1e-5, atol=1e-7), k


# --- the classic mistakes of backpropagation through time, against the oracle ---------
def test_the_shared_weights_gradient_is_a_sum_over_time(derived):
    """∂J/∂W = Σ_t δ_t h_{t-1}ᵀ: one term per step, equal to the finite differences,
    and the last-step shortcut δ_T h_{T-1}ᵀ is not."""
    d = derived("tanh", "every", 3)
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


def test_delta_t_carries_the_recurrent_term(derived):
    """δ_t = (Wᵀ δ_{t+1} + Vᵀ ∂J/∂s_t) ⊙ (1 − h_t ⊙ h_t) (the notes' recursion, typed in as an
    oracle); without Wᵀ δ_{t+1} it is wrong."""
    d = derived("tanh", "every", 3)
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


def test_the_lstm_cell_state_carries_a_second_path(derived):
    """∂J/∂c_t = ∂J/∂h_t ⊙ o_t ⊙ (1 − tanh²c_t) + f_{t+1} ⊙ ∂J/∂c_{t+1}; without the cell
    path f_{t+1} ⊙ ∂J/∂c_{t+1} it is wrong."""
    d = derived("lstm", "every", 3)
    net = d.net
    P, X, Y = point(net)
    env = as_arrays(d.values(leaf_values(net, P, X, Y)))
    for t in range(1, net.steps):
        through_h = env["dht", t] * env["go", t] * (1 - np.tanh(env["ct", t]) ** 2)
        full = through_h + env["gf", t + 1] * env["dct", t + 1]
        assert np.allclose(env["dct", t], full, atol=1e-12)
        assert not np.allclose(env["dct", t], through_h, atol=1e-6)


def test_the_gru_interpolation_is_its_own_step(derived):
    d = derived("gru", "last", 2)
    calls = [c.op for c in d.net.blocks[0]]
    assert "interpolate" in calls
    # h_1 is read by the gates r_2, u_2, by m_2 = W_n h_1 + c_n and by the interpolation:
    # its cotangent sums the four paths
    dh = d.cotangent(Q("ht", 1))
    assert isinstance(dh, MatAdd) and len(dh.args) == 4


# --- PyTorch's autograd with the same weights ------------------------------------------
def _torch_module(net, P):
    n_x, n_h = net.inputs, net.hidden
    kind = {"tanh": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[net.cell]
    module = kind(n_x, n_h).double()
    gates = ["h"] if net.cell == "tanh" else list(GATES[net.cell])
    if net.cell == "lstm":
        gates = ["i", "f", "g", "o"]          # PyTorch's order
    W = [P["Wh" if g == "h" else "W_" + g] for g in gates]
    U = [P["Uh" if g == "h" else "U_" + g] for g in gates]
    b = [P["bh" if g == "h" else "b_" + g] for g in gates]
    hidden_bias = [np.zeros((n_h, 1))] * len(gates)
    if net.cell == "gru":
        hidden_bias[2] = P["c_n"]
    with torch.no_grad():
        module.weight_hh_l0.copy_(torch.tensor(np.vstack(W)))
        module.weight_ih_l0.copy_(torch.tensor(np.vstack(U)))
        module.bias_ih_l0.copy_(torch.tensor(np.vstack(b)[:, 0]))
        module.bias_hh_l0.copy_(torch.tensor(np.vstack(hidden_bias)[:, 0]))
    return module, gates


def _torch_gradients(net, P, X, Y):
    module, gates = _torch_module(net, P)
    V = torch.tensor(P["V"], requires_grad=True)
    c = torch.tensor(P["cy"][:, 0], requires_grad=True)
    out, _ = module(torch.tensor(np.hstack(X).T))          # (T, n_h), h_0 = 0
    s = out @ V.T + c
    yhat = {"identity": lambda v: v, "sigmoid": torch.sigmoid,
            "softmax": lambda v: torch.softmax(v, dim=1)}[net.output](s)
    target = torch.tensor(np.hstack(Y).T)
    terms = {"mse": 0.5 * (yhat - target) ** 2, "cce": -target * torch.log(yhat),
             "bce": -(target * torch.log(yhat) + (1 - target) * torch.log(1 - yhat))}[net.loss]
    J = terms.sum() if net.readout == "every" else terms[-1].sum()
    J.backward()
    n_h = net.hidden
    out = {"V": V.grad.numpy(), "cy": c.grad.numpy()[:, None]}
    for m, (Wk, Uk, bk) in enumerate(("Wh", "Uh", "bh") if g == "h" else
                                     ("W_" + g, "U_" + g, "b_" + g) for g in gates):
        rows = slice(m * n_h, (m + 1) * n_h)
        out[Wk] = module.weight_hh_l0.grad[rows].numpy()
        out[Uk] = module.weight_ih_l0.grad[rows].numpy()
        out[bk] = module.bias_ih_l0.grad[rows].numpy()[:, None]
    if net.cell == "gru":
        out["c_n"] = module.bias_hh_l0.grad[2 * n_h:].numpy()[:, None]
    return out


@pytest.mark.parametrize("cell, readout, output, loss", NUMERIC)
def test_gradients_equal_torch_autograd(derived, cell, readout, output, loss):
    if torch is None:
        if os.environ.get("CI") == "true":
            pytest.fail("torch is not installed on CI")
        pytest.skip("torch is not installed")
    d = derived(cell, readout, 3, output, loss)
    net = d.net
    P, X, Y = point(net)
    grads = as_arrays(d.gradients(leaf_values(net, P, X, Y)))
    expected = _torch_gradients(net, P, X, Y)
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
def test_the_export_equals_the_derivation_and_finite_differences(derived, cell, readout,
                                                                 output, loss):
    d = derived(cell, readout, 3, output, loss)
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
    assert loops[1:] == ["for t in range(1, T + 1):", "for t in range(T, 0, -1):",
                         "for t in range(1, T + 1):"]      # the only loops are over the steps
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
