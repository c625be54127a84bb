"""The command line's conventions (issue 23.4) and the template workflow (22.5, 23.5)
where they succeed: the refusals are rows of ``test_bad_input_table.py``.

- ``--format`` follows ``-o``'s extension unless given (a name without a known
  extension keeps the default);
- a ``--templates`` file that replaces no shipped template is one warning line naming it
  (with the closest shipped name), and the document is still written; a file that does
  replace one gives no warning;
- the shipped templates themselves render in the sandbox (every format, every kind of
  step: the gallery's documents are rendered by their own tests through the same
  environment).
"""
import os
import shutil

import pytest

from derive.cli.main import main
from derive.util.templates import Sandbox, environment, shipped_names, unmatched

NOTES = ["notes", "--depth", "2", "--activation", "sigmoid", "--loss", "bce"]


def _kind(data):
    """What a written document is, read from its own bytes."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"\\documentclass"):
        return "latex"
    if data.startswith(b"# "):
        return "markdown"
    return "text"


@pytest.mark.parametrize("name, fmt, kind", [
    ("n.tex", None, "latex"), ("n.md", None, "markdown"), ("n.markdown", None, "markdown"),
    ("n.txt", None, "text"), ("N.TEX", None, "latex"), ("notes", None, "latex"),
    ("notes", "markdown", "markdown"), ("n.tex", "latex", "latex"),
])
def test_the_format_follows_the_extension(tmp_path, capsys, name, fmt, kind):
    argv = NOTES + ["-o", str(tmp_path / name)] + (["--format", fmt] if fmt else [])
    assert main(argv) == 0
    assert _kind((tmp_path / name).read_bytes()) == kind
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_pdf_name_gives_a_pdf(tmp_path):
    if shutil.which("pdflatex") is None and os.environ.get("CI") != "true":
        pytest.skip("pdflatex is not installed")
    assert main(["notes", "--depth", "1", "-o", str(tmp_path / "n.pdf")]) == 0
    assert _kind((tmp_path / "n.pdf").read_bytes()) == "pdf"


def test_the_catalogue_and_export_follow_their_extension(tmp_path, capsys):
    assert main(["catalogue", "--expr", "y^T A x", "--wrt", "A", "-o",
                 str(tmp_path / "c.md")]) == 0
    assert _kind((tmp_path / "c.md").read_bytes()) == "markdown"
    assert main(["export", "--widths", "2,1", "--activation", "tanh", "--loss", "mse", "-o",
                 str(tmp_path / "g")]) == 0            # no extension: still the module
    assert (tmp_path / "g").read_text().startswith('"""')


def _override(folder, name, text="MINE\n"):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_an_override_that_replaces_nothing_is_one_warning_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _override(tmp_path / "T", "notes/step/delta.j2")          # "step", not "steps"
    assert main(NOTES + ["--templates", "T", "-o", "n.tex"]) == 0
    err = capsys.readouterr().err
    assert err == ("derive: warning: T/notes/step/delta.j2 replaces no shipped template "
                   "(did you mean T/notes/steps/delta.j2?); it is used only where another "
                   "template includes it\n")
    assert (tmp_path / "n.tex").read_text().startswith("\\documentclass")


def test_an_override_that_replaces_a_template_is_used_without_a_warning(tmp_path, capsys):
    _override(tmp_path, "notes/steps/delta.j2", "MINE for layer <<m(b.layer)>>\n")
    assert main(NOTES + ["--templates", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "MINE for layer" in captured.out
    assert unmatched(str(tmp_path)) == []


def test_unmatched_names_each_stray_file_and_the_closest_shipped_name(tmp_path):
    _override(tmp_path, "notes/steps/delta.j2")
    _override(tmp_path, "notes/latex/documnt.j2")
    _override(tmp_path, "zzz/unrelated.txt")
    _override(tmp_path, ".git/HEAD")                       # hidden: a shared folder's git
    assert "notes/latex/document.j2" in shipped_names()
    assert unmatched(str(tmp_path)) == [
        (str(tmp_path / "notes/latex/documnt.j2"), "notes/latex/document.j2"),
        (str(tmp_path / "zzz/unrelated.txt"), None)]


@pytest.mark.parametrize("syntax", ["latex", "python"])
def test_every_environment_is_the_sandbox(syntax, tmp_path):
    assert isinstance(environment(syntax), Sandbox)
    assert isinstance(environment(syntax, str(tmp_path)), Sandbox)


def test_the_same_relative_folder_in_another_place_is_another_folder(tmp_path, monkeypatch):
    for place, text in (("a", "FIRST\n"), ("b", "SECOND\n")):
        _override(tmp_path / place / "T", "notes/steps/delta.j2", text)
        monkeypatch.chdir(tmp_path / place)
        source = environment("latex", "T").get_template("notes/steps/delta.j2").render()
        assert source == text
