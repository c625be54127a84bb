"""Compiling LaTeX to PDF with pdflatex (files are written by `derive.util.files`)."""
import os
import shutil
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
            try:   # -no-shell-escape: a document never runs programs, whatever it says
                proc = subprocess.run([exe, "-no-shell-escape", "-halt-on-error",
                                       "-interaction=nonstopmode", "notes.tex"], cwd=tmp,
                                      capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise DeriveError(f"pdflatex did not finish within {timeout} s") from None
            if proc.returncode != 0:
                log = proc.stdout.decode("utf-8", "replace").splitlines()
                errors = [i for i, line in enumerate(log) if line.startswith("!")]
                start = errors[0] if errors else max(0, len(log) - 8)
                raise DeriveError("pdflatex failed: " + " | ".join(log[start:start + 4]))
        with open(os.path.join(tmp, "notes.pdf"), "rb") as fh:
            return fh.read()
