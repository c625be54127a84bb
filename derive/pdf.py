"""Writing files whole or not at all, and compiling LaTeX to PDF with pdflatex."""
import os
import shutil
import subprocess
import tempfile

from .errors import DeriveError


def write_file(path, data, force=False):
    """Write ``data`` (str or bytes) to ``path`` via a temporary file in the same folder
    and `os.replace`, so the file is complete or absent. Refuses to replace an existing
    file unless ``force``."""
    path = os.fspath(path)
    if os.path.exists(path) and not force:
        raise DeriveError(f"{path} exists; pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=".derive-", dir=folder)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8",
                                                              "newline": "\n"})) as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
        with open(os.path.join(tmp, "notes.tex"), "w", encoding="utf-8") as fh:
            fh.write(tex)
        for _ in range(runs):
            proc = subprocess.run([exe, "-halt-on-error", "-interaction=nonstopmode",
                                   "notes.tex"], cwd=tmp, capture_output=True,
                                  timeout=timeout)
            if proc.returncode != 0:
                log = proc.stdout.decode("utf-8", "replace").splitlines()
                errors = [i for i, line in enumerate(log) if line.startswith("!")]
                start = errors[0] if errors else max(0, len(log) - 8)
                raise DeriveError("pdflatex failed: " + " | ".join(log[start:start + 4]))
        with open(os.path.join(tmp, "notes.pdf"), "rb") as fh:
            return fh.read()
