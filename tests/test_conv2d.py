"""A 2-D convolutional network (SPEC §1c `Network.conv2d`) derived end to end: its op
rows' VJP claims proved (a wrong one refused), certified against the SymPy derivative of
its expanded loss at tiny sizes, its exported gradients equal to central differences of a
NumPy forward written here from SPEC §1c and to PyTorch's autograd, the CLI's --arch
conv2d, and bad arguments refused in one line."""
import os

import numpy as np
import pytest
from export_cases import loss_differences
from pairwise import pairwise
from sympy import Indexed, Integer

from derive import Network, backprop, export_numpy, render, verify
from derive.cli.main import main
from derive.engine.graph import leaves
from derive.engine.ops import OPS, Shapes, makeop
from derive.engine.vjp import OpError, check
from derive.errors import SpecError
from derive.ir.conv2d import Corr2, Flip2, comp
from derive.ir.nodes import MatPartial, Var
from derive.ir.quantities import IMAGE_DIMS

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None


def _net(pool, channels, size, activation="relu", head=("softmax", "cce"), kernel=2):
    return Network.conv2d(channels=channels, kernel=kernel, activation=activation, pool=pool,
                          pool_size=2, size=size, head_widths=(3, 2), output=head[0],
                          loss=head[1])


@pytest.mark.parametrize("pool, size, head", [
    (None, (3, 3), ("identity", "mse")),
    ("max", (5, 4), ("softmax", "cce")),
    ("avg", (4, 5), ("identity", "mse")),
])
def test_certified_against_the_expanded_loss(pool, size, head):
    net = Network.conv2d(channels=(1, 2), kernel=2, activation="tanh", pool=pool,
                         size=size, head_widths=(2,), output=head[0], loss=head[1])
    cert = backprop(net).certify()
    assert cert.ok, cert
    kernel, bias = 2 * 1 * 2 * 2, 2
    assert cert.checked == kernel + bias + 2 * net.widths[2] + 2


def test_an_unflipped_kernel_is_refused_by_the_rows_proof():
    """(tests/test_ops.py re-proves the rows' own claims; here a wrong one is refused.)"""
    sh = Shapes("explicit", False)
    row, right = OPS["conv2d"], OPS["conv2d"].vjps["x"]

    def unflipped(b, G):      # the right claim with Swap2 for Flip2: the classic mistake
        claim = right(b, G)
        X, flipped, taps, cols = claim.args
        return Corr2(X, Swap2(*flipped.args), taps, cols)

    wrong = makeop("conv2d_unflipped", row.output, row.inputs, row.index, row.matrix,
                   row.ports, batched=False, K=row.vjps["K"], b=row.vjps["b"], x=unflipped)
    with pytest.raises(OpError, match="claimed VJP for its input 'x' does not match"):
        check(wrong, sh)


class Swap2(Flip2):
    """The kernel's channel axes swapped but its taps NOT reversed."""

    def component(self, row, col, u, v):
        return comp(self.args[0], col, row, u, v)


# --- the oracle: SPEC §1c's forward with loops over positions ------------------------
def _reference_loss(net, names, params, X, Y):
    p = dict(zip(names, params))
    act = (lambda v: np.maximum(v, 0)) if net.activation == "relu" else np.tanh
    Z, k, q = X, net.kernel, net.pool_size
    for l in range(1, net.convs + 1):
        K, b = p[f"K_{l}"], p[f"b_{l}"]
        rows, cols = Z.shape[1] - k + 1, Z.shape[2] - k + 1
        H = np.zeros((K.shape[0], rows, cols))
        for o in range(K.shape[0]):
            for y in range(rows):
                for x in range(cols):
                    H[o, y, x] = b[o, 0] + sum(K[o, c, u, v] * Z[c, y + u, x + v]
                                               for c in range(K.shape[1])
                                               for u in range(k) for v in range(k))
        Z = act(H)
        if net.pool:
            pick = max if net.pool == "max" else (lambda w: sum(w) / len(w))
            Z = np.array([[[pick([Z[c, u * q + i, v * q + j] for i in range(q)
                                  for j in range(q)])
                            for v in range(Z.shape[2] // q)] for u in range(Z.shape[1] // q)]
                          for c in range(Z.shape[0])])
    z = Z.reshape(-1, 1)                      # torch.flatten of (C, H, W)
    for l in range(net.convs + 2, net.depth + 1):
        h = p[f"W_{l}"] @ z + p[f"b_{l}"]
        z = act(h) if l < net.depth else (np.exp(h) / np.exp(h).sum() if
                                          net.output == "softmax" else h)
    if net.loss == "cce":
        return float(-(Y * np.log(z)).sum())
    return float(0.5 * ((z - Y) ** 2).sum())


CASES = pairwise([(None, "max", "avg"), ((1, 2), (2, 2, 2)), ("relu", "tanh"),
                  (("softmax", "cce"), ("identity", "mse"))])


def _size(pool, channels):
    return {(None, 2): (4, 5), (None, 3): (5, 4)}.get((pool, len(channels)),
                                                      (6, 7) if len(channels) == 2 else (9, 8))


@pytest.fixture(scope="module")
def modules():
    return {case: export_numpy(_net(case[0], case[1], _size(*case[:2]), case[2], case[3]))
            for case in CASES}


def _data(net, g, seed):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=shape) for shape in g.param_shapes]
    X = rng.normal(size=(net.channels[0], *net.size))
    Y = rng.dirichlet(np.ones(2)).reshape(-1, 1)
    return params, X, Y


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_exported_gradients_are_differences_of_the_spec_forward(modules, case):
    g = modules[case]
    net = _net(case[0], case[1], _size(*case[:2]), case[2], case[3])
    params, X, Y = _data(net, g, seed=len(str(case)))
    J, grads = g.loss_and_gradients(params, X, Y)
    assert abs(float(J) - _reference_loss(net, g.param_names, params, X, Y)) < 1e-12
    fd = loss_differences(lambda ps: _reference_loss(net, g.param_names, ps, X, Y), params)
    for name, got, want in zip(g.param_names, grads, fd):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.skipif(torch is None and os.environ.get("CI") != "true", reason="no torch")
@pytest.mark.parametrize("pool", [None, "max", "avg"])
def test_the_exported_gradients_are_torch_autograd(pool):
    net = _net(pool, (2, 3, 2), (5, 6) if pool is None else (10, 11), "tanh")
    g = export_numpy(net)
    assert g.param_shapes[0] == (3, 2, 2, 2)
    params, X, Y = _data(net, g, seed=11)
    F = torch.nn.functional
    t = {name: torch.tensor(p, requires_grad=True) for name, p in zip(g.param_names, params)}
    Z = torch.tensor(X)[None]
    for l in range(1, net.convs + 1):
        Z = torch.tanh(F.conv2d(Z, t[f"K_{l}"], t[f"b_{l}"][:, 0]))
        if pool:
            Z = (F.max_pool2d if pool == "max" else F.avg_pool2d)(Z, net.pool_size)
    z = torch.flatten(Z[0])[:, None]
    for l in range(net.convs + 2, net.depth + 1):
        h = t[f"W_{l}"] @ z + t[f"b_{l}"]
        z = torch.tanh(h) if l < net.depth else torch.softmax(h, dim=0)
    J = -(torch.tensor(Y) * torch.log(z)).sum()
    J.backward()
    ours, grads = g.loss_and_gradients(params, X, Y)
    assert abs(float(ours) - J.item()) < 1e-12
    for name, got in zip(g.param_names, grads):
        np.testing.assert_allclose(got, t[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_max_pooling_routes_a_tie_to_the_first_maximum_as_pytorch():
    net = _net("max", (1, 1), (3, 3), "relu", ("identity", "mse"))
    g = export_numpy(net)
    params = [np.ones((1, 1, 2, 2)), np.zeros((1, 1)), np.ones((3, 1)), np.zeros((3, 1)),
              np.ones((2, 3)), np.zeros((2, 1))]
    X = np.ones((1, 3, 3))                    # every window's entries tie
    _, grads = g.loss_and_gradients(params, X, np.zeros((2, 1)))
    t = [torch.tensor(p, requires_grad=True) for p in params] if torch else None
    if t is not None:
        F = torch.nn.functional
        Z = F.max_pool2d(F.relu(F.conv2d(torch.tensor(X)[None], t[0], t[1][:, 0])), 2)
        z = torch.relu(t[2] @ torch.flatten(Z[0])[:, None] + t[3])
        (0.5 * ((t[4] @ z + t[5]) ** 2).sum()).backward()
        np.testing.assert_allclose(grads[0], t[0].grad.numpy(), rtol=1e-12)
    assert grads[0].ravel().tolist() == [grads[0][0, 0, 0, 0]] * 4   # one cell, each tap


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=(2, 2), kernel=2), "is too small for 1 convolutions of kernel 2"),
    (dict(kernel=(3, 2)), "kernel must be square"),
    (dict(size=(8, 8, 8)), "size must be an integer or a pair"),
    (dict(pool="min"), "pool must be one of None, 'max', 'avg'"),
    (dict(channels=(1,)), "channels must name the input channels"),
    (dict(activation="softmax"), "not elementwise"),
])
def test_bad_arguments_are_refused_in_one_line(kwargs, message):
    with pytest.raises(SpecError, match=message) as err:
        Network.conv2d(**kwargs)
    assert "\n" not in str(err.value)


def test_the_cli_exports_conv2d(tmp_path, capsys):
    path = tmp_path / "grads.py"
    argv = ["export", "--arch", "conv2d", "--channels", "1,2", "--kernel", "3", "--size",
            "6,7", "--pool", "avg", "--head-widths", "4,2", "--loss", "cce", "-o", str(path)]
    assert main(argv) == 0
    assert "conv2d; channels 1, 2; kernel 3; size 6×7; relu; avg pool 2" in \
        capsys.readouterr().out
    assert "param_shapes = ((2, 1, 3, 3), (2, 1), (4, 8), (4, 1), (2, 4), (2, 1))" in \
        path.read_text()
    assert main(argv[:-2] + ["--length", "5", "-o", str(tmp_path / "other.py")]) == 2
    assert "--length is an option of --arch conv1d, not of --arch conv2d" in \
        capsys.readouterr().err


def test_what_is_not_built_for_conv2d_is_refused_in_one_line(capsys):
    net = _net("max", (1, 2), (5, 4))
    calls = {"documents": lambda: render(backprop(net)),
             "claims": lambda: verify(net, "dJ/dW_3", "dJ/dh_3 z_2^T")}
    for what, call in calls.items():
        with pytest.raises(SpecError, match=f"^{what} for conv2d are not built yet$"):
            call()
    assert main(["notes", "--arch", "conv2d", "--channels", "1,2", "--size", "5,4",
                 "--kernel", "2", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "∂J/∂K_1 = corr(Z_0, ∂J/∂H_1)" in out and "scatter(∂J/∂Z_1, S_1)" in out


def _entry(net, sizes, kind, layer, idx):
    """The matrix entry (row, column) that a component read with ``idx`` (0-based) is."""
    if kind == "K2":
        o, c, u, v = idx
        return o, (c * net.kernel + u) * net.kernel + v
    if kind == "Si":
        rows, cols = net.images[layer]
        c, u, v, i, j = idx
        return c, ((u * cols + v) * net.pool_size + i) * net.pool_size + j
    if len(idx) == 3:
        cols = int(IMAGE_DIMS[kind](_Concrete(net), layer)[1])
        return idx[0], idx[1] * cols + idx[2]
    return idx[0], idx[1] if len(idx) > 1 else 0


class _Concrete:
    """The network's concrete sizes, as the quantity table reads them."""

    def __init__(self, net):
        self.net, self.kernel, self.pool = net, net.kernel, net.pool_size

    def length(self, layer):
        return self.net.images[int(layer)][0]

    def columns(self, layer):
        return self.net.images[int(layer)][1]


@pytest.mark.parametrize("pool", [None, "max", "avg"])
def test_the_index_steps_are_the_computed_cotangents_entry_by_entry(pool):
    """Each windowed call's contracted index form (the shifted Kronecker deltas with their
    limits), written out at the network's sizes, equals the value of the matrix form the
    walk computes, at every entry."""
    net = Network.conv2d(channels=(1, 2), kernel=2, pool=pool, size=(5, 4),
                         head_widths=(2,), activation="tanh")
    d, sizes = backprop(net), net.size_values()
    rng = np.random.default_rng(3)
    values = {key: rng.normal(size=shape) for key, shape in leaves(net, sizes).items()}
    env = d.values(values)

    def read(e):
        label = e.base.label
        var = label.wrt if isinstance(label, MatPartial) else label
        key = ("d" + var.kind if isinstance(label, MatPartial) else var.kind, int(var.layer))
        return env[key][_entry(net, sizes, var.kind, int(var.layer),
                               [int(v) - 1 for v in e.indices])]

    contracted = [s for s in d.steps if s.form == "index" and s.rule == "Kronecker contraction"]
    assert {s.op for s in contracted} == {"conv2d", "flatten2d"} | ({f"{pool}_pool2d"}
                                                                    if pool else set())
    for step in contracted:
        var = step.lhs.wrt.base.label
        key = ("d" + var.kind, int(var.layer))
        shape = {"K2": (2, 1, 2, 2)}.get(var.kind) or \
            (env[key].shape[0], *_image(net, var))
        for idx in np.ndindex(*shape):
            point = dict(zip(step.lhs.wrt.indices, [Integer(v + 1) for v in idx]))
            got = step.rhs.xreplace(point).xreplace(sizes).doit().replace(
                lambda e: isinstance(e, Indexed) and isinstance(e.base.label, (Var, MatPartial)),
                read)
            want = env[key][_entry(net, sizes, var.kind, int(var.layer), list(idx))]
            assert abs(float(got) - float(want)) < 1e-20, (step.op, idx)


def _image(net, var):
    return tuple(int(v) for v in IMAGE_DIMS[var.kind](_Concrete(net), int(var.layer)))
