"""Every gallery .tex, and a few more documents, compile with pdflatex -halt-on-error.
Skipped only when pdflatex is missing outside CI; in CI (CI=true) a missing pdflatex
fails."""
import shutil
from pathlib import Path

import pytest
from conftest import IN_CI

from derive import Network, backprop, render
from derive.documents.pdf import compile_pdf
from derive.errors import DeriveError

OUTPUT = Path(__file__).resolve().parent.parent / "output"


def _need_pdflatex():
    if shutil.which("pdflatex") is None:
        if IN_CI:
            pytest.fail("pdflatex is required in CI")
        pytest.skip("pdflatex is not installed")


@pytest.mark.parametrize("tex", sorted(OUTPUT.glob("*.tex")), ids=lambda p: p.stem)
def test_gallery_tex_compiles(tex):
    _need_pdflatex()
    assert compile_pdf(tex.read_text(encoding="utf-8"), runs=1).startswith(b"%PDF")


def test_gallery_is_not_empty():
    assert len(list(OUTPUT.glob("*.tex"))) >= 10


@pytest.mark.parametrize("notation", ["hz", "gh", "pq", "za"])
def test_other_documents_compile(notation):
    _need_pdflatex()
    net = Network(activations=("relu", "tanh", "softmax"), loss="cce", bias="explicit",
                  batch=True)
    assert compile_pdf(render(backprop(net), "latex", notation=notation), runs=1).startswith(b"%PDF")


def test_broken_document_is_a_clear_error():
    _need_pdflatex()
    with pytest.raises(DeriveError, match="pdflatex failed"):
        compile_pdf(r"\documentclass{article}\begin{document}\undefinedmacro\end{document}",
                    runs=1)


def test_notes_command(tmp_path):
    from derive.cli.main import main
    out = tmp_path / "n.md"
    assert main(["notes", "--depth", "2", "--format", "markdown", "-o", str(out)]) == 0
    assert out.read_text().startswith("# ") and (tmp_path / "n.svg").exists()
    assert main(["notes", "--depth", "2", "--format", "markdown", "-o", str(out)]) == 2
    first = out.read_text()
    assert main(["notes", "--depth", "2", "--format", "latex", "-o", str(out),
                 "--force"]) == 2                     # LaTeX into a .md file: refused
    assert out.read_text() == first
    assert main(["notes", "--depth", "2", "-o", str(out), "--force", "--notation", "za"]) == 0
    assert out.read_text().startswith("# ") and out.read_text() != first   # replaced
    assert main(["notes", "--depth", "2", "--format", "html"]) == 2
    assert main(["notes", "--depth", "3", "--activations", "tanh,sigmoid"]) == 2
    assert not list(tmp_path.glob(".derive-*"))


def test_notes_pdf(tmp_path):
    _need_pdflatex()
    from derive.cli.main import main
    out = tmp_path / "n.pdf"
    assert main(["notes", "--depth", "L", "--activation", "tanh", "--output-activation",
                 "identity", "--loss", "mse", "--notation", "gh", "--format", "pdf",
                 "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_notes_text(capsys):
    from derive.cli.main import main
    assert main(["notes", "--depth", "2", "--format", "text"]) == 0
    assert "z_2 − y" in capsys.readouterr().out
