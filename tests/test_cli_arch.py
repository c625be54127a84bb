"""``--arch``: the CLI builds a §1c network from its own options (derive.cli.architectures),
exports it, writes its derivation as text, and refuses options of another architecture
or a bad value in one line with exit status 2."""
import importlib.util

import numpy as np
import pytest

from derive import Network, export_numpy
from derive.cli.main import main

CONV1D = ["--arch", "conv1d", "--channels", "1,2", "--kernel", "2", "--pool", "max",
          "--pool-size", "2", "--length", "7", "--head-widths", "3,2"]


def _load(path):
    spec = importlib.util.spec_from_file_location("exported_conv", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_writes_the_module_of_the_network_the_options_name(tmp_path, capsys):
    path = tmp_path / "grads.py"
    assert main(["export", *CONV1D, "--activation", "tanh", "--loss", "cce", "-o",
                 str(path)]) == 0
    assert "conv1d" in capsys.readouterr().out
    module = _load(path)
    net = Network.conv1d(channels=(1, 2), kernel=2, pool="max", pool_size=2, length=7,
                         head_widths=(3, 2), activation="tanh", loss="cce")
    same = export_numpy(net)
    assert module.param_names == same.param_names
    assert module.param_shapes == same.param_shapes
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) for s in module.param_shapes]
    X, Y = rng.normal(size=(1, 7)), np.array([[0.3], [0.7]])
    J, grads = module.loss_and_gradients(params, X, Y)
    J2, grads2 = same.loss_and_gradients(params, X, Y)
    assert J == J2 and all(np.array_equal(a, b) for a, b in zip(grads, grads2))


def test_notes_as_text_lists_the_cotangents_and_gradients(capsys):
    assert main(["notes", *CONV1D, "--format", "text"]) == 0
    out = capsys.readouterr().out
    # notes' own defaults (sigmoid, bce) are the MLP's: conv1d keeps relu, softmax, cce
    assert out.startswith("Backpropagation for conv1d; channels 1, 2; kernel 2; length 7; "
                          "relu; max pool 2; head 3, 2; softmax; loss cce")
    assert "∂J/∂K_1 = corr(Z_0, ∂J/∂H_1)" in out
    assert "scatter(∂J/∂Z_1, S_1)" in out


@pytest.mark.parametrize("argv, message", [
    (["export", *CONV1D, "--widths", "2,3", "--loss", "cce"],
     "--widths is an option of --arch mlp, not of --arch conv1d"),
    (["export", "--channels", "1,2", "--activation", "relu", "--loss", "cce"],
     "--channels is an option of --arch conv1d"),
    (["export", *CONV1D, "--loss", "cce", "--pool", "min"],
     "--pool must be max, avg or none, got 'min'"),
    (["export", "--arch", "conv1d", "--channels", "1,x", "--loss", "cce"],
     "--channels must be positive integers separated by commas, got '1,x'"),
    (["export", *CONV1D, "--loss", "cce", "--length", "2"], "length 2 is too short"),
    (["export", *CONV1D, "--loss", "cce", "--target", "torch"],
     "the torch export of conv1d is not built yet"),
    (["notes", *CONV1D], "documents for conv1d are not built yet"),
    (["verify", *CONV1D, "--loss", "cce", "--param", "K_1", "--claim", "K_1"],
     "claims for conv1d are not built yet"),
    (["export", "--arch", "lstm", "--loss", "cce"], "unknown arch 'lstm'"),
])
def test_bad_options_are_refused_in_one_line(argv, message, capsys, tmp_path):
    if argv[0] == "export":
        argv = argv + ["-o", str(tmp_path / "x.py")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.py").exists()


def test_notes_certify_ends_the_text_with_the_certificate(capsys):
    argv = ["notes", "--arch", "conv1d", "--channels", "1,2", "--kernel", "2", "--length", "5",
            "--head-widths", "2", "--format", "text", "--certify"]
    assert main(argv) == 0
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    # K_1 2×1×2, b_1 2, W_3 2×8 (2 channels × 4 positions), b_3 2
    assert last.startswith("certified against the expanded loss: holds (24 gradient entries")


@pytest.mark.parametrize("argv, message", [
    (["notes", "--arch", "conv1d", "--format", "text", "--certify"],
     "--certify expands the loss in every trained entry: this network has 770, at most 40"),
    (["notes", "--format", "text", "--certify"], "--certify is an option of --arch conv1d|conv2d"),
    (["notes", *CONV1D, "--certify"], "--certify adds a line to --format text"),
])
def test_certify_beyond_its_bound_or_format_is_refused_in_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
