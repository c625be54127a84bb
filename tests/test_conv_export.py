"""The NumPy export of a convolutional network (a network of calls, SPEC §1c, §5): its
loss equals a NumPy forward written here from SPEC §1c, its gradients equal central
differences of that forward and PyTorch's autograd, its windows are whole-array code
(no Python loop), and bad arrays are refused in one line."""
import ast
import os

import numpy as np
import pytest
from export_cases import loss_differences
from pairwise import pairwise

from derive import Network, export, export_numpy
from derive.errors import SpecError

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None

NEEDS_TORCH = pytest.mark.skipif(torch is None and os.environ.get("CI") != "true",
                                 reason="no torch")

#: pooling × depth × activation × (output, loss): every pair of values at least once
HEADS = (("softmax", "cce"), ("sigmoid", "bce"), ("identity", "mse"))
CASES = pairwise([(None, "max", "avg"), ((2, 3), (1, 2, 2)), ("relu", "tanh"), HEADS])


def _net(pool, channels, activation, head):
    output, loss = head
    length = 11 if len(channels) > 2 else 7
    return Network.conv1d(channels=channels, kernel=3, activation=activation, pool=pool,
                          pool_size=2, length=length, head_widths=(3, 2), output=output,
                          loss=loss)


@pytest.fixture(scope="module")
def modules():
    return {case: export_numpy(_net(*case)) for case in CASES}


def _data(net, g, seed):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=shape) for shape in g.param_shapes]
    X = rng.normal(size=(net.channels[0], net.length))
    if net.loss == "cce":
        Y = rng.dirichlet(np.ones(2)).reshape(-1, 1)
    else:
        Y = rng.uniform(0.1, 0.9, size=(2, 1))
    return params, X, Y


# --- the oracle: SPEC §1c's forward, written with loops over positions ----------------
def _reference_loss(net, params, X, Y):
    names = [f"{kind}_{l}" for l in range(1, net.depth + 1) if l != net.convs + 1
             for kind in ("K" if l <= net.convs else "W", "b")]
    p = dict(zip(names, params))
    act = (lambda v: np.maximum(v, 0)) if net.activation == "relu" else np.tanh
    Z = X
    for l in range(1, net.convs + 1):
        K, b = p[f"K_{l}"], p[f"b_{l}"]
        n = Z.shape[1] - net.kernel + 1
        Z = act(np.array([[b[o, 0] + sum(K[o, c, j] * Z[c, t + j] for c in range(K.shape[1])
                                          for j in range(net.kernel)) for t in range(n)]
                          for o in range(K.shape[0])]))
        if net.pool:
            q = net.pool_size
            windows = [[Z[c, u * q:(u + 1) * q] for u in range(Z.shape[1] // q)]
                       for c in range(Z.shape[0])]
            Z = np.array([[max(w) if net.pool == "max" else sum(w) / q for w in row]
                          for row in windows])
    z = np.concatenate(list(Z)).reshape(-1, 1)          # channel by channel
    for l in range(net.convs + 2, net.depth + 1):
        h = p[f"W_{l}"] @ z + p[f"b_{l}"]
        z = act(h) if l < net.depth else {"softmax": lambda v: np.exp(v) / np.exp(v).sum(),
                                          "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
                                          "identity": lambda v: v}[net.output](h)
    if net.loss == "cce":
        return float(-(Y * np.log(z)).sum())
    if net.loss == "bce":
        return float(-(Y * np.log(z) + (1 - Y) * np.log(1 - z)).sum())
    return float(0.5 * ((z - Y) ** 2).sum())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_exported_loss_is_the_spec_forward_and_its_gradients_its_differences(
        modules, case):
    net, g = _net(*case), modules[case]
    params, X, Y = _data(net, g, seed=len(str(case)))
    J, grads = g.loss_and_gradients(params, X, Y)
    assert abs(float(J) - _reference_loss(net, params, X, Y)) < 1e-12
    assert float(g.loss(params, X, Y)) == float(J)
    fd = loss_differences(lambda ps: _reference_loss(net, ps, X, Y), params)
    assert [d.shape for d in grads] == [tuple(s) for s in g.param_shapes]
    for name, got, want in zip(g.param_names, grads, fd):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=name)
    for name, got, want in zip(g.param_names, g.gradients(params, X, Y), grads):
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_param_names_shapes_and_forward_are_pytorchs_layout():
    g = export_numpy(_net("max", (2, 3), "relu", HEADS[0]))
    assert g.param_names == ("K_1", "b_1", "W_3", "b_3", "W_4", "b_4")
    assert g.param_shapes == ((3, 2, 3), (3, 1), (3, 6), (3, 1), (2, 3), (2, 1))
    params, X, _ = _data(_net("max", (2, 3), "relu", HEADS[0]), g, seed=0)
    out = g.forward(params, X)
    assert list(out) == ["H_1", "A_1", "Z_1", "z_2", "h_3", "z_3", "h_4", "z_4"]
    assert out["z_2"].shape == (6, 1) and abs(out["z_4"].sum() - 1) < 1e-12


def test_init_params_and_a_train_step_that_lowers_the_loss(modules):
    case = CASES[0]
    net, g = _net(*case), modules[case]
    params = g.init_params(seed=0)
    assert [p.shape for p in params] == [tuple(s) for s in g.param_shapes]
    assert all(not p.any() for name, p in zip(g.param_names, params) if name.startswith("b_"))
    assert all(p.std() > 0 for name, p in zip(g.param_names, params) if name[0] in "KW")
    _, X, Y = _data(net, g, seed=2)
    step = g.train_step(params, X, Y, 1e-3)
    grads = g.gradients(params, X, Y)
    for p, d, new in zip(params, grads, step):
        np.testing.assert_allclose(new, p - 1e-3 * d, rtol=0, atol=0)
    assert g.loss(step, X, Y) < g.loss(params, X, Y)
    with pytest.raises(ValueError, match="lr must be a finite real number"):
        g.train_step(params, X, Y, float("nan"))


def test_the_generated_functions_have_no_python_loop(modules):
    """Windows are sliding_window_view and tensordot: no for, while or comprehension in
    forward, loss or the gradients."""
    for g in modules.values():
        tree = ast.parse(g.source)
        bodies = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in
                  ("forward", "loss", "loss_and_gradients", "gradients", "_first_max")]
        assert len(bodies) == 5
        loops = (ast.For, ast.While, ast.comprehension)
        assert not [n for f in bodies for n in ast.walk(f) if isinstance(n, loops)]
        assert "_windows(" in g.source


@NEEDS_TORCH
@pytest.mark.parametrize("pool", [None, "max", "avg"])
def test_the_exported_gradients_are_torch_autograd(modules, pool):
    case = next(c for c in CASES if c[0] == pool and len(c[1]) == 3)
    net, g = _net(*case), modules[case]
    params, X, Y = _data(net, g, seed=7)
    F = torch.nn.functional
    t = {name: torch.tensor(p, requires_grad=True) for name, p in zip(g.param_names, params)}
    act = F.relu if net.activation == "relu" else torch.tanh
    Z = torch.tensor(X)[None]
    for l in range(1, net.convs + 1):
        Z = act(F.conv1d(Z, t[f"K_{l}"], t[f"b_{l}"][:, 0]))
        if pool:
            Z = (F.max_pool1d if pool == "max" else F.avg_pool1d)(Z, net.pool_size)
    z = torch.flatten(Z[0])[:, None]
    for l in range(net.convs + 2, net.depth + 1):
        h = t[f"W_{l}"] @ z + t[f"b_{l}"]
        z = act(h) if l < net.depth else {"softmax": lambda v: torch.softmax(v, dim=0),
                                          "sigmoid": torch.sigmoid,
                                          "identity": lambda v: v}[net.output](h)
    y = torch.tensor(Y)
    J = {"cce": lambda: -(y * torch.log(z)).sum(),
         "bce": lambda: F.binary_cross_entropy(z, y, reduction="sum"),
         "mse": lambda: 0.5 * ((z - y) ** 2).sum()}[net.loss]()
    J.backward()
    ours, grads = g.loss_and_gradients(params, X, Y)
    assert abs(float(ours) - J.item()) < 1e-12
    for name, got in zip(g.param_names, grads):
        np.testing.assert_allclose(got, t[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@NEEDS_TORCH
@pytest.mark.parametrize("head", [("softmax", "cce"), ("sigmoid", "bce")])
def test_a_saturated_output_keeps_finite_gradients_as_torch(head):
    """Logits of ±800: softmax underflows to 0 and sigmoid rounds to 1 exactly, so ∂J/∂z
    alone would divide 0 by 0; the export prints the loss/activation cancellation and
    matches PyTorch's log-softmax / BCE-with-logits gradients."""
    net = Network.conv1d(channels=(1, 1), kernel=2, length=3, head_widths=(2,),
                         output=head[0], loss=head[1])
    g = export_numpy(net)
    assert "loss/activation cancellation" in g.source and "dJ_dz3 =" not in g.source
    params = [np.ones((1, 1, 2)), np.zeros((1, 1)), np.array([[200.0, 200], [-200, -200]]),
              np.zeros((2, 1))]
    X, Y = np.ones((1, 3)), np.array([[0.0], [1.0]])
    J, grads = g.loss_and_gradients(params, X, Y)
    t = [torch.tensor(p, requires_grad=True) for p in params]
    F = torch.nn.functional
    h = t[2] @ torch.flatten(F.relu(F.conv1d(torch.tensor(X)[None], t[0], t[1][:, 0]))[0])[
        :, None] + t[3]
    y = torch.tensor(Y)
    loss = -(y * F.log_softmax(h, dim=0)).sum() if head[0] == "softmax" else \
        F.binary_cross_entropy_with_logits(h, y, reduction="sum")
    loss.backward()
    assert np.isfinite(float(J)) and abs(float(J) - loss.item()) < 1e-9
    for got, p in zip(grads, t):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_wrong_arrays_and_targets_are_refused_in_one_line(modules):
    case = CASES[0]
    net, g = _net(*case), modules[case]
    params, X, Y = _data(net, g, seed=1)
    bad = [(params[:-1], X, Y, "params must be a list of"),
           ([params[0].reshape(params[0].shape[0], -1)] + params[1:], X, Y, "K_1 must be"),
           (params, X.T, Y, "X must be an array of shape"),
           (params, X, Y.astype(np.float32), "Y must be an array of shape"),
           (params, X.astype(int), Y, "X must be an array of shape")]
    for ps, x, y, message in bad:
        with pytest.raises(ValueError, match=message) as err:
            g.loss(ps, x, y)
        assert "\n" not in str(err.value)
    with pytest.raises(SpecError, match="^the torch export of conv1d is not built yet; target='numpy' is$"):
        export(net, target="torch")
