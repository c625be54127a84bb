"""The 1-D convolution's op rows (SPEC §1c): each claimed VJP checked by the engine (the
record itself is held by tests/test_ops.py), a wrong claim refused, the shifted
Kronecker contraction with its limits, and the claim nodes evaluated at concrete sizes
against PyTorch's autograd of torch.nn.functional.conv1d / max_pool1d / avg_pool1d."""
import os
from dataclasses import replace
from itertools import product

import numpy as np
import pytest
from sympy import Indexed, IndexedBase, KroneckerDelta, Sum, symbols

from derive.calculus.kronecker import NESTED_RULES, contract
from derive.engine.conv import CONV_OPS
from derive.engine.ops import OPS, Shapes
from derive.engine.vjp import OpError, check
from derive.ir.conv import Corr, Flip, Inside, Pad, Scatter, Spread, Unflatten, comp
from derive.ir.nodes import Var

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None and os.environ.get("CI") != "true",
                                 reason="torch is not installed")
SH = Shapes("none", False)


@pytest.mark.parametrize("name", CONV_OPS)
def test_each_row_is_proved_with_every_delta_contracted(name):
    derived = check(OPS[name], SH)
    assert set(derived) == set(OPS[name].inputs)
    assert not any(form.has(KroneckerDelta) for form in derived.values()), derived


def _wrong(name, port, claim):
    op = OPS[name]
    return replace(op, vjps=dict(op.vjps, **{port: claim}))


WRONG = {
    "the kernel as it is, unflipped": _wrong("conv1d", "x", lambda b, G: Corr(
        Pad(G, b.sh.kernel - 1), Flip(Flip(b["K"], b.sh.kernel), b.sh.kernel), b.sh.kernel)),
    "padded by one too few": _wrong("conv1d", "x", lambda b, G: Corr(
        Pad(G, b.sh.kernel - 2), Flip(b["K"], b.sh.kernel), b.sh.kernel)),
    "G correlated with Z": _wrong("conv1d", "K", lambda b, G: Corr(G, b["x"], b.sh.kernel)),
    "the mean without 1/p": _wrong("avg_pool", "x", lambda b, G: Spread(G, b.sh.pool,
                                                                        b["x"].shape[1])),
    "max spread to the whole window": _wrong("max_pool", "x", lambda b, G: Spread(
        G, b.sh.pool, b["x"].shape[1])),
}


@pytest.mark.parametrize("case", WRONG)
def test_a_wrong_claim_is_refused_naming_the_op(case):
    op = WRONG[case]
    with pytest.raises(OpError, match=repr(op.name)):
        check(op, SH)


def test_a_shifted_delta_is_contracted_within_the_limits_of_its_sum():
    t, j, a, n = symbols("t j a n", integer=True, positive=True)
    G = IndexedBase("G")
    out = contract(Sum(G[t] * KroneckerDelta(t + j - 1, a), (t, 1, n)), NESTED_RULES)
    assert out == G[a - j + 1] * Inside(a - j + 1, 1, n)
    # written out at n = 3, j = 2: the sum picks G[a - 1] for a = 2 … 4, nothing else
    for at in range(1, 6):
        sized = Sum(G[t] * KroneckerDelta(t + 1, at), (t, 1, 3)).doit()
        assert out.xreplace({j: 2, n: 3, a: at}) == sized


# --- the claim nodes at concrete sizes, against PyTorch ------------------------------
def _value(node, arrays):
    """The node's entries as a NumPy array (every sum written out)."""
    shape = [int(d) for d in node.shape]
    out = np.zeros(shape)
    for idx in product(*(range(1, d + 1) for d in shape)):
        expr = comp(node, *idx).doit()
        expr = expr.replace(lambda e: isinstance(e, Indexed),
                            lambda e: arrays[e.base.label.kind][tuple(int(x) - 1 for x in e.indices)])
        out[tuple(x - 1 for x in idx)] = float(expr)
    return out


def _kernel_value(node, arrays, taps):
    """A kernel-shaped node (three indices) as an O × C × κ array."""
    rows, cols = (int(d) for d in node.shape)
    out = np.zeros((rows, cols // taps, taps))
    for o, c, j in product(range(rows), range(cols // taps), range(taps)):
        expr = node.component(o + 1, c + 1, j + 1).doit().replace(
            lambda e: isinstance(e, Indexed),
            lambda e: arrays[e.base.label.kind][tuple(int(x) - 1 for x in e.indices)])
        out[o, c, j] = float(expr)
    return out


@needs_torch
@pytest.mark.parametrize("C_in, C_out, N, taps", [(1, 2, 5, 2), (2, 3, 6, 3)])
def test_the_convolution_claims_are_torch_conv1d_gradients(C_in, C_out, N, taps):
    rng = np.random.default_rng(C_in + N)
    Zv, Kv = rng.normal(size=(C_in, N)), rng.normal(size=(C_out, C_in, taps))
    Gv = rng.normal(size=(C_out, N - taps + 1))
    Zt = torch.tensor(Zv[None], requires_grad=True)
    Kt = torch.tensor(Kv, requires_grad=True)
    bt = torch.zeros(C_out, dtype=torch.float64, requires_grad=True)
    H = torch.nn.functional.conv1d(Zt, Kt, bt)[0]
    (H * torch.tensor(Gv)).sum().backward()
    Z, K, G = Var("zc", 0, C_in, N), Var("K", 1, C_out, C_in * taps), Var("G", 1, *Gv.shape)
    arrays = {"zc": Zv, "K": Kv, "G": Gv}
    np.testing.assert_allclose(_value(Corr(Z, K, taps), arrays), H.detach().numpy(), atol=1e-12)
    dZ = Corr(Pad(G, taps - 1), Flip(K, taps), taps)
    np.testing.assert_allclose(_value(dZ, arrays), Zt.grad[0].numpy(), atol=1e-12)
    np.testing.assert_allclose(_kernel_value(Corr(Z, G, taps), arrays, taps), Kt.grad.numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(Gv.sum(axis=1), bt.grad.numpy(), atol=1e-12)


@needs_torch
@pytest.mark.parametrize("N", [4, 5])
def test_the_pooling_claims_are_torch_pooling_gradients(N):
    rng = np.random.default_rng(N)
    Av = rng.normal(size=(2, N))
    Av[0, 1] = Av[0, 0]            # a tie: the first maximum gets the gradient
    p, n_out = 2, N // 2
    Gv = rng.normal(size=(2, n_out))
    G = Var("G", 1, 2, n_out)
    for kind in ("avg", "max"):
        At = torch.tensor(Av[None], requires_grad=True)
        pool = torch.nn.functional.avg_pool1d if kind == "avg" else torch.nn.functional.max_pool1d
        (pool(At, p)[0] * torch.tensor(Gv)).sum().backward()
        if kind == "avg":     # the claim is Spread(G, p, N) / p
            claim, arrays = Spread(G, p, N), {"G": Gv}
        else:
            mask = np.zeros((2, n_out, p))
            for c, u in product(range(2), range(n_out)):
                mask[c, u, int(np.argmax(Av[c, p * u:p * u + p]))] = 1
            claim = Scatter(G, Var("S", 1, 2, n_out * p), p, N)
            arrays = {"G": Gv, "S": mask}
        value = _value(claim, arrays) / (p if kind == "avg" else 1)
        np.testing.assert_allclose(value, At.grad[0].numpy(), atol=1e-12)


def test_unflatten_is_channel_major_as_torch_flatten():
    g = Var("G", 1, 6, 1)
    gv = np.arange(1.0, 7.0)
    assert _value(Unflatten(g, 2, 3), {"G": gv}).tolist() == gv.reshape(2, 3).tolist()
