"""No silent wrong gradient (issue 23.2, 28.5): the exported module checks what the
derivation assumed of its inputs' values, reads any array NumPy can read, refuses
everything else naming it, runs without masks at inference, initializes its parameters,
is typed and lint-clean.

The oracle for "the assumption matters" is central differences of the loss: where a
target breaks the assumption, the unchecked gradient (``check_values=False``) differs
from them, and the checked call refuses that target.
"""
import os
import shutil
import subprocess
import typing
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from export_cases import CASES, central_differences, make_params, make_targets, module
from nets import valid_pairs
from test_export_kinds import ONCE, inputs
from test_export_kinds import module as kinds_module

from derive import Network, export_numpy
from derive.engine.plan import backprop
from derive.spec import rules

RNG = np.random.default_rng(11)
WIDTHS = (3, 4, 3)


def _net(out, loss, **options):
    hidden = "tanh" if out == "softmax" else out
    return Network(activations=(hidden, out), loss=loss, **options)


def _data(out, loss, m=4, seed=0):
    rng = np.random.default_rng(seed)
    params = make_params(WIDTHS, "none", rng, scale=0.5)
    return params, rng.normal(size=(WIDTHS[0], m)), make_targets(loss, out, WIDTHS[-1], m, rng)


#: (id, output, loss, a target breaking what the loss row or derivation assumes)
def _bad_targets():
    rows = []
    for out, loss in valid_pairs():
        target = rules.loss(loss).target
        if target == "simplex":
            rows += [(f"{out}-{loss}-multi-hot", out, loss, "sum to 1",
                      lambda Y: np.vstack([np.ones((2, Y.shape[1])), np.zeros((1, Y.shape[1]))])),
                     (f"{out}-{loss}-all-zero", out, loss, "sum to 1",
                      lambda Y: np.where(np.arange(Y.shape[1]) == 1, 0.0, Y))]
        if target in ("unit", "simplex"):
            rows += [(f"{out}-{loss}-above-one", out, loss, "[0, 1]", lambda Y: Y + 1.5),
                     (f"{out}-{loss}-negative", out, loss, "[0, 1]", lambda Y: Y - 0.5),
                     (f"{out}-{loss}-nan", out, loss, "[0, 1]",
                      lambda Y: np.where(np.eye(*Y.shape) > 0, np.nan, Y))]
    return rows


BAD_TARGETS = _bad_targets()


@pytest.mark.parametrize("out, loss, words, spoil", [r[1:] for r in BAD_TARGETS],
                         ids=[r[0] for r in BAD_TARGETS])
def test_a_target_breaking_the_assumptions_is_refused(out, loss, words, spoil):
    g = export_numpy(_net(out, loss))
    params, X, Y = _data(out, loss)
    bad = spoil(Y)
    for call in (lambda **k: g.gradients(params, X, bad, **k),
                 lambda **k: g.loss(params, X, bad, **k),
                 lambda **k: g.loss_and_gradients(params, X, bad, **k),
                 lambda **k: g.train_step(params, X, bad, 0.1, **k)):
        with pytest.raises(ValueError, match=r"Y") as info:
            call()
        assert words in str(info.value) and "\n" not in str(info.value)
    g.gradients(params, X, bad, check_values=False)      # the documented way round
    g.gradients(params, X, Y)                            # a good target passes


SIMPLEX = [(out, loss) for out, loss in valid_pairs() if rules.loss(loss).target == "simplex"]


@pytest.mark.parametrize("out, loss", SIMPLEX, ids=["-".join(p) for p in SIMPLEX])
def test_the_sum_check_guards_a_gradient_that_would_be_wrong(out, loss):
    """The cancellation δ_L = z − y needs Σ y = 1: with a multi-hot column the unchecked
    gradient is not the loss's derivative (so refusing it is needed), with a
    probability vector it is."""
    g = export_numpy(_net(out, loss))
    params, X, Y = _data(out, loss)
    multi = Y.copy()
    multi[:, 0] = [1.0, 1.0, 0.0]
    for target, agrees in ((Y, True), (multi, False)):
        got = g.gradients(params, X, target, check_values=False)
        unchecked = SimpleNamespace(loss=lambda p, x, y: g.loss(p, x, y, check_values=False))
        want = central_differences(unchecked, params, X, target)
        close = all(np.allclose(a, b, rtol=1e-6, atol=1e-7) for a, b in zip(got, want))
        assert close == agrees


@pytest.mark.parametrize("out, loss", valid_pairs(), ids=["-".join(p) for p in valid_pairs()])
def test_the_docstring_states_every_assumption_of_the_derivation(out, loss):
    net = _net(out, loss)
    doc = " ".join(export_numpy(net).module.__doc__.split())
    for said in backprop(net).assumptions:
        assert said in doc
    assert ("lies in [0, 1]" in doc) == (rules.loss(loss).target in ("unit", "simplex"))
    assert "check_values" in doc


def test_float32_and_float16_probability_targets_pass():
    g = export_numpy(_net("softmax", "cce", batch=True))
    params, X, Y = _data("softmax", "cce", m=50)
    for dtype in (np.float32, np.float16, np.longdouble):
        g.gradients([p.astype(dtype) for p in params], X.astype(dtype), Y.astype(dtype))


# --- dropout masks: their values, and inference without them -----------------------
DROP = next(c for c in ONCE if c[2:6] == (True, "layer", True, True))


def test_masks_values_are_checked_and_inference_needs_none():
    g = kinds_module(DROP)
    params, X, Y, kwargs = inputs(DROP, np.random.default_rng(0))
    masks = kwargs.pop("masks")
    for bad, words in (([2 * masks[0], masks[1]], None),
                       ([masks[0] * 0.5, masks[1]], "M1 must be a dropout mask"),
                       ([masks[0], masks[1] + np.eye(*masks[1].shape)], "M2 must be a dropout mask"),
                       ([masks[0], -masks[1]], "M2 must be a dropout mask")):
        if words is None:      # 0 and 8/3: another p, still inverted dropout
            g.gradients(params, X, Y, masks=bad, **kwargs)
            continue
        with pytest.raises(ValueError, match=words):
            g.gradients(params, X, Y, masks=bad, **kwargs)
        g.gradients(params, X, Y, masks=bad, check_values=False, **kwargs)
    zero = [np.zeros_like(masks[0]), masks[1]]           # every unit dropped: allowed
    g.gradients(params, X, Y, masks=zero, **kwargs)
    ones = [np.ones_like(M) for M in masks]
    for got, want in zip(g.forward(params, X, train=False, eps=kwargs.get("eps", 1e-5)),
                         g.forward(params, X, masks=ones, eps=kwargs.get("eps", 1e-5))):
        np.testing.assert_array_equal(got, want)
    assert g.loss(params, X, Y, train=False, **kwargs) == g.loss(params, X, Y, masks=ones,
                                                                 **kwargs)
    with pytest.raises(ValueError, match="masks must be None when train=False"):
        g.loss(params, X, Y, masks=masks, train=False, **kwargs)
    with pytest.raises(ValueError, match="for inference pass train=False"):
        g.forward(params, X)


# --- keyword constants: finite, naming the argument ----------------------------------
HUGE = 10 ** 400
NORM_DECAY = next(c for c in ONCE if c[3] == "layer" and c[5])     # layer norm, weight decay


CONSTANTS = [("lr", float("nan")), ("lr", HUGE), ("lr", -HUGE), ("lr", float("inf")),
             ("lr", 10 ** 5000), ("eps", HUGE), ("eps", float("nan")), ("weight_decay", HUGE),
             ("weight_decay", float("inf"))]


@pytest.mark.parametrize("name, value", CONSTANTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONSTANTS)])
def test_non_finite_constants_are_refused_naming_them(name, value):
    g = kinds_module(NORM_DECAY)
    params, X, Y, kwargs = inputs(NORM_DECAY, np.random.default_rng(1))
    lr = value if name == "lr" else 0.1
    if name != "lr":
        kwargs[name] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=f"^{name} must be a finite real number") as info:
            g.train_step(params, X, Y, lr, **kwargs)
    assert len(str(info.value)) < 200


def test_a_step_that_overflows_the_dtype_is_refused():
    g = export_numpy(_net("sigmoid", "bce"))
    params, X, Y = _data("sigmoid", "bce")
    p32 = [p.astype(np.float32) for p in params]
    with pytest.raises(ValueError, match=r"lr must be a finite real number \(in float32\)"):
        g.train_step(p32, X.astype(np.float32), Y.astype(np.float32), 1e300)


# --- arrays NumPy can read, and what it cannot ---------------------------------------
class Wrapped:
    """An array-like through __array__ only (as pandas, xarray or a CPU tensor)."""

    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a


class DLPackOnly:
    """An array-API array that NumPy reads through __dlpack__ only."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kwargs):
        return self.a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


class Unreadable:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("can't convert a tensor that requires grad")


def _readonly(a):
    b = a.copy()
    b.flags.writeable = False
    return b


@pytest.mark.parametrize("convert", [
    lambda a, tmp: np.load(_saved(a, tmp), mmap_mode="r"), lambda a, tmp: _readonly(a),
    lambda a, tmp: np.asfortranarray(a), lambda a, tmp: np.repeat(a, 2, axis=1)[:, ::2],
    lambda a, tmp: Wrapped(a), lambda a, tmp: DLPackOnly(a.copy())],
    ids=["memmap", "read-only", "fortran", "strided", "__array__", "__dlpack__"])
def test_any_array_numpy_reads_is_accepted(convert, tmp_path):
    g = export_numpy(_net("softmax", "cce", bias="explicit", batch=True))
    rng = np.random.default_rng(2)
    params = make_params(WIDTHS, "explicit", rng)
    X, Y = rng.normal(size=(3, 5)), make_targets("cce", "softmax", 3, 5, rng)
    want = g.loss_and_gradients(params, X, Y)
    got = g.loss_and_gradients([convert(p, tmp_path / f"p{i}") for i, p in enumerate(params)],
                               convert(X, tmp_path / "X"), convert(Y, tmp_path / "Y"))
    assert got[0] == want[0]
    for a, b in zip(got[1], want[1]):
        assert type(a) is np.ndarray
        np.testing.assert_array_equal(a, b)
    new = g.train_step([convert(p, tmp_path / f"q{i}") for i, p in enumerate(params)], X, Y, 0.1)
    assert all(type(p) is np.ndarray for p in new)


def _saved(a, path):
    np.save(path.with_suffix(".npy"), a)
    return path.with_suffix(".npy")


@pytest.mark.parametrize("value, shown", [([[1.0]], "list"), ("abc", "str"), (3.0, "float"),
                                          ({"X": 1}, "dict"), (Unreadable(), "Unreadable")],
                         ids=["list", "str", "float", "dict", "unreadable"])
@pytest.mark.parametrize("where", ["X", "Y", "W1"])
def test_anything_else_is_refused_naming_its_type(value, shown, where):
    g = export_numpy(_net("sigmoid", "bce"))
    params, X, Y = _data("sigmoid", "bce")
    args = {"X": X, "Y": Y, "W1": params[0]}
    args[where] = value
    with pytest.raises(ValueError, match=f"^{where} must be") as info:
        g.gradients([args["W1"]] + params[1:], args["X"], args["Y"])
    assert shown in str(info.value)


# --- init_params ---------------------------------------------------------------------
@pytest.mark.parametrize("hidden, bias, norm", [("relu", "explicit", "layer"),
                                                ("tanh", "augmented", "none"),
                                                ("leaky_relu", "none", "batch")])
def test_init_params_draws_he_or_glorot_and_feeds_the_gradients(hidden, bias, norm):
    net = Network(activations=(hidden, "sigmoid"), loss="bce", bias=bias, norm=norm,
                  batch=True)
    g = export_numpy(net)
    widths = (400, 300, 2)
    params = g.init_params(widths, seed=5)
    again = g.init_params(list(widths), seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(params, again))
    W1 = params[0][:, :400]
    if hidden in ("relu", "leaky_relu"):         # He: N(0, 2 / n_0)
        assert abs(W1.std() / np.sqrt(2 / 400) - 1) < 0.02
    else:                                       # Glorot: U(±sqrt(6 / (n_0 + n_1)))
        bound = np.sqrt(6 / 700)
        assert W1.max() <= bound and W1.min() >= -bound and W1.max() > 0.99 * bound
    if bias == "augmented":
        assert not params[0][:, 400].any()
    names = [name for name, _, _ in g.module.PARAMS]
    for name, p in zip(names, params):
        if name.startswith(("b", "beta")):
            assert not p.any()
        if name.startswith("gamma"):
            assert (p == 1).all()
    X = np.random.default_rng(0).normal(size=(400, 3))
    grads = g.gradients(params, X, np.full((2, 3), 0.5))
    assert [d.shape for d in grads] == [p.shape for p in params]
    assert [p.dtype for p in g.init_params(widths, dtype=np.float32)] == [np.float32] * len(names)


def test_init_params_refuses_bad_widths_seed_and_dtype():
    fixed = export_numpy(Network(activations=("tanh", "sigmoid"), loss="bce", widths=(2, 3, 1)))
    assert [p.shape for p in fixed.init_params()] == [(3, 2), (1, 3)]
    for call, words in ((lambda: fixed.init_params((2, 4, 1)), r"widths must be \(2, 3, 1\)"),
                        (lambda: fixed.init_params((2, 3)), "widths must be a list of 3"),
                        (lambda: fixed.init_params((2, True, 1)), "widths must be a list"),
                        (lambda: fixed.init_params(seed=-1), "seed must be"),
                        (lambda: fixed.init_params(seed="a"), "seed must be"),
                        (lambda: fixed.init_params(dtype=int), "dtype must be a float")):
        with pytest.raises(ValueError, match=words):
            call()


# --- type hints and lint ---------------------------------------------------------------
def test_the_functions_are_typed():
    g = export_numpy(_net("softmax", "cce", dropout=True, norm="layer", weight_decay=True))
    for name in ("forward", "loss", "gradients", "loss_and_gradients", "train_step",
                 "init_params"):
        function = getattr(g.module, name)
        hints = typing.get_type_hints(function)
        arguments = function.__code__.co_varnames[:function.__code__.co_argcount
                                                  + function.__code__.co_kwonlyargcount]
        assert set(arguments) | {"return"} == set(hints), name


def _lint_sources():
    sources = {f"kinds_{i}": kinds_module(c).source for i, c in enumerate(ONCE)}
    sources.update({f"acts_{i}": module(*c).source for i, c in enumerate(CASES)})
    return sources


def test_every_generated_module_is_ruff_clean(tmp_path):
    """Over the option table and the activation/loss/bias table: pyflakes (no unused
    variable or import), pycodestyle, import order and bugbear, at line length 120."""
    ruff = shutil.which("ruff")
    if ruff is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ruff is not installed")
        pytest.skip("ruff is not installed")
    for name, source in _lint_sources().items():
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    run = subprocess.run([ruff, "check", "--isolated", "--no-cache", "--line-length", "120",
                          "--select", "F,E,W,I,B", "--ignore", "E741,B905",
                          "--output-format", "concise", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
