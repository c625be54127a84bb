"""export(net, target="torch") over a pairwise cover of the option table (SPEC §5b):
torch.autograd.gradcheck in float64 through the autograd.Function, and the derived
gradients equal torch.autograd.grad of the same forward pass to 1e-12 relative."""
import numpy as np
import pytest
from framework_cases import CASES, case_id, keywords, make_inputs, need, network

from derive import SpecError, export

# one worker derives each network of the cover once for the three targets (the
# derivation is cached per process); a network's first derivation takes seconds
pytestmark = [pytest.mark.xdist_group("framework-exports"), pytest.mark.slow]


@pytest.fixture(scope="module")
def torch():
    return need("torch")


def _tensors(torch, arrays, dtype):
    return None if arrays is None else [torch.tensor(a, dtype=dtype) for a in arrays]


def _setup(torch, case, dtype, seed=0):
    net = network(case)
    g = export(net, target="torch")
    params, X, Y, masks = make_inputs(net, np.random.default_rng(seed),
                                      (g.param_names, g.param_shapes))
    kw = keywords(net, masks)
    if "masks" in kw:
        kw["masks"] = _tensors(torch, masks, dtype)
    params = _tensors(torch, params, dtype)
    return net, g, params, torch.tensor(X, dtype=dtype), torch.tensor(Y, dtype=dtype), kw


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradcheck_and_autograd_of_the_same_forward(torch, case):
    net, g, params, X, Y, kw = _setup(torch, case, torch.float64)
    leaves = [p.clone().requires_grad_() for p in params]
    assert torch.autograd.gradcheck(lambda *ps: g.loss(list(ps), X, Y, **kw), leaves)
    # the same forward, differentiated by autograd: the forward lines and the loss
    J_auto = g.module._loss_pass(X, Y, *leaves, *kw.get("masks", ()),
                                 *[kw[k] for k, _, _ in _constants(net)])[0]
    auto = torch.autograd.grad(J_auto, leaves)
    J, ours = g.loss_and_gradients(params, X, Y, **kw)
    assert torch.allclose(J, J_auto.detach(), rtol=1e-12, atol=0)
    scale = max(float(a.abs().max()) for a in auto)
    for name, a, b in zip(g.param_names, ours, auto):
        assert a.shape == b.shape and a.dtype == torch.float64, name
        assert float((a - b).abs().max()) <= 1e-12 * scale, name
    # through the Function: J.backward() fills .grad with the same numbers
    g.loss(leaves, X, Y, **kw).backward()
    for name, leaf, b in zip(g.param_names, leaves, ours):
        assert torch.equal(leaf.grad, b), name


def _constants(net):
    """(name, …) of the keyword constants in the order the lines take them."""
    out = [("weight_decay", 0, 0)] if net.weight_decay else []
    return out + ([("eps", 0, 0)] if net.norm != "none" else [])


@pytest.mark.parametrize("case", CASES[:6], ids=case_id)
def test_float32_stays_float32_and_agrees_with_float64(torch, case):
    _, g, p64, X64, Y64, kw64 = _setup(torch, case, torch.float64)
    _, _, p32, X32, Y32, kw32 = _setup(torch, case, torch.float32)
    J32, g32 = g.loss_and_gradients(p32, X32, Y32, **kw32)
    J64, g64 = g.loss_and_gradients(p64, X64, Y64, **kw64)
    assert J32.dtype == torch.float32 and all(d.dtype == torch.float32 for d in g32)
    scale = max(float(a.abs().max()) for a in g64)
    for a, b in zip(g32, g64):
        assert float((a.double() - b).abs().max()) <= 1e-4 * scale


def test_the_module_trains_its_parameters_by_name(torch):
    net = network(CASES[1])
    g = export(net, target="torch")
    model = g.Model(dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert [name for name, _ in model.named_parameters()] == list(g.param_names)
    assert [tuple(p.shape) for p in model.parameters()] == list(g.param_shapes)
    params, X, Y, masks = make_inputs(net, np.random.default_rng(1),
                                      (g.param_names, g.param_shapes))
    X, Y = torch.tensor(X), torch.tensor(Y)
    masks = _tensors(torch, masks, torch.float64)
    J = model(X, Y, masks)
    J.backward()
    want = g.gradients([p.detach() for p in model.parameters()], X, Y, masks=masks,
                       weight_decay=model.weight_decay, eps=model.eps)
    for p, w in zip(model.parameters(), want):
        assert torch.equal(p.grad, w)


def test_a_wrong_input_is_named(torch):
    g = export(network(CASES[0]), target="torch")
    params = [torch.zeros(s, dtype=torch.float64) for s in g.param_shapes]
    X, Y = torch.zeros(3, 5, dtype=torch.float64), torch.zeros(2, 5, dtype=torch.float64)
    params[1] = torch.zeros(4, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"W_2 must have shape \(4, 4\)"):
        g.loss(params, X, Y)
    with pytest.raises(ValueError, match="X must be a 2-D float torch.Tensor"):
        g.loss(params, np.zeros((3, 5)), Y)


def test_an_unknown_target_is_one_clear_error():
    with pytest.raises(SpecError, match="target 'tensorflow' is not allowed; allowed: numpy, "
                                        "torch, jax, array_api"):
        export(network(CASES[0]), target="tensorflow")


def test_an_upstream_gradient_scales_the_derived_one(torch):
    """J inside a larger graph: the backward's dJ is not 1 (gradcheck only seeds 1)."""
    _, g, params, X, Y, kw = _setup(torch, CASES[2], torch.float64)
    leaves = [p.clone().requires_grad_() for p in params]
    outer = torch.autograd.grad(2.5 * g.loss(leaves, X, Y, **kw) ** 2, leaves)
    J, grads = g.loss_and_gradients(params, X, Y, **kw)
    for a, b in zip(outer, grads):
        assert torch.allclose(a, 2.5 * 2 * J * b, rtol=1e-13, atol=0)


def test_the_module_is_found_by_its_name(torch):
    """torch.compile (and pickle) look a function's module up by name: it is registered."""
    import sys
    g = export(network(CASES[0]), target="torch")
    assert sys.modules[g.loss.__module__] is g.module
    assert export(network(CASES[0]), target="torch").module is g.module   # same source
