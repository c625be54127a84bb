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
import threading

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


#: TeX run before the document: no dates in the PDF's info and no trailer ID, so the
#: same .tex gives the same bytes (pdfTeX primitives; SOURCE_DATE_EPOCH is set as well)
REPRODUCIBLE = r"\pdfinfoomitdate=1 \pdftrailerid{} \input{notes.tex}"
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _environment():
    """pdflatex's environment: SOURCE_DATE_EPOCH fixed unless the caller set one."""
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    return env


def _pdflatex(exe, folder, timeout):
    """One pdflatex run in ``folder``: (exit status, its output). The process and any
    child of it are killed, as a group, if this is interrupted in any way: a SIGINT or
    SIGTERM arriving while it starts is held back until the ``try`` that kills it
    (`_Held`), so none lands between its start and that ``try``."""
    # -no-shell-escape: a document never runs programs, whatever it says
    args = [exe, "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode",
            "-jobname=notes", REPRODUCIBLE]
    with _Held() as held:
        proc = subprocess.Popen(args, cwd=folder, env=_environment(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=held.child_mask)
    try:
        held.deliver()                   # a signal that came while it started lands here
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise DeriveError(f"pdflatex did not finish within {timeout} s") from None
    except BaseException:
        _kill(proc)
        raise
    return proc.returncode, stdout


class _Held:
    """SIGINT and SIGTERM held back while a child starts.

    The signals are blocked in this thread (the child gets the caller's mask back before
    it runs pdflatex); in the main thread the Python handlers are also replaced by one
    that only records the signal, because a process-directed signal can reach another
    thread (Jupyter's, pytest-xdist's), whose flag the main thread acts on whatever its
    own mask. `deliver` puts everything back and raises what was held."""

    def __enter__(self):
        self.pending, self.handlers = [], {}
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                previous = signal.getsignal(sig)
                if callable(previous):
                    self.handlers[sig] = previous
                    signal.signal(sig, self._record)
        return self

    def _record(self, signum, frame):
        self.pending.append(signum)

    def child_mask(self):
        signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)

    def __exit__(self, kind, exc, tb):
        if kind is not None:             # Popen failed: nothing to kill, put all back
            self.deliver()
        return False

    def deliver(self):
        for sig, handler in self.handlers.items():
            signal.signal(sig, handler)
        self.handlers = {}
        signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)   # a blocked one lands here
        for sig in self.pending:
            signal.raise_signal(sig)
        self.pending = []


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
