"""The exported module of the §1b options (SPEC §1b, §5), generated over the table
{residual} × {norm none, layer, batch} × {dropout} × {weight decay} × two
hidden/output/loss rows × depths 1–3 (residual needs depth 3, batch norm a batch):

- the gradients against central finite differences of the exported loss (float64);
- float32 gradients against the float64 ones, loosely;
- the exported loss against an independent NumPy forward pass written here from SPEC
  §1b (PyTorch training-mode layer and batch norm: biased variance, ε inside the
  square root) and, at small sizes, against the engine's own `Instance` forward pass;
- finite values without warnings at saturated inputs, in both dtypes;
- `loss_and_gradients` equal to `loss` and `gradients`, float for float.

The table is not the full product: the engine derives a hidden block per (activation,
norm, dropout, residual), so at depth 3 every such key is one case (`ONCE`), and weight
decay, batch mode and bias take turns over a pairwise cover (every pair of values of any
two options in one case at least); depths 1 and 2 add their own pairwise cover.
"""
import itertools
import warnings
from functools import lru_cache

import numpy as np
import pytest
from export_cases import central_differences
from pairwise import missing_pairs, pairwise

from derive import Network, export_numpy
from derive.cli.main import main
from derive.engine.instance import Instance
from derive.vocab import EPSILON, LAMBDA

#: (hidden activation, output activation, loss), taking turns over the option table
ROWS = (("tanh", "identity", "mse"), ("sigmoid", "sigmoid", "bce"))
#: (row, depth, residual, norm, dropout, weight decay, batch, bias): the factors
FACTORS = (ROWS, (1, 2, 3), (False, True), ("none", "layer", "batch"), (False, True),
           (False, True), (False, True), ("none", "explicit"))


def _allowed(case):
    _, depth, residual, norm, _, _, batch, _ = case
    return (not residual or depth == 3) and (norm != "batch" or batch)


def _cases():
    """Depth 3: the full product of the block's keys (row, residual, norm, dropout), the
    rest pairwise; depths 1 and 2: pairwise, each depth with each row."""
    deep = pairwise([f if i != 1 else (3,) for i, f in enumerate(FACTORS)],
                    keep=(0, 2, 3, 4), allowed=_allowed)
    shallow = pairwise([f if i != 1 else (1, 2) for i, f in enumerate(FACTORS)],
                       keep=(0, 1), allowed=_allowed)
    return deep + shallow


CASES = _cases()
#: each hidden-block key once at depth 3 (both rows), the other options pairwise
ONCE = [c for c in CASES if c[1] == 3]


def test_the_table_covers_every_pair_and_every_block_key():
    assert missing_pairs(CASES, FACTORS, _allowed) == set()
    keys = {(c[0], c[2], c[3], c[4]) for c in ONCE}
    assert keys == set(itertools.product(ROWS, *FACTORS[2:5]))
    assert {c[1] for c in CASES} == {1, 2, 3}


def case_id(case):
    (hidden, _, loss), depth, residual, norm, dropout, decay, batch, bias = case
    flags = [f for f, on in (("res", residual), ("drop", dropout), ("wd", decay)) if on]
    return "-".join([hidden, loss, f"L{depth}", f"norm_{norm}", *flags,
                     "batch" if batch else "single", bias])


def network(case):
    (hidden, out, loss), depth, residual, norm, dropout, decay, batch, bias = case
    return Network(activations=(hidden,) * (depth - 1) + (out,), loss=loss, bias=bias,
                   batch=batch, residual=residual, norm=norm, dropout=dropout,
                   weight_decay=decay)


@lru_cache(maxsize=None)
def module(case):
    return export_numpy(network(case))


def widths_of(case, n=4):
    depth = case[1]
    return (3,) + (n,) * (depth - 1) + (2,)


def inputs(case, rng, dtype=np.float64, m=5, scale=1.0, n=4):
    """params (W_l, b_l, γ_l, β_l in SPEC §5's order), X, Y and the keyword arguments."""
    (_, out, loss), depth, _, norm, dropout, decay, _, bias = case
    widths = widths_of(case, n)
    params = []
    for l in range(1, depth + 1):
        params.append(rng.normal(size=(widths[l], widths[l - 1])) / np.sqrt(widths[l - 1]))
        if bias == "explicit":
            params.append(0.3 * rng.normal(size=(widths[l], 1)))
        if l < depth and norm != "none":
            params += [1 + 0.3 * rng.normal(size=(widths[l], 1)),
                       0.3 * rng.normal(size=(widths[l], 1))]
    X = scale * rng.normal(size=(widths[0], m))
    Y = rng.uniform(0.05, 0.95, size=(widths[-1], m)) if loss == "bce" else \
        rng.normal(size=(widths[-1], m))
    kwargs = {}
    if dropout:   # inverted dropout with p = 1/4: entries 0 or 4/3
        kwargs["masks"] = [((rng.uniform(size=(widths[l], m)) > 0.25) / 0.75).astype(dtype)
                           for l in range(1, depth)]
    if decay:
        kwargs["weight_decay"] = 0.3
    if norm != "none" and depth % 2:
        kwargs["eps"] = 0.01       # the default 1e-5 on the other cases
    cast = [p.astype(dtype) for p in params]
    return cast, X.astype(dtype), Y.astype(dtype), kwargs


# --- an independent reference: SPEC §1b typed in with NumPy ------------------------------
ACT = {"tanh": np.tanh, "sigmoid": lambda h: 1 / (1 + np.exp(-h)), "identity": lambda h: h}


def reference_loss(case, params, X, Y, masks=(), weight_decay=1e-4, eps=1e-5):
    (hidden, out, loss), depth, residual, norm, dropout, decay, batch, bias = case
    params, z, Ws = list(params), X, []
    for l in range(1, depth + 1):
        W = params.pop(0)
        Ws.append(W)
        h = W @ z + (params.pop(0) if bias == "explicit" else 0)
        if l == depth:
            z = ACT[out](h)
            break
        if norm != "none":     # PyTorch training mode: biased variance, ε inside the root
            axis = 0 if norm == "layer" else 1
            mu, var = h.mean(axis=axis, keepdims=True), h.var(axis=axis, keepdims=True)
            gamma, beta = params.pop(0), params.pop(0)
            h = gamma * (h - mu) / np.sqrt(var + eps) + beta
        a = ACT[hidden](h)
        if dropout:
            a = masks[l - 1] * a
        z = z + a if residual and 2 <= l <= depth - 1 else a
    if loss == "mse":
        J = 0.5 * np.sum((z - Y) ** 2)
    else:
        J = -np.sum(Y * np.log(z) + (1 - Y) * np.log(1 - z))
    if batch:
        J = J / X.shape[1]
    if decay:
        J = J + weight_decay / 2 * sum(np.sum(W * W) for W in Ws)
    return J


def _fd(g, params, X, Y, kwargs):
    class Bound:   # central_differences calls g.loss(params, X, Y)
        @staticmethod
        def loss(p, x, y):
            return g.loss(p, x, y, **kwargs)
    return central_differences(Bound, params, X, Y)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_match_finite_differences(case):
    g = module(case)
    rng = np.random.default_rng(len(case_id(case)))
    params, X, Y, kwargs = inputs(case, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = g.gradients(params, X, Y, **kwargs)
    assert [a.shape for a in grads] == [p.shape for p in params]
    for exact, approx in zip(grads, _fd(g, params, X, Y, kwargs)):
        scale = max(np.max(np.abs(exact)), 1e-3)
        assert np.max(np.abs(exact - approx)) / scale < 1e-6


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_loss_is_the_reference_forward_pass(case):
    rng = np.random.default_rng(len(case_id(case)) + 3)
    params, X, Y, kwargs = inputs(case, rng)
    got = module(case).loss(params, X, Y, **kwargs)
    want = reference_loss(case, params, X, Y, **kwargs)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", ONCE, ids=case_id)
def test_float32_gradients_follow_float64(case):
    g = module(case)
    rng = np.random.default_rng(11)
    params, X, Y, kwargs = inputs(case, rng)
    exact = g.gradients(params, X, Y, **kwargs)
    low = {k: [m.astype(np.float32) for m in v] if k == "masks" else v
           for k, v in kwargs.items()}
    grads = g.gradients([p.astype(np.float32) for p in params], X.astype(np.float32),
                        Y.astype(np.float32), **low)
    for got, want in zip(grads, exact):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-4 * max(1, np.abs(want).max()))


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("case", ONCE, ids=case_id)
def test_finite_at_saturated_inputs(case, dtype):
    """Inputs of ±1000 scale: the activations saturate (or the norm rescales them);
    loss, gradients and activations stay finite, of the dtype, with no warning."""
    g = module(case)
    rng = np.random.default_rng(5)
    params, X, Y, kwargs = inputs(case, rng, dtype, scale=1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, grads = g.loss_and_gradients(params, X, Y, **kwargs)
        zs = g.forward(params, X, **{k: v for k, v in kwargs.items() if k != "weight_decay"})
    for value in [J, *grads, *zs]:
        assert value.dtype == dtype and np.all(np.isfinite(value))


@pytest.mark.parametrize("case", ONCE, ids=case_id)
def test_loss_and_gradients_is_loss_then_gradients(case):
    g = module(case)
    params, X, Y, kwargs = inputs(case, np.random.default_rng(2), np.float32)
    J, grads = g.loss_and_gradients(params, X, Y, **kwargs)
    assert J == g.loss(params, X, Y, **kwargs)
    for got, want in zip(grads, g.gradients(params, X, Y, **kwargs)):
        np.testing.assert_array_equal(got, want)


#: the engine's own forward pass (SymPy, exact) at small sizes: one case per kind
ENGINE = [c for c in ONCE if c[0] == ROWS[0] and (c[2:5] in (
    (True, "layer", True), (False, "batch", False), (True, "batch", True),
    (False, "layer", False)))]


@pytest.mark.parametrize("case", ENGINE, ids=case_id)
def test_loss_is_the_engine_forward_pass(case):
    """`derive.engine.instance.Instance`: the forward pass the certificate is built on."""
    net = network(case)
    widths = widths_of(case, n=2)
    inst = Instance(net, widths)
    rng = np.random.default_rng(9)
    params, X, Y, kwargs = inputs(case, rng, m=inst.m, n=2)
    point = {}
    for (_, _, symbols), value in zip(inst.params, params):
        point.update(_entries(symbols, value))
    point.update(_entries(inst.env[("z", 0)], X))
    for l, mask in enumerate(kwargs.get("masks", ()), start=1):
        point.update(_entries(inst.env[("M", l)], mask))
    point.update(_entries(inst.env[("y", net.depth)], Y))
    point[LAMBDA] = kwargs.get("weight_decay", 1e-4)
    point[EPSILON] = kwargs.get("eps", 1e-5)
    want = float(inst.loss.xreplace(point).evalf(30))
    got = module(case).loss(params, X, Y, **kwargs)
    assert got == pytest.approx(want, rel=1e-11)


def _entries(symbols, array):
    return {symbols[i, j]: float(array[i, j]) for i in range(symbols.rows)
            for j in range(symbols.cols)}


def test_masks_and_constants_are_checked():
    case = next(c for c in ONCE if c[2:6] == (True, "layer", True, True))
    g = module(case)
    params, X, Y, kwargs = inputs(case, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"masks must be a list of 2 arrays: \[M1, M2\]"):
        g.loss(params, X, Y)
    bad = [kwargs["masks"][0], kwargs["masks"][1][:, :2]]
    with pytest.raises(ValueError, match=r"M2 must be an array of dtype float64 and shape"):
        g.gradients(params, X, Y, masks=bad)
    for name, value in (("eps", 0.0), ("eps", "1e-5"), ("weight_decay", -1.0),
                        ("weight_decay", float("nan"))):
        with pytest.raises(ValueError, match=f"{name} must be a finite real number"):
            g.loss_and_gradients(params, X, Y, **{**kwargs, name: value})
    with pytest.raises(ValueError, match="gamma1 must have shape"):
        g.loss(params[:2] + [params[2][:2]] + params[3:], X, Y, **kwargs)


def test_cli_flags_export_the_same_module(tmp_path):
    """`derive export` with the §1b flags writes the module `export_numpy` makes."""
    target = tmp_path / "g.py"
    argv = ["export", "--widths", "3,4,4,4,2", "--activation", "tanh", "--output-activation",
            "sigmoid", "--loss", "bce", "--bias", "--batch", "--residual", "--norm", "batch",
            "--dropout", "--weight-decay", "-o", str(target)]
    assert main(argv) == 0
    net = Network(activations=("tanh",) * 3 + ("sigmoid",), loss="bce", bias="explicit",
                  batch=True, residual=True, norm="batch", dropout=True, weight_decay=True,
                  widths=(3, 4, 4, 4, 2))
    assert target.read_text() == export_numpy(net).source
    assert main(argv[:-2] + ["--norm", "group", "-o", str(tmp_path / "h.py")]) == 2
    assert not (tmp_path / "h.py").exists()


def _assignments(source, function):
    """The names assigned in ``function`` of the generated source, in order."""
    body = source.split(f"\ndef {function}(")[1].split("\ndef ")[0]
    return [line.split(" = ")[0].strip() for line in body.splitlines()
            if " = " in line and not line.strip().startswith("#")]


@pytest.mark.parametrize("case", ONCE, ids=case_id)
def test_source_runs_forward_in_op_order_and_backward_in_reverse(case):
    """h, μ, v, x̂, ĥ, a, z per hidden layer; then, last layer first, ∂J/∂z_l, ∂J/∂a_l,
    ∂J/∂ĥ_l, δ_l and the gradients of W_l, b_l, γ_l, β_l; ones never materialized."""
    (_, _, _), depth, residual, norm, dropout, decay, batch, bias = case
    source = module(case).source
    names = _assignments(source, "loss_and_gradients")
    kinds = residual or dropout or norm != "none"
    stats = ["mu", "var", "xhat", "hhat"] if norm != "none" else []
    forward, backward = [], []
    for l in range(1, depth):
        act = ["a"] if dropout or (residual and l >= 2) else []   # a_l when z_l is not σ's
        forward += [f"{k}{l}" for k in ["h", *stats, *act, "z"]]
    cot = (["dJ_dz"] if kinds else []) + (["dJ_da"] if dropout else []) + \
        (["dJ_dhhat"] if norm != "none" else [])
    grads = ["dW"] + (["db"] if bias == "explicit" else []) + \
        (["dgamma", "dbeta"] if norm != "none" else [])
    for l in range(depth - 1, 0, -1):
        backward += [f"{k}{l}" for k in [*cot, "delta", *grads]]
    expected = forward + backward
    assert [n for n in names if n in expected] == expected
    assert "np.ones" not in source and "@ 1" not in source and "np.eye" not in source
    assert ("weight_decay" in source) == decay and ("eps" in source) == (norm != "none")
    imports = [line for line in source.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["from collections.abc import Sequence", "import numpy as np",
                       "from numpy.typing import ArrayLike, DTypeLike"]
