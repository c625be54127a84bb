"""Compiling LaTeX to PDF with pdflatex (files are written by `derive.util.files`).

pdflatex runs in a temporary folder and in its own process group; whatever stops the
run (an error, a timeout, Ctrl-C, SIGTERM raised as an exception by the command line)
kills the whole group and removes the folder, so nothing is left behind.
"""
import os
import shutil
import signal
import subprocess
import tempfile

from ..errors import DeriveError
from ..util.files import write_atomic


def pdflatex_available():
    return shutil.which("pdflatex") is not None


def compile_pdf(tex, runs=2, timeout=120):
    """The PDF (bytes) of a complete .tex document; DeriveError if pdflatex is missing
    or the document does not compile (with the first error lines of the log)."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise DeriveError("pdflatex is not installed; install TeX Live "
                          "(texlive-latex-base, texlive-latex-recommended, texlive-pictures) "
                          "or use --format latex")
    with tempfile.TemporaryDirectory(prefix="derive-pdf-") as tmp:
        write_atomic(os.path.join(tmp, "notes.tex"), tex)
        for _ in range(runs):
            returncode, stdout = _pdflatex(exe, tmp, timeout)
            if returncode != 0:
                log = stdout.decode("utf-8", "replace").splitlines()
                errors = [i for i, line in enumerate(log) if line.startswith("!")]
                start = errors[0] if errors else max(0, len(log) - 8)
                raise DeriveError("pdflatex failed: " + " | ".join(log[start:start + 4]))
        with open(os.path.join(tmp, "notes.pdf"), "rb") as fh:
            return fh.read()


def _pdflatex(exe, folder, timeout):
    """One pdflatex run in ``folder``: (exit status, its output). The process and any
    child of it are killed, as a group, if this is interrupted in any way."""
    # -no-shell-escape: a document never runs programs, whatever it says
    proc = subprocess.Popen([exe, "-no-shell-escape", "-halt-on-error",
                             "-interaction=nonstopmode", "notes.tex"], cwd=folder,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise DeriveError(f"pdflatex did not finish within {timeout} s") from None
    except BaseException:
        _kill(proc)
        raise
    return proc.returncode, stdout


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
