"""Self-attention and the pre-norm transformer block (SPEC §1c `Network.transformer`)
derived end to end on the generic engine: certified against SymPy's derivative of the
expanded loss, its derived gradients equal to central finite differences of a NumPy
forward written here from SPEC §1c and to PyTorch's autograd of the same block, the key
bias's zero gradient derived (not asserted), wrong softmax claims refused by the row
check, bad arguments refused in one line."""
import importlib.util
import os

import numpy as np
import pytest
from pairwise import pairwise
from sympy import Matrix, OneMatrix, Transpose, sqrt, symbols
from sympy.matrices.expressions import HadamardProduct

from derive import Network, backprop, export_numpy, render, verify
from derive.calculus.evaluate import evaluate
from derive.cli.main import main
from derive.engine.attention import softmax_vjp
from derive.engine.graph import leaves
from derive.engine.ops import OPS, Shapes, makeop
from derive.engine.vjp import OpError, check
from derive.errors import SpecError
from derive.ir.nodes import MatPartial, Var
from derive.ir.quantities import Q
from derive.vocab import LOSS, TOKENS

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None and os.environ.get("CI") != "true",
                                 reason="no torch")
#: the smallest sizes whose layer norm is not degenerate (with d = 2 every normalized
#: token is ±(1, −1), two tokens often equal, and the scores' gradient vanishes)
TINY = dict(width=3, tokens=2, key_width=1, mlp_width=1, outputs=1)
#: heads × causal, one block (20-25 s each; a two-block certificate expands the loss through
#: two layer norms and softmaxes per entry and did not finish in 15 minutes: two blocks are
#: checked against finite differences and torch autograd below)
CERTIFY = [(1, False, 1), (2, True, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("heads, causal, blocks", CERTIFY)
def test_certified_against_the_expanded_loss(heads, causal, blocks):
    net = Network.transformer(blocks=blocks, heads=heads, causal=causal, **TINY)
    d = backprop(net)
    cert = d.certify()
    assert cert.ok, cert
    assert cert.checked == sum(r * c for (kind, _), (r, c) in leaves(net, d.sizes()).items()
                               if Q(kind, 1).row.trained)


@pytest.mark.slow
def test_a_wrong_cotangent_fails_the_certificate():
    d = backprop(Network.transformer(**TINY))
    q = Q("Sa", 1)
    d.cotangents[q] = 2 * d.cotangents[q]
    assert not d.certify().ok


# --- the row check refuses the classic mistakes ------------------------------------
def _row_with(name, port, claim):
    op = OPS[name]
    return makeop(op.name, op.output, op.inputs, op.index, op.matrix, op.ports,
                  batched=False, **dict(op.vjps, **{port: claim}))


def _elementwise(b, G):          # softmax treated as elementwise: a ⊙ (1 − a) ⊙ g
    A = b["y"]
    return HadamardProduct(A, OneMatrix(*A.shape) - A, G)


MISTAKES = [
    ("column_softmax", "x", _elementwise),
    ("causal_softmax", "x", _elementwise),
    ("scores", "q", lambda b, G: b["k"] * G),                       # √d_k dropped
    ("scores", "k", lambda b, G: b["q"] * Transpose(G) / sqrt(b["k"].shape[0]) * 2),
    ("attend", "v", lambda b, G: G * b["a"]),                       # A for Aᵀ
    ("token_add", "skip", lambda b, G: 0 * G),                      # a forgotten residual path
]


@pytest.mark.parametrize("name, port, claim", MISTAKES)
def test_the_row_check_refuses_a_classic_mistake(name, port, claim):
    with pytest.raises(OpError, match=f"op {name!r}: the claimed VJP for its input {port!r}"):
        check(_row_with(name, port, claim), Shapes("explicit", False))


# --- the key bias: derived to get no gradient -----------------------------------------
def test_the_softmax_vjp_has_zero_column_sums():
    """𝟏ᵀ (A ⊙ (G − 𝟏(𝟏ᵀ(A ⊙ G)))) = 0 for a column-stochastic A: evaluated on symbols."""
    T = 3
    S = Matrix(T, T, symbols(f"s:{T * T}"))
    G = Matrix(T, T, symbols(f"g:{T * T}"))
    for causal in (False, True):
        A = evaluate(OPS[("causal_" if causal else "column_") + "softmax"].matrix(
            OPS["column_softmax"].bind(Shapes("explicit", False), 1)).xreplace({TOKENS: T}),
            {("Sa", 1): S})
        dS = evaluate(softmax_vjp(_bound(), Var("G", 1, TOKENS, TOKENS)).xreplace({TOKENS: T}),
                      {("Aa", 1): A, ("G", 1): G})
        sums = (Matrix.ones(1, T) * dS).applyfunc(lambda e: e.simplify())
        assert sums == Matrix.zeros(1, T)


def _bound():
    return OPS["column_softmax"].bind(Shapes("explicit", False), 1)


@pytest.mark.parametrize("causal", [False, True])
def test_the_key_bias_gets_zero_gradient(causal):
    """The derived dJ/db_K is (dJ/dK) 𝟏 = Q (dJ/dS)ᵀ 𝟏/√d_k: zero at every point, because
    the softmax's VJP has zero column sums; the query bias's is not."""
    net = Network.transformer(heads=2, causal=causal, width=4, tokens=3)
    d = backprop(net)
    assert d.grad("b_K", 1) == MatPartial(LOSS, Q("Ka", 1).var(Shapes("explicit", False))) \
        * OneMatrix(TOKENS, 1)
    params, x, y = _values(net, seed=1)
    grads = _derived(net, params, x, y)
    for u in (1, 2):
        np.testing.assert_allclose(grads["b_K", u], 0, atol=1e-25)
        assert np.abs(grads["b_Q", u]).max() > 1e-6


# --- the oracle: a NumPy forward of SPEC §1c, differentiated by finite differences ---
ACT = {"relu": lambda h: np.maximum(h, 0), "tanh": np.tanh, "identity": lambda h: h,
       "sigmoid": lambda h: 1 / (1 + np.exp(-h)),
       "softmax": lambda h: np.exp(h - h.max(0)) / np.exp(h - h.max(0)).sum(0)}
LOSS_OF = {"mse": lambda yh, y: 0.5 * ((yh - y) ** 2).sum(0),
           "cce": lambda yh, y: -(y * np.log(yh)).sum(0),
           "bce": lambda yh, y: -(y * np.log(yh) + (1 - y) * np.log(1 - yh)).sum(0)}


def _norm(Z, gamma, beta, eps=1e-5):
    """Layer norm of each token (column) over its features, biased variance."""
    return gamma * (Z - Z.mean(0)) / np.sqrt(Z.var(0) + eps) + beta


def _softmax_columns(S, causal):
    if causal:   # key t after query s: −∞
        S = np.where(np.tril(np.ones(S.shape, bool), -1), -np.inf, S)
    E = np.exp(S - S.max(0))
    return E / E.sum(0)


def _attention(net, p, X, l):
    d_k, O = net.sizes()[1], 0
    for h in range(1, net.heads + 1):
        u = net.head_slot(l, h)
        Qm, K, V = (p["W_" + n, u] @ X + p.get(("b_" + n, u), 0) for n in "QKV")
        A = _softmax_columns(K.T @ Qm / np.sqrt(d_k), net.causal)
        O = O + p["W_O", u] @ (V @ A)
    return O + p.get(("b_O", l), 0)


def _forward(net, p, X, Y):
    Z = X
    for l in range(1, net.blocks_count + 1):
        U = Z + _attention(net, p, _norm(Z, p["gamma_1", l], p["beta_1", l]), l)
        hidden = ACT[net.mlp_activation](p["W_1", l] @ _norm(U, p["gamma_2", l], p["beta_2", l])
                                         + p.get(("b_1", l), 0))
        Z = U + p["W_2", l] @ hidden + p.get(("b_2", l), 0)
    L = net.depth
    Yh = ACT[net.head](p["W_y", L] @ Z + p.get(("b_y", L), 0))
    return float(LOSS_OF[net.loss](Yh, Y).mean())


def _values(net, seed):
    rng = np.random.default_rng(seed)
    shapes = leaves(net, backprop(net).sizes())
    params = {key: rng.normal(size=shape) * (0.7 if key[0].startswith("W") else 0.3)
              + (1.0 if key[0].startswith("gamma") else 0.0)
              for key, shape in shapes.items() if Q(*key).row.trained}
    x = rng.normal(size=shapes["Zt", 0])
    shape = shapes["Yt", net.depth]
    y = {"cce": lambda: rng.dirichlet(np.ones(shape[0]), shape[1]).T,
         "bce": lambda: rng.uniform(0.1, 0.9, shape)}.get(net.loss, lambda: rng.normal(size=shape))()
    return params, x, y


def _derived(net, params, x, y):
    values = dict(params)
    values["Zt", 0], values["Yt", net.depth] = x, y
    grads = backprop(net).gradients(values)
    return {key: np.array(g.tolist(), dtype=float) for key, g in grads.items()}


#: heads × causal × blocks × (head, loss) × MLP activation × bias, pairwise
FD_CASES = pairwise([(1, 2), (False, True), (1, 2), (("identity", "mse"), ("softmax", "cce")),
                     ("relu", "tanh"), ("explicit", "none")])


def _fd_net(heads, causal, blocks, head_loss, activation, bias):
    return Network.transformer(blocks=blocks, heads=heads, causal=causal, width=4, tokens=3,
                               mlp_width=5, outputs=3, mlp_activation=activation,
                               head=head_loss[0], loss=head_loss[1], bias=bias)


@pytest.mark.parametrize("case", FD_CASES, ids=str)
def test_the_derived_gradients_are_finite_differences_of_a_numpy_forward(case):
    net = _fd_net(*case)
    params, x, y = _values(net, seed=FD_CASES.index(case))
    derived = _derived(net, params, x, y)
    assert set(derived) == set(params)
    eps = 1e-6
    for key, value in params.items():
        fd = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up, down = {**params, key: value.copy()}, {**params, key: value.copy()}
            up[key][idx] += eps
            down[key][idx] -= eps
            fd[idx] = (_forward(net, up, x, y) - _forward(net, down, x, y)) / (2 * eps)
        np.testing.assert_allclose(derived[key], fd, rtol=1e-5, atol=1e-7, err_msg=str(key))


# --- PyTorch's autograd of the same block -----------------------------------------
def _torch_loss(net, t, X, Y):
    """SPEC §1c in PyTorch (rows are tokens there): nn.functional's layer_norm, its
    scaled_dot_product_attention with the causal flag, the MLP and the head."""
    F = torch.nn.functional
    d = net.sizes()[0]
    Z = torch.tensor(X).T                                      # T × d
    act = {"relu": F.relu, "tanh": torch.tanh}[net.mlp_activation]
    for l in range(1, net.blocks_count + 1):
        N = F.layer_norm(Z, (d,), t["gamma_1", l][:, 0], t["beta_1", l][:, 0], eps=1e-5)
        heads = []
        for h in range(1, net.heads + 1):
            u = net.head_slot(l, h)
            Qm, K, V = (N @ t["W_" + n, u].T + t["b_" + n, u][:, 0] for n in "QKV")
            heads.append(F.scaled_dot_product_attention(Qm[None], K[None], V[None],
                                                        is_causal=net.causal)[0])
        W_O = torch.cat([t["W_O", net.head_slot(l, h)] for h in range(1, net.heads + 1)], 1)
        U = Z + torch.cat(heads, 1) @ W_O.T + t["b_O", l][:, 0]
        N = F.layer_norm(U, (d,), t["gamma_2", l][:, 0], t["beta_2", l][:, 0], eps=1e-5)
        Z = U + act(N @ t["W_1", l].T + t["b_1", l][:, 0]) @ t["W_2", l].T + t["b_2", l][:, 0]
    L = net.depth
    H = Z @ t["W_y", L].T + t["b_y", L][:, 0]
    if net.loss == "cce":
        return -(torch.tensor(Y).T * torch.log_softmax(H, 1)).sum(1).mean()
    return 0.5 * ((H - torch.tensor(Y).T) ** 2).sum(1).mean()


@needs_torch
@pytest.mark.parametrize("heads, causal, blocks, loss", [(1, True, 1, "mse"), (2, False, 2, "cce"),
                                                          (2, True, 1, "cce")])
def test_the_derived_gradients_are_torch_autograd(heads, causal, blocks, loss):
    net = Network.transformer(blocks=blocks, heads=heads, causal=causal, width=4, tokens=3,
                              mlp_width=5, outputs=3, loss=loss,
                              head="softmax" if loss == "cce" else "identity")
    params, x, y = _values(net, seed=7)
    derived = _derived(net, params, x, y)
    t = {key: torch.tensor(v, requires_grad=True) for key, v in params.items()}
    _torch_loss(net, t, x, y).backward()
    for key, tensor in t.items():
        np.testing.assert_allclose(derived[key], tensor.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=str(key))


# --- bad arguments, and what is not built -------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(blocks=0), "blocks must be an integer from 1 to 64"),
    (dict(heads=True), "heads must be an integer"),
    (dict(width=3, heads=2), "width 3 is not divisible by heads 2"),
    (dict(width="e"), r"width \(an integer or 'd'\) must be an integer from 1"),
    (dict(tokens=0), r"tokens \(an integer or 'T'\) must be an integer from 1"),
    (dict(causal="yes"), "causal must be True or False"),
    (dict(mlp_activation="softmax"), "not elementwise"),
    (dict(head="tanh", loss="cce"), "loss cce needs an output in"),
    (dict(bias="augmented"), "bias must be one of explicit, none"),
    (dict(mlp_activation="nope"), "unknown activation"),
])
def test_bad_arguments_are_refused_in_one_line(kwargs, message):
    with pytest.raises(SpecError, match=message) as err:
        Network.transformer(**kwargs)
    assert "\n" not in str(err.value)


def test_what_is_not_built_for_a_transformer_is_refused_in_one_line():
    net = Network.transformer(**TINY)
    with pytest.raises(SpecError, match="^claims for transformer are not built yet$"):
        verify(net, "dJ/dW_Q_1", "dJ/dQ_1 X_1^T")


def test_a_transformer_renders_as_notes_of_its_calls():
    """The generic notes of a network of calls (documents/graph_notes.py): at least one
    ∂J/∂· display per cotangent the walker names, in both formats."""
    d = backprop(Network.transformer(**TINY))
    for fmt in ("markdown", "latex"):
        assert render(d, fmt).count("\\partial J") >= len(d.cotangents), fmt


# --- the NumPy export ---------------------------------------------------------------
def _exported(net, params, x, y, dtype=np.float64):
    g = export_numpy(net)
    keys = [tuple(name.rsplit("_", 1)) for name in g.param_names]
    arrays = [params[kind, int(layer)].astype(dtype) for kind, layer in keys]
    J, grads = g.loss_and_gradients(arrays, x.astype(dtype), y.astype(dtype))
    return g, J, {(kind, int(layer)): grad for (kind, layer), grad in zip(keys, grads)}


@needs_torch
@pytest.mark.parametrize("heads, causal, blocks, loss", [(1, True, 2, "mse"), (2, False, 1, "cce"),
                                                          (2, True, 2, "cce")])
def test_the_exported_gradients_are_torch_autograd(heads, causal, blocks, loss):
    net = Network.transformer(blocks=blocks, heads=heads, causal=causal, width=4, tokens=3,
                              mlp_width=5, outputs=3, loss=loss,
                              head="softmax" if loss == "cce" else "identity")
    params, x, y = _values(net, seed=11)
    g, J, grads = _exported(net, params, x, y)
    assert g.param_shapes == tuple(params[key].shape for key in grads)
    t = {key: torch.tensor(v, requires_grad=True) for key, v in params.items()}
    loss_value = _torch_loss(net, t, x, y)
    loss_value.backward()
    assert J == pytest.approx(float(loss_value.detach()), rel=1e-12)
    for key, tensor in t.items():
        np.testing.assert_allclose(grads[key], tensor.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=str(key))


def test_the_export_keeps_float32_and_the_causal_mask_makes_no_nan():
    """Scores of ±hundreds: the max-shifted softmax stays finite, the masked weights are
    exactly 0, and float32 in gives float32 out."""
    net = Network.transformer(heads=2, causal=True, width=4, tokens=3, mlp_width=5, outputs=3,
                              head="softmax", loss="cce")
    params, x, y = _values(net, seed=2)
    params = {key: v * 30 if key[0] in ("W_Q", "W_K") else v for key, v in params.items()}
    g, J, grads = _exported(net, params, x, y, np.float32)
    assert isinstance(J, np.float32) and {v.dtype for v in grads.values()} == {np.dtype("float32")}
    assert all(np.isfinite(v).all() for v in grads.values()) and np.isfinite(J)
    keys = [(name.rsplit("_", 1)[0], int(name.rsplit("_", 1)[1])) for name in g.param_names]
    A = g.forward([params[key].astype(np.float32) for key in keys], x.astype(np.float32))["A_1"]
    assert np.abs(A).max() > 0.999 and (A[np.tril_indices(3, -1)] == 0).all()
    np.testing.assert_allclose(A.sum(0), 1, rtol=1e-6)


# --- the command line: --arch transformer --------------------------------------------
def test_the_cli_exports_the_transformer_its_options_name(tmp_path, capsys):
    path = tmp_path / "attention.py"
    assert main(["export", "--arch", "transformer", "--blocks", "2", "--heads", "2", "--causal",
                 "--mlp-activation", "tanh", "--width", "4", "--tokens", "3", "--loss", "mse",
                 "-o", str(path)]) == 0
    assert "2 block(s), 2 head(s), causal" in capsys.readouterr().out
    spec = importlib.util.spec_from_file_location("exported_attention", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = Network.transformer(blocks=2, heads=2, causal=True, mlp_activation="tanh", width=4,
                              tokens=3)
    params, x, y = _values(net, seed=4)
    _, J, grads = _exported(net, params, x, y)
    keys = [(name.rsplit("_", 1)[0], int(name.rsplit("_", 1)[1])) for name in module.param_names]
    J2, grads2 = module.loss_and_gradients([params[key] for key in keys], x, y)
    assert J == J2 and all(np.array_equal(grads[key], g) for key, g in zip(keys, grads2))


@pytest.mark.parametrize("argv, message", [
    (["--channels", "1,2"], "--channels is an option of --arch conv1d|conv2d, not of --arch transformer"),
    (["--heads", "x"], "--heads must be"),
    ([], "the NumPy export needs concrete sizes"),
])
def test_the_cli_refuses_a_bad_transformer_option_in_one_line(tmp_path, capsys, argv, message):
    assert main(["export", "--arch", "transformer", "--loss", "mse", *argv, "-o",
                 str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
