"""Many command lines in one fresh interpreter, for tests about the command line's output
(exit status, stdout, stderr, files) rather than about the process around it.

``run_many`` starts one ``python`` (with this tree first on ``PYTHONPATH``) that imports
`derive.cli.main` once and runs ``main(argv)`` for each ``(folder, argv)`` in turn, in that
folder, with stdout and stderr captured; an exception escaping ``main`` is printed as the
interpreter would (a traceback on stderr, status 1). A cold import of derive costs about
a second, so N cases cost one import instead of N. Tests about the process itself
(signals, closed or full streams, encodings, the ``python -m derive`` entry point) keep
running the real entry point.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DRIVER = r"""
import contextlib, io, json, os, sys, traceback
from derive.cli.main import main
results = []
for folder, argv in json.load(sys.stdin):
    os.chdir(folder)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            traceback.print_exc()
            code = 1
    results.append([code, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(results))
"""


def run_many(calls, timeout=300, **extra_env):
    """[(status, stdout, stderr)] of ``main(argv)`` for each ``(folder, argv)`` of
    ``calls``, all in one child interpreter. Bytes in argv are decoded as the interpreter
    decodes its own argv (``os.fsdecode``: surrogate escapes for bytes not UTF-8)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               **extra_env)
    payload = json.dumps([[str(folder), [os.fsdecode(a) for a in argv]]
                          for folder, argv in calls])
    proc = subprocess.run([sys.executable, "-c", DRIVER], input=payload.encode("ascii"),
                          capture_output=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    return [tuple(r) for r in json.loads(proc.stdout)]
