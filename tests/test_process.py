"""The process around the command line (issues 28 and 23): signals, the gallery's
manifest and reproducibility, symlinks, encodings, closed streams.

Each test runs a real ``python -m derive`` (or bash around it) where the process is the
point: the exit status, what reaches stdout and stderr, and what is left on disk.
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from derive.cli import gallery
from derive.cli.main import main
from derive.documents import pdf

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
MINIMAL_TEX = "\\documentclass{article}\n\\begin{document}\n$x \\odot y$\n\\end{document}\n"
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


# --- 28.1: case11 as a background job of a non-interactive shell; the Popen window -----
@pytest.mark.slow
def test_case11_passes_as_a_background_job_of_a_non_interactive_shell(tmp_path):
    """Such a shell starts its background jobs with SIGINT ignored (as a CI script may
    start the suite); the signal test must not depend on it."""
    if shutil.which("pdflatex") is None and not IN_CI:
        pytest.skip("pdflatex is not installed")
    test = "tests/test_bad_input_table.py::test_case11_a_signal_during_pdflatex_leaves_nothing_behind"
    script = (f'"{sys.executable}" -m pytest -n 0 -p no:cacheprovider -rA '
              f'"{test}" & wait $!')
    proc = subprocess.run(["bash", "-c", script], cwd=ROOT, env=_env(), capture_output=True,
                          timeout=600, preexec_fn=_default_signal_dispositions)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and out.count("PASSED tests/") == 2, out[-3000:]


def test_a_signal_right_after_pdflatex_starts_still_kills_it(tmp_path, monkeypatch):
    """A signal landing between pdflatex's start and the ``try`` that kills it (made
    certain here by sending it from inside Popen) leaves no pdflatex running."""
    if shutil.which("pdflatex") is None and not IN_CI:
        pytest.skip("pdflatex is not installed")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    started = []
    real_popen = subprocess.Popen

    def popen_then_signal(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc.pid)
        os.kill(os.getpid(), signal.SIGINT)
        return _identity(proc)                 # a call: where a pending handler runs

    monkeypatch.setattr(pdf.subprocess, "Popen", popen_then_signal)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            pdf.compile_pdf(MINIMAL_TEX)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert started and _running_under(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def _identity(x):
    return x


def _running_under(folder):
    """Live processes (not zombies) whose working folder is under ``folder``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(pid)
        except OSError:
            pass
    return found


# --- 28.3: the gallery's manifest and reproducible output -------------------------------
@pytest.fixture
def small_gallery(monkeypatch):
    """The gallery cut to one cheap entry and no catalogue (the logic is the same)."""
    one = [e for e in gallery.entries() if e.name == "003_one_node_linear"]
    monkeypatch.setattr(gallery, "entries", lambda: one)
    monkeypatch.setattr(gallery, "_catalogue", lambda owner, pdf: None)
    return one[0].name


def _files(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir()}


def test_the_manifest_lists_each_file_as_soon_as_it_is_written(tmp_path, monkeypatch,
                                                               small_gallery):
    real = gallery.Owner.update

    def checked(owner, name, data):
        real(owner, name, data)
        assert name in (tmp_path / gallery.MANIFEST).read_text().splitlines()
        if name.endswith(".md"):
            raise KeyboardInterrupt         # Ctrl-C after the .tex and the .md

    monkeypatch.setattr(gallery.Owner, "update", checked)
    with pytest.raises(KeyboardInterrupt):
        gallery.build(str(tmp_path), pdf=False)
    listed = (tmp_path / gallery.MANIFEST).read_text().splitlines()
    assert listed[1:] == [small_gallery + ".md", small_gallery + ".tex"]


def test_the_manifest_keeps_only_the_gallerys_own_names(tmp_path, small_gallery):
    own = [small_gallery + ".tex", "README.md"]
    junk = [b"../outside/victim.txt", b"/etc/hostname", b"a\x00b", b"\xff\xfe.tex",
            os.fsencode(str(tmp_path / "x")), b"x" * (1 << 20) + b"README.md.bak",
            (small_gallery + ".tex\x00").encode()]
    (tmp_path / gallery.MANIFEST).write_bytes(b"\n".join(junk + [n.encode() for n in own]))
    owner = gallery.Owner(str(tmp_path))
    assert owner.owned == set(own)
    gallery.build(str(tmp_path), pdf=False)
    lines = (tmp_path / gallery.MANIFEST).read_bytes().splitlines()
    names = set(gallery.targets(pdf=True))
    assert lines[0].startswith(b"#") and lines[1:] and all(n.decode() in names for n in lines[1:])


@pytest.mark.slow
def test_an_interrupted_gallery_with_pdfs_is_rerun_without_force(tmp_path, monkeypatch,
                                                                 small_gallery):
    """Ctrl-C after the first PDF: the rerun owns it (and would rebuild the same bytes)."""
    if shutil.which("pdflatex") is None and not IN_CI:
        pytest.skip("pdflatex is not installed")
    real = gallery.Owner.update

    def interrupted(owner, name, data):
        real(owner, name, data)
        if name.endswith(".pdf"):
            raise KeyboardInterrupt

    monkeypatch.setattr(gallery.Owner, "update", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gallery.build(str(tmp_path / "a"), pdf=True)
    monkeypatch.setattr(gallery.Owner, "update", real)
    first = _files(tmp_path / "a")
    time.sleep(1.1)                          # a PDF's date would differ now
    assert main(["-o", str(tmp_path / "a")]) == 0         # no --force
    gallery.build(str(tmp_path / "b"), pdf=True)
    again = _files(tmp_path / "a")
    assert again[small_gallery + ".pdf"] == first[small_gallery + ".pdf"]
    assert again == _files(tmp_path / "b")                 # two builds, byte for byte


@pytest.mark.slow
def test_notes_as_pdf_are_byte_reproducible(tmp_path):
    if shutil.which("pdflatex") is None and not IN_CI:
        pytest.skip("pdflatex is not installed")
    for name in ("a.pdf", "b.pdf"):
        proc = subprocess.run([sys.executable, "-m", "derive", "notes", "--depth", "1",
                               "--loss", "mse", "--format", "pdf", "-o", name],
                              cwd=tmp_path, env=_env(), capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        time.sleep(1.1)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
