"""The exported module: saturation, dtypes, input checks, standalone run, command line."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from export_cases import assert_finite_outputs, make_params, make_targets, module
from nets import valid_pairs

from derive import Network, export_numpy
from derive.cli.main import main

FLOATS = (np.float32, np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_bce_saturates_to_its_limit(dtype):
    """h = ±1000: J = Σ softplus(±1000) exactly, δ = z − y exactly, no warnings."""
    g = export_numpy(Network(activations=("sigmoid",), loss="bce"))
    W = np.array([[1000.0]], dtype=dtype)
    X = np.array([[1.0, -1.0, 1.0, -1.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = g.loss([W], X, Y)
        (dW,) = g.gradients([W], X, Y)
    assert J.dtype == dtype and dW.dtype == dtype
    assert J == pytest.approx(2000.0, rel=1e-6)      # two wrong answers at margin 1000
    np.testing.assert_array_equal(dW, [[1.0 * 1 + (-1.0) * (-1)]])  # δ = [1, −1, 0, 0]


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_cce_saturates_to_its_limit(dtype):
    g = export_numpy(Network(activations=("softmax",), loss="cce", bias="explicit",
                             batch=True))
    W = np.zeros((3, 1), dtype=dtype)
    b = np.array([[1000.0], [-1000.0], [0.0]], dtype=dtype)
    X = np.zeros((1, 2), dtype=dtype)
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = g.loss([W, b], X, Y)
        dW, db = g.gradients([W, b], X, Y)
    assert J.dtype == dtype and db.dtype == dtype
    assert J == pytest.approx((2000.0 + 0.0) / 2, rel=1e-6)   # the mean over 2 columns
    np.testing.assert_allclose(db, [[0.5], [-0.5], [0.0]], atol=1e-30)  # Σ (z − y) / m
    np.testing.assert_array_equal(dW, 0)


_UNSTABLE = {("softmax", "bce"): "log(1 − softmax) has no fused form in the rule tables"}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("pair", valid_pairs(), ids="-".join)
def test_logits_of_1000_give_finite_values(pair, dtype):
    out, loss = pair
    if pair in _UNSTABLE:
        pytest.xfail(_UNSTABLE[pair])
    g = module("tanh", out, loss, "explicit", True)
    rng = np.random.default_rng(0)
    params = make_params((2, 3, 3), "explicit", rng, dtype)
    params[3] = np.array([[1000.0], [-1000.0], [0.0]], dtype=dtype)   # output bias
    X = rng.normal(size=(2, 4)).astype(dtype)
    Y = make_targets(loss, out, 3, 4, rng, dtype)
    assert_finite_outputs(g, params, X, Y, dtype)


@pytest.mark.parametrize("pair", valid_pairs(), ids="-".join)
def test_float32_stays_float32_and_shapes_follow_params(pair):
    out, loss = pair
    g = module("relu", out, loss, "augmented", False)
    rng = np.random.default_rng(2)
    params = make_params((4, 5, 3), "augmented", rng, np.float32)
    X = rng.normal(size=(4, 7)).astype(np.float32)
    Y = make_targets(loss, out, 3, 7, rng, np.float32)
    grads = g.gradients(params, X, Y)
    assert [a.shape for a in grads] == [p.shape for p in params]
    assert all(a.dtype == np.float32 for a in grads)
    assert g.loss(params, X, Y).dtype == np.float32
    zs = g.forward(params, X)
    assert [z.shape for z in zs] == [(4, 7), (5, 7), (3, 7)]
    assert all(z.dtype == np.float32 for z in zs)


def test_bad_inputs_raise_a_clear_value_error():
    g = export_numpy(Network(activations=("tanh", "sigmoid"), loss="bce", bias="explicit",
                             widths=(3, 4, 2)))
    rng = np.random.default_rng(0)
    params = make_params((3, 4, 2), "explicit", rng)
    X, Y = rng.normal(size=(3, 5)), rng.uniform(size=(2, 5))
    with pytest.raises(ValueError, match="W2 must have shape"):
        g.gradients(params[:2] + [params[2].T] + params[3:], X, Y)
    with pytest.raises(ValueError, match="dtype float64"):
        g.gradients([p.astype(np.float32) if i == 1 else p for i, p in enumerate(params)],
                    X, Y)
    with pytest.raises(ValueError, match="X must have 3 rows"):
        g.forward(params, rng.normal(size=(4, 5)))
    with pytest.raises(ValueError, match="X must be a 2-D float array"):
        g.forward(params, np.ones((3, 5), dtype=int))
    with pytest.raises(ValueError, match="Y must be"):
        g.loss(params, X, Y[:, :4])
    with pytest.raises(ValueError, match="params must be a list of 4"):
        g.loss(params[:3], X, Y)


def test_source_says_which_equation_each_line_implements():
    source = export_numpy(Network.uniform(depth=3, activation="sigmoid", loss="bce")).source
    lines = source.splitlines()
    for code in ("delta3 = z3 - Y", "dW2 = delta2 @ z1.T", "delta1 = W2.T @ delta2"):
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(code))
        assert lines[at - 1].strip().startswith(("# δ_", "# ∂J/∂W_"))
    # the product W_2ᵀ δ_2 is a new array: σ'(h_1) multiplies into it in place
    at = lines.index("    delta1 = W2.T @ delta2")
    assert lines[at + 1] == "    delta1 *= z1*(1 - z1)"
    assert "z2*(1 - z2)" in source            # σ' from the stored output
    assert "np.logaddexp" in source           # the loss through log-sigmoid
    imports = [line for line in lines if line.startswith(("import", "from"))]
    assert imports == ["from collections.abc import Sequence", "import numpy as np",
                       "from numpy.typing import ArrayLike, DTypeLike"]


_ONLY_NUMPY = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("derive", "sympy", "jinja2", "mpmath"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
sys.path.insert(0, ".")
import numpy as np
import grads
rng = np.random.default_rng(0)
params = [rng.normal(size=(8, 5)), rng.normal(size=(8, 9)), rng.normal(size=(1, 9))]
X, Y = rng.normal(size=(4, 16)), rng.uniform(size=(1, 16))
g = grads.gradients(params, X, Y)
new = grads.train_step(params, X, Y, 0.5)
assert [a.shape for a in g] == [p.shape for p in params]
assert grads.loss(new, X, Y) < grads.loss(params, X, Y)
print("ok", float(grads.loss(params, X, Y)))
"""


def test_written_module_runs_with_only_numpy(tmp_path):
    target = tmp_path / "grads.py"
    argv = ["export", "--widths", "4,8,8,1", "--activation", "sigmoid", "--loss", "bce",
            "--bias", "augmented", "--batch", "-o", str(target)]
    assert main(argv) == 0
    env = {"PATH": os.environ.get("PATH", "")}
    run = subprocess.run([sys.executable, "-I", "-c", _ONLY_NUMPY], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ok")


def test_cli_never_overwrites_without_force(tmp_path, capsys):
    target = tmp_path / "g.py"
    target.write_text("keep me")
    argv = ["export", "--widths", "2,3,1", "--activations", "tanh,sigmoid", "--loss", "bce",
            "-o", str(target)]
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_text() == "keep me"
    assert main(argv + ["--force"]) == 0
    assert "def gradients" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["g.py"]     # no temp file left


@pytest.mark.parametrize("argv", [
    ["--widths", "4,x,1", "--activation", "tanh", "--loss", "mse"],
    ["--widths", "4,3,1", "--activation", "softmax", "--loss", "mse"],
    ["--widths", "4,3,1", "--activation", "tanh", "--loss", "cce"],
    ["--activation", "tanh", "--loss", "mse"],
])
def test_cli_bad_input_exits_2(argv, tmp_path, capsys):
    assert main(["export", *argv, "-o", str(tmp_path / "g.py")]) == 2
    assert capsys.readouterr().err.startswith("derive:")
    assert not (tmp_path / "g.py").exists()


def test_symbolic_depth_and_non_networks_are_refused():
    from derive import SpecError

    with pytest.raises(SpecError, match="concrete depth"):
        export_numpy(Network.uniform(depth="L", activation="tanh", loss="mse"))
    with pytest.raises(SpecError, match="takes a Network"):
        export_numpy("sigmoid")


def test_softmax_without_cancellation_works_column_by_column():
    """batch=False with m > 1: the softmax Jacobian (diag(z) − z zᵀ) applies per column."""
    single = module("tanh", "softmax", "mse", "none", False)
    batch = module("tanh", "softmax", "mse", "none", True)
    rng = np.random.default_rng(5)
    params = make_params((3, 4, 3), "none", rng)
    X = rng.normal(size=(3, 6))
    Y = make_targets("mse", "softmax", 3, 6, rng)
    for a, b in zip(single.gradients(params, X, Y), batch.gradients(params, X, Y)):
        np.testing.assert_allclose(a / 6, b, rtol=1e-12)
