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


# --- the depth comes from --activations or --widths when --depth is not given -----------
def test_issue_example_4_the_depth_is_the_number_of_activations():
    """mse's ½ taken for the batch mean's 1/m: judged (exit 1) with a hint, not refused."""
    out = run("--activations", "tanh,identity", "--loss", "mse", "--widths", "3,4,2",
              "--batch", "--param", "W_2", "--claim", "1/2 (z_2 - y) z_1^T")
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("DOES NOT HOLD") and out.stderr == ""
    hint = next(line for line in out.stdout.splitlines() if line.startswith("hint: "))
    assert "1/m" in hint
    assert "correct form: (1/m) (z_2 - y) z_1^T" in out.stdout
    right = run("--activations", "tanh,identity", "--loss", "mse", "--widths", "3,4,2",
                "--batch", "--param", "W_2", "--claim", "(1/m) (z_2 - y) z_1^T")
    assert right.returncode == 0, right.stdout + right.stderr


@pytest.mark.parametrize("depth_args", [("--activations", "tanh,identity"),
                                        ("--activation", "tanh", "--widths", "3,4,2")])
def test_activations_or_widths_give_the_depth_of_every_command(depth_args, tmp_path):
    """Depth 2: neither verify's default (L) nor notes' (3)."""
    out = run(*depth_args, "--loss", "mse", "--param", "W_2", "--claim", "W_2")
    assert out.returncode == 1 and "differs at L = 2" in out.stdout, out.stdout + out.stderr
    notes = tmp_path / "n.md"
    assert main(["notes", *depth_args, "--loss", "mse", "--format", "markdown",
                 "-o", str(notes)]) == 0
    assert "a 2-layer network" in notes.read_text(encoding="utf-8")
    code = tmp_path / "g.py"
    assert main(["export", *depth_args, "--loss", "mse", "-o", str(code)]) == 0
    assert "Network: depth 2;" in code.read_text(encoding="utf-8")
