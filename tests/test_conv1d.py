"""A 1-D convolutional network (SPEC §1c `Network.conv1d`) derived end to end: certified
against the SymPy derivative of its expanded loss, its derived gradients equal to
central finite differences of a NumPy forward written here (and to PyTorch's autograd
when torch is installed), and bad arguments refused in one line."""
import os

import numpy as np
import pytest
from sympy import Indexed, Integer, KroneckerDelta

from derive import Network, backprop, render, verify
from derive.engine.graph import leaves
from derive.errors import SpecError
from derive.ir.nodes import MatPartial, Var
from derive.ir.quantities import Q
from derive.vocab import KERNEL, POOL

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None

#: pooling × one or two convolutions, at tiny sizes
CASES = [(pool, channels, length) for pool in (None, "max", "avg")
         for channels, length in (((1, 2), 5), ((1, 2, 2), 5 if pool is None else 8))]


def _net(pool, channels, length, activation="relu", head=(3, 2)):
    return Network.conv1d(channels=channels, kernel=2, activation=activation, pool=pool,
                          pool_size=2, length=length, head_widths=head)


@pytest.mark.parametrize("pool, channels, length", CASES)
def test_certified_against_the_expanded_loss(pool, channels, length):
    net = _net(pool, channels, length, head=(2,))   # the expanded loss grows fast
    cert = backprop(net).certify()
    assert cert.ok, cert
    assert cert.checked == sum(r * c for (kind, _), (r, c) in
                               leaves(net, backprop(net).sizes()).items()
                               if kind in ("K", "b", "W"))


@pytest.mark.parametrize("output, loss", [("identity", "mse"), ("sigmoid", "bce")])
def test_certified_with_other_heads(output, loss):
    net = Network.conv1d(channels=(1, 2), kernel=3, activation="tanh", pool="avg",
                         pool_size=2, length=6, head_widths=(2,), output=output, loss=loss)
    d = backprop(net)
    assert d.certify().ok
    assert d.delta(1) == d.cotangent(Q("hc", 1)) and d.delta(3) == d.cotangent(Q("h", 3))


def test_a_wrong_cotangent_fails_the_certificate():
    d = backprop(_net("max", (1, 2, 2), 8, head=(2,)))
    q = Q("zc", 1)
    d.cotangents[q] = 2 * d.cotangents[q]
    assert not d.certify().ok


# --- the oracle: a NumPy forward of SPEC §1c, differentiated by finite differences ---
def _forward(net, p, x, y):
    Z = x
    for l in range(1, net.convs + 1):
        K, b = p["K", l], p["b", l]
        n = Z.shape[1] - net.kernel + 1
        H = np.array([[b[o, 0] + sum(K[o, c, j] * Z[c, t + j] for c in range(K.shape[1])
                                     for j in range(net.kernel)) for t in range(n)]
                      for o in range(K.shape[0])])
        Z = np.maximum(H, 0) if net.activation == "relu" else np.tanh(H)
        if net.pool:
            q = net.pool_size
            windows = Z[:, :(Z.shape[1] // q) * q].reshape(Z.shape[0], -1, q)
            Z = windows.max(axis=2) if net.pool == "max" else windows.mean(axis=2)
    z = Z.reshape(-1, 1)                      # channel-major, as torch.flatten
    for l in range(net.convs + 2, net.depth + 1):
        h = p["W", l] @ z + p["b", l]
        if l < net.depth:
            z = np.maximum(h, 0) if net.activation == "relu" else np.tanh(h)
        else:
            z = np.exp(h - h.max()) / np.exp(h - h.max()).sum()
    return float(-(y * np.log(z)).sum())


def _values(net, seed):
    rng = np.random.default_rng(seed)
    shapes = leaves(net, backprop(net).sizes())
    params = {}
    for (kind, l), shape in shapes.items():
        if kind == "K":
            params[kind, l] = rng.normal(size=(net.channels[l], net.channels[l - 1], net.kernel))
        elif kind in ("W", "b"):
            params[kind, l] = rng.normal(size=shape)
    x = rng.normal(size=shapes["zc", 0])
    y = rng.dirichlet(np.ones(net.widths[-1])).reshape(-1, 1)
    return params, x, y


def _derived(net, params, x, y):
    values = {key: (v.reshape(v.shape[0], -1) if key[0] == "K" else v)
              for key, v in params.items()}
    values["zc", 0], values["y", net.depth] = x, y
    grads = backprop(net).gradients(values)
    return {key: np.array(g.tolist(), dtype=float).reshape(params[key].shape)
            for key, g in grads.items()}


@pytest.mark.parametrize("pool, channels, length", CASES)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_the_derived_gradients_are_finite_differences_of_a_numpy_forward(
        pool, channels, length, activation):
    net = _net(pool, channels, length, activation)
    params, x, y = _values(net, seed=len(channels) + length)
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


@pytest.mark.skipif(torch is None and os.environ.get("CI") != "true", reason="no torch")
@pytest.mark.parametrize("pool", [None, "max", "avg"])
def test_the_derived_gradients_are_torch_autograd(pool):
    net = _net(pool, (1, 2, 2), 8)
    params, x, y = _values(net, seed=3)
    derived = _derived(net, params, x, y)
    F = torch.nn.functional
    t = {key: torch.tensor(v, requires_grad=True) for key, v in params.items()}
    Z = torch.tensor(x)[None]
    for l in range(1, net.convs + 1):
        Z = F.relu(F.conv1d(Z, t["K", l], t["b", l][:, 0]))
        if pool:
            Z = (F.max_pool1d if pool == "max" else F.avg_pool1d)(Z, net.pool_size)
    z = torch.flatten(Z[0])[:, None]
    for l in range(net.convs + 2, net.depth + 1):
        h = t["W", l] @ z + t["b", l]
        z = F.relu(h) if l < net.depth else torch.softmax(h, dim=0)
    (-(torch.tensor(y) * torch.log(z)).sum()).backward()
    for key, tensor in t.items():
        np.testing.assert_allclose(derived[key], tensor.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(length=3), "length 3 is too short"),
    (dict(pool="min"), "pool must be one of None, 'max', 'avg'"),
    (dict(channels=(1,)), "channels must name the input channels"),
    (dict(channels={1, 2}), "channels must be a sequence"),
    (dict(kernel=0), "kernel must be an integer from 1"),
    (dict(activation="softmax"), "not elementwise"),
    (dict(output="tanh"), "loss cce needs an output in"),
])
def test_bad_arguments_are_refused_in_one_line(kwargs, message):
    with pytest.raises(SpecError, match=message) as err:
        Network.conv1d(**kwargs)
    assert "\n" not in str(err.value)


def test_what_is_not_built_for_conv1d_is_refused_in_one_line_not_crashed():
    """Documents and claims are not built for conv1d yet: each says so."""
    net = _net(None, (1, 2), 5, head=(2,))
    calls = {"documents": lambda: render(backprop(net)),
             "claims": lambda: verify(net, "dJ/dW_3", "dJ/dh_3 z_2^T")}
    for what, call in calls.items():
        with pytest.raises(SpecError, match=f"^{what} for conv1d are not built yet$"):
            call()


def _written(expr, env, sizes):
    """An index-form step's right side at concrete indices: every sum written out, every
    component read from ``env`` (a cotangent ∂J/∂v_l under ("d" + kind, l))."""
    def read(e):
        label = e.base.label
        var = label.wrt if isinstance(label, MatPartial) else label
        key = ("d" + var.kind if isinstance(label, MatPartial) else var.kind, int(var.layer))
        idx = [int(v) - 1 for v in e.indices]
        if var.kind == "K":      # a kernel's value is C_l × C_{l-1}κ
            return env[key][idx[0], idx[1] * sizes[KERNEL] + idx[2]]
        if var.kind == "S":      # a mask's value is C × N p
            return env[key][idx[0], idx[1] * sizes[POOL] + idx[2]]
        return env[key][idx[0], idx[1] if len(idx) > 1 else 0]
    return expr.xreplace(sizes).doit().replace(
        lambda e: isinstance(e, Indexed) and isinstance(e.base.label, (Var, MatPartial)), read)


@pytest.mark.parametrize("pool", [None, "max", "avg"])
def test_the_index_steps_are_the_computed_cotangents_entry_by_entry(pool):
    """Each windowed call's contracted index form (the shifted Kronecker deltas with their
    limits), written out at the network's sizes, equals the value of the matrix form
    (corr, flip, pad, scatter, …) the walk computes, at every entry."""
    net = _net(pool, (1, 2, 2), 5 if pool is None else 8, head=(2,))
    d = backprop(net)
    params, x, y = _values(net, seed=5)
    values = {key: (v.reshape(v.shape[0], -1) if key[0] == "K" else v)
              for key, v in params.items()}
    values["zc", 0], values["y", net.depth] = x, y
    env, sizes = d.values(values), d.sizes()
    contracted = [s for s in d.steps if s.form == "index" and s.rule == "Kronecker contraction"]
    assert {s.op for s in contracted} == {"conv1d", "flatten"} | ({f"{pool}_pool"} if pool else set())
    for step in contracted:
        assert not step.rhs.has(KroneckerDelta)
        var = step.lhs.wrt.base.label
        key = ("d" + var.kind, int(var.layer))
        rows, cols = env[key].shape
        shape = (rows, cols) if var.kind != "K" else (rows, cols // net.kernel, net.kernel)
        for idx in np.ndindex(*shape):
            point = dict(zip(step.lhs.wrt.indices, [Integer(v + 1) for v in idx]))
            want = env[key][idx[0], idx[1] * net.kernel + idx[2]] if var.kind == "K" else env[key][idx]
            got = _written(step.rhs.xreplace(point), env, sizes)
            assert abs(float(got) - float(want)) < 1e-20, (step.op, idx)
