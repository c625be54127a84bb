"""`derive verify`: output and exit codes (SPEC §6).

The commands run in-process through `derive.cli.main.main` with captured output; the
first one also runs as a real `python -m derive` subprocess, which proves the entry
point gives the same output and exit code.
"""
import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from derive.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["verify", *args])
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def run_process(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "derive", "verify", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


BASE = ("--depth", "L", "--activation", "sigmoid", "--loss", "bce")


def test_holds_exits_0():
    out = run(*BASE, "--param", "W_L", "--claim", "(z_L - y) z_{L-1}^T")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HOLDS") and "correct form: (z_L - y) z_{L-1}^T" in out.stdout
    real = run_process(*BASE, "--param", "W_L", "--claim", "(z_L - y) z_{L-1}^T")
    assert (real.returncode, real.stdout, real.stderr) == (0, out.stdout, "")


def test_does_not_hold_exits_1_with_counterexample_and_correct_form():
    out = run(*BASE, "--param", "W_{L-1}", "--claim", "(W_L^T (z_L - y)) z_{L-2}^T")
    assert out.returncode == 1, out.stderr
    assert "DOES NOT HOLD" in out.stdout and "counterexample" in out.stdout
    assert "correct form: ((W_L^T (z_L - y)) ⊙ z_{L-1} ⊙ (1 - z_{L-1})) z_{L-2}^T" in out.stdout


def test_transposed_exits_1():
    out = run(*BASE, "--param", "W_L", "--claim", "z_{L-1}(z_L - y)")
    assert out.returncode == 1 and "holds if transposed" in out.stdout


def test_bad_claim_exits_2_with_one_line():
    out = run(*BASE, "--param", "W_L", "--claim", "(z_L - y")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "column 9" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_network_exits_2():
    out = run("--depth", "3", "--activation", "softmax", "--loss", "cce",
              "--param", "W_3", "--claim", "z_3 - y")
    assert out.returncode == 2 and "softmax" in out.stderr and "Traceback" not in out.stderr
    out = run("--depth", "zero", "--activation", "sigmoid", "--loss", "bce",
              "--param", "W_1", "--claim", "z_1")
    assert out.returncode == 2


@pytest.mark.slow
def test_options_activations_bias_batch_notation():
    out = run("--depth", "2", "--activations", "tanh,identity", "--loss", "sse",
              "--param", "W^2", "--claim", "2 (f - y) (h^1)^T", "--notation", "gh")
    assert out.returncode == 0, out.stdout + out.stderr
    out = run(*BASE, "--bias", "--param", "b_L", "--claim", "z_L - y")
    assert out.returncode == 0, out.stdout + out.stderr
    out = run(*BASE, "--batch", "--param", "W_L", "--claim", "(1/m) (z_L - y) z_{L-1}^T")
    assert out.returncode == 0, out.stdout + out.stderr
