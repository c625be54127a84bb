"""export(net, target="array_api") (SPEC §5b): one module, its namespace taken from the
inputs; with array_api_strict the gradients equal central differences of the loss, and
NumPy, PyTorch (through array_api_compat) and array_api_strict give the same numbers."""
import numpy as np
import pytest
from export_cases import loss_differences
from framework_cases import CASES, case_id, keywords, make_inputs, need, network

from derive import export

# one worker derives each network of the cover once for the three targets (the
# derivation is cached per process); a network's first derivation takes seconds
pytestmark = [pytest.mark.xdist_group("framework-exports"), pytest.mark.slow]


@pytest.fixture(scope="module")
def strict():
    need("array_api_compat")
    return need("array_api_strict")


def _setup(case, seed=0):
    net = network(case)
    g = export(net, target="array_api")
    params, X, Y, masks = make_inputs(net, np.random.default_rng(seed),
                                      (g.param_names, g.param_shapes))
    return g, params, X, Y, keywords(net, masks)


def _convert(kw, to):
    return dict(kw, masks=[to(M) for M in kw["masks"]]) if "masks" in kw else kw


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_strict_arrays_match_central_differences_and_numpy(strict, case):
    g, params, X, Y, kw = _setup(case)
    to = strict.asarray
    J, grads = g.loss_and_gradients([to(p) for p in params], to(X), to(Y), **_convert(kw, to))
    assert all(isinstance(d, type(to(X))) and d.dtype == strict.float64 for d in grads)
    J_np, grads_np = g.loss_and_gradients(params, X, Y, **kw)
    assert float(J) == pytest.approx(float(J_np), rel=1e-13)
    numeric = loss_differences(lambda ps: g.loss(ps, X, Y, **kw), [p.copy() for p in params])
    scale = max(np.abs(n).max() for n in numeric)
    for name, a, b, n in zip(g.param_names, grads, grads_np, numeric):
        a = np.asarray(a)       # array_api_strict supports the buffer protocol on CPU
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14), name
        assert np.abs(a - n).max() <= 1e-6 * max(scale, 1), name


@pytest.mark.parametrize("case", CASES[:3], ids=case_id)
def test_torch_tensors_through_array_api_compat(strict, case):
    torch = need("torch")
    g, params, X, Y, kw = _setup(case)
    to = torch.tensor
    J, grads = g.loss_and_gradients([to(p) for p in params], to(X), to(Y), **_convert(kw, to))
    J_np, grads_np = g.loss_and_gradients(params, X, Y, **kw)
    assert isinstance(J, torch.Tensor) and float(J) == pytest.approx(float(J_np), rel=1e-13)
    for a, b in zip(grads, grads_np):
        assert isinstance(a, torch.Tensor) and np.allclose(a.numpy(), b, rtol=1e-12, atol=1e-14)


def test_float32_in_float32_out(strict):
    g, params, X, Y, kw = _setup(CASES[1])

    def to(a):
        return strict.asarray(a, dtype=strict.float32)
    J, grads = g.loss_and_gradients([to(p) for p in params], to(X), to(Y), **_convert(kw, to))
    assert J.dtype == strict.float32 and all(d.dtype == strict.float32 for d in grads)
