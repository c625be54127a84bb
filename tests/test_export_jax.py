"""export(net, target="jax") (SPEC §5b): jax.test_util.check_grads(order=1, modes=["rev"])
over the pairwise cover of the option table, in float64; jax.grad under jax.jit and
jax.vmap over a batch axis gives the derived gradients."""
import numpy as np
import pytest
from framework_cases import CASES, case_id, keywords, make_inputs, need, network

from derive import export

# one worker derives each network of the cover once for the three targets (the
# derivation is cached per process); a network's first derivation takes seconds
pytestmark = [pytest.mark.xdist_group("framework-exports"), pytest.mark.slow]


@pytest.fixture(scope="module")
def jax():
    jax = need("jax")
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", False)


def _setup(jax, case, seed=0, m=5):
    net = network(case)
    g = export(net, target="jax")
    params, X, Y, masks = make_inputs(net, np.random.default_rng(seed),
                                      (g.param_names, g.param_shapes), m=m)
    kw = keywords(net, masks)
    if "masks" in kw:
        kw["masks"] = [jax.numpy.asarray(M) for M in masks]
    params = [jax.numpy.asarray(p) for p in params]
    return g, params, jax.numpy.asarray(X), jax.numpy.asarray(Y), kw


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_check_grads(jax, case):
    from jax.test_util import check_grads
    g, params, X, Y, kw = _setup(jax, case)
    # a step of 1e-6 (float64): the default 1e-4 along a random direction can cross the
    # kink of a (leaky) relu, where central differences are no oracle
    check_grads(lambda ps: g.loss(ps, X, Y, **kw), (params,), order=1, modes=["rev"],
                eps=1e-6)


@pytest.mark.parametrize("case", CASES[:4], ids=case_id)
def test_jit_and_vmap_give_the_derived_gradients(jax, case):
    g, params, X, Y, kw = _setup(jax, case)
    grad = jax.jit(jax.grad(lambda ps, X, Y: g.loss(ps, X, Y, **kw)))
    J, want = g.loss_and_gradients(params, X, Y, **kw)
    for a, b in zip(grad(params, X, Y), want):
        assert a.dtype == np.float64 and np.allclose(a, b, rtol=1e-12, atol=1e-14)
    # a batch of three (X, Y) along a new leading axis
    batches = [_setup(jax, case, seed=s) for s in (1, 2, 3)]
    Xs = jax.numpy.stack([b[2] for b in batches])
    Ys = jax.numpy.stack([b[3] for b in batches])
    mapped = jax.vmap(grad, in_axes=(None, 0, 0))(params, Xs, Ys)
    for k, (_, _, Xk, Yk, _) in enumerate(batches):
        want = g.gradients(params, Xk, Yk, **kw)
        for a, b in zip(mapped, want):
            assert np.allclose(a[k], b, rtol=1e-12, atol=1e-14)


def test_float32_in_float32_out(jax):
    g, params, X, Y, kw = _setup(jax, CASES[1])
    f32 = jax.numpy.float32
    kw32 = dict(kw, masks=[M.astype(f32) for M in kw["masks"]]) if "masks" in kw else kw
    J, grads = g.loss_and_gradients([p.astype(f32) for p in params], X.astype(f32),
                                    Y.astype(f32), **kw32)
    J64, grads64 = g.loss_and_gradients(params, X, Y, **kw)
    assert J.dtype == f32 and all(d.dtype == f32 for d in grads)
    scale = max(float(abs(d).max()) for d in grads64)
    for a, b in zip(grads, grads64):
        assert float(abs(a.astype(np.float64) - b).max()) <= 1e-4 * scale
