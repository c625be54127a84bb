"""Files (ISSUE 7.3): every write goes through `derive.util.files.write_atomic`.

(a) an existing file is untouched without --force and the exit status is 2;
(b) a failure while rendering or writing leaves no file and no temporary file, and a
    forced overwrite that fails leaves the old file whole;
(c) missing parent folders are created;
plus: a folder or a file in the way is a one-line error, and the package source writes
files nowhere else (a grep of derive/*.py).
"""
import os
import re
import shutil
from pathlib import Path

import pytest

from derive import DeriveError
from derive.cli.main import main
from derive.util import files
from derive.util.files import write_atomic

PACKAGE = Path(__file__).resolve().parent.parent / "derive"
NOTES = ["notes", "--depth", "2", "--activation", "sigmoid", "--loss", "bce"]
EXPORT = ["export", "--widths", "2,3,1", "--activations", "tanh,sigmoid", "--loss", "bce"]


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*"))


def no_temp_files(folder):
    return not [p for p in Path(folder).rglob("*") if p.name.startswith(files.TEMP_PREFIX)]


# --- the helper ------------------------------------------------------------------------
def test_write_atomic_writes_text_and_bytes_whole(tmp_path):
    write_atomic(tmp_path / "a.txt", "é\nline\n")
    write_atomic(tmp_path / "b.pdf", b"%PDF\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "é\nline\n".encode("utf-8")
    assert (tmp_path / "b.pdf").read_bytes() == b"%PDF\x00\xff"
    assert oct((tmp_path / "a.txt").stat().st_mode & 0o777) != oct(0o600)  # a normal mode
    assert listing(tmp_path) == ["a.txt", "b.pdf"]


def test_write_atomic_refuses_an_existing_file_without_force(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("keep me")
    with pytest.raises(DeriveError, match="exists; pass --force"):
        write_atomic(target, "new")
    assert target.read_text() == "keep me"
    write_atomic(target, "new", force=True)
    assert target.read_text() == "new" and listing(tmp_path) == ["keep.txt"]


@pytest.mark.parametrize("failure", ["encoding", "interrupt", "disk"])
def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, failure):
    target = tmp_path / "out.tex"
    data = "ok"
    if failure == "encoding":
        data = "half written \udc80"            # cannot be encoded: fails mid-write
    elif failure == "interrupt":
        def interrupted(src, dst):
            raise KeyboardInterrupt
        monkeypatch.setattr(files.os, "replace", interrupted)
    else:
        def full(src, dst):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(files.os, "replace", full)
    expected = {"encoding": UnicodeEncodeError, "interrupt": KeyboardInterrupt,
                "disk": DeriveError}[failure]
    with pytest.raises(expected):
        write_atomic(target, data)
    assert listing(tmp_path) == []


def test_a_failed_forced_overwrite_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "notes.md"
    target.write_text("old, whole")
    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new" * 1000, force=True)
    assert target.read_text() == "old, whole" and listing(tmp_path) == ["notes.md"]


def test_folders_are_created_and_obstacles_named(tmp_path):
    write_atomic(tmp_path / "a" / "b" / "c.txt", "deep")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "deep"
    with pytest.raises(DeriveError, match="is a folder"):
        write_atomic(tmp_path / "a", "x", force=True)
    with pytest.raises(DeriveError, match="c.txt is a file, not a folder"):
        write_atomic(tmp_path / "a" / "b" / "c.txt" / "d.txt", "x")
    assert listing(tmp_path) == ["a", "a/b", "a/b/c.txt"]


# --- the command line ------------------------------------------------------------------
@pytest.mark.parametrize("argv, name", [
    (NOTES + ["--format", "latex"], "n.tex"),
    (NOTES + ["--format", "markdown"], "n.md"),
    (NOTES + ["--format", "text"], "n.txt"),
    (NOTES + ["--format", "pdf"], "n.pdf"),
    (EXPORT, "g.py"),
])
def test_cli_leaves_an_existing_file_untouched_without_force(tmp_path, capsys, argv, name):
    target = tmp_path / name
    target.write_text("keep me")
    os.utime(target, (1_000_000, 1_000_000))
    assert main(argv + ["-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists; pass --force" in err and str(target) in err
    assert target.read_text() == "keep me" and target.stat().st_mtime == 1_000_000
    assert listing(tmp_path) == [name]


def test_markdown_refuses_before_writing_when_only_its_diagram_exists(tmp_path, capsys):
    (tmp_path / "n.svg").write_text("keep me")
    assert main(NOTES + ["--format", "markdown", "-o", str(tmp_path / "n.md")]) == 2
    assert "n.svg exists" in capsys.readouterr().err
    assert listing(tmp_path) == ["n.svg"] and (tmp_path / "n.svg").read_text() == "keep me"
    assert main(NOTES + ["--format", "markdown", "-o", str(tmp_path / "n.md"), "--force"]) == 0
    assert (tmp_path / "n.svg").read_text().startswith("<svg")
    assert listing(tmp_path) == ["n.md", "n.svg"]


def test_markdown_output_named_like_its_diagram_is_refused(tmp_path, capsys):
    assert main(NOTES + ["--format", "markdown", "-o", str(tmp_path / "n.svg")]) == 2
    assert "diagram" in capsys.readouterr().err and listing(tmp_path) == []


def test_cli_creates_missing_folders(tmp_path):
    md = tmp_path / "a" / "b" / "notes.md"
    assert main(NOTES + ["--format", "markdown", "-o", str(md)]) == 0
    assert listing(tmp_path) == ["a", "a/b", "a/b/notes.md", "a/b/notes.svg"]
    assert main(EXPORT + ["-o", str(tmp_path / "c" / "g.py")]) == 0
    assert (tmp_path / "c" / "g.py").read_text().startswith('"""Gradients')


def test_a_failed_render_leaves_no_file(tmp_path, capsys, monkeypatch):
    import sys

    def broken(*args, **kwargs):
        raise KeyboardInterrupt            # Ctrl-C in the middle of rendering
    monkeypatch.setattr(sys.modules["derive.cli.notes_command"], "render", broken)
    assert main(NOTES + ["--format", "latex", "-o", str(tmp_path / "n.tex")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert listing(tmp_path) == []


def test_a_failed_pdflatex_leaves_no_file(tmp_path, capsys, monkeypatch):
    fake = tmp_path / "bin" / "pdflatex"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho '! Emergency stop.'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ["PATH"])
    out = tmp_path / "out"
    assert main(NOTES + ["--format", "pdf", "-o", str(out / "n.pdf")]) == 2
    err = capsys.readouterr().err
    assert "pdflatex failed" in err and "Emergency stop" in err and err.count("\n") == 1
    assert not (out / "n.pdf").exists() and no_temp_files(tmp_path)


def test_an_interrupted_export_write_leaves_no_file(tmp_path, capsys, monkeypatch):
    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(files.os, "replace", interrupted)
    assert main(EXPORT + ["-o", str(tmp_path / "g.py")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert listing(tmp_path) == []


def test_a_folder_as_output_is_a_one_line_error(tmp_path, capsys):
    assert main(NOTES + ["-o", str(tmp_path), "--force"]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and err.count("\n") == 1
    assert listing(tmp_path) == []


@pytest.mark.slow
@pytest.mark.xdist_group("gallery")
def test_the_gallery_overwrites_its_own_files_atomically(tmp_path, built_gallery):
    from derive.cli.gallery import build

    shutil.copytree(built_gallery, tmp_path, dirs_exist_ok=True)   # as the main job left it
    first = listing(tmp_path)
    tex = next(tmp_path.glob("*.tex"))
    original = tex.read_text()
    tex.write_text("stale")
    build(str(tmp_path), pdf=False)              # the main job regenerates output/
    assert tex.read_text() == original and listing(tmp_path) == first
    assert no_temp_files(tmp_path)


# --- the source writes nowhere else --------------------------------------------------------
WRITES = re.compile(r"""open\([^)]*["'][wax]b?\+?["']|\.write_text\(|\.write_bytes\(|"""
                    r"""os\.replace\(|os\.rename\(|shutil\.(copy|move)|mkstemp\(|"""
                    r"""NamedTemporaryFile\(""")


def test_only_files_py_writes_files():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "files.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITES.search(line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []
    assert WRITES.search('with open(p, "w") as fh:') and WRITES.search("os.replace(a, b)")
