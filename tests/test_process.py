"""The process around the command line (issues 28 and 23): signals, the gallery's
manifest and reproducibility, symlinks, encodings, closed streams.

Each test runs a real ``python -m derive`` (or bash around it) where the process is the
point: the exit status, what reaches stdout and stderr, and what is left on disk.
"""
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_PDFLATEX = "/nonexistent-derive-test-path"       # a PATH where pdflatex is not found


def _env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                **extra)


def _default_signal_dispositions():
    """SIGINT and SIGTERM at their defaults in the child (see test_case11)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(args, folder, **extra):
    return subprocess.Popen([sys.executable, "-m", "derive", *args], cwd=folder,
                            env=_env(**extra), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_signal_dispositions)


def _first_stderr_line(proc, timeout=60):
    ready, _, _ = select.select([proc.stderr], [], [], timeout)
    assert ready, "no progress line on stderr"
    return proc.stderr.readline()


# --- 28.2: the first SIGINT/SIGTERM starts the exit path; later ones are ignored -------
@pytest.mark.slow
@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"),
                                               (signal.SIGTERM, 143, "terminated")])
def test_a_burst_of_signals_gives_one_line_and_the_first_signals_status(tmp_path, sig,
                                                                         status, word):
    """Ctrl-C held down (or GNU timeout's SIGTERM to the child and then to its group): the
    signal arrives again and again while the exit path runs and writes its message."""
    proc = _start([], tmp_path, PATH=NO_PDFLATEX)                    # the gallery
    first = _first_stderr_line(proc)
    assert first.startswith(b"[1/"), first
    deadline = time.monotonic() + 30
    sent = 0
    while proc.poll() is None and time.monotonic() < deadline:
        proc.send_signal(sig)                  # the child is not reaped before poll says so
        sent += 1
        time.sleep(0.0005)
    out, err = proc.communicate(timeout=30)
    assert sent >= 2
    assert proc.returncode == status, err
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
    lines = err.decode().splitlines()
    assert [line for line in lines if not line.startswith("[")] == [f"derive: {word}"], err
    assert out == b""
