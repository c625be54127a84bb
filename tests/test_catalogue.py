"""The rendered catalogue (LaTeX and Markdown) and `derive catalogue` on the command line.

The documents must show, for every entry of `derive.documents.catalogue.ENTRIES` and every
variable, the engine's own result (printed by our printer), numbered steps from index
notation to the matrix form, and a certificate (in the results table) that reflects a real
check.
"""
import re
import shutil

import pytest
from conftest import IN_CI

from derive.api import catalogue_derivations, matrix_derivative
from derive.cli.main import main
from derive.documents.catalogue import ENTRIES, render_catalogue, render_one
from derive.printing.matrix_latex import latex

PAIRS = [(e.expr, w) for e in ENTRIES for w in e.wrt]


@pytest.fixture(scope="module")
def documents():
    derived = catalogue_derivations()
    return {fmt: render_catalogue(fmt, derived) for fmt in ("latex", "markdown")}


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_every_result_appears_boxed(documents, fmt):
    text = documents[fmt]
    boxed = re.findall(r"\\boxed\{(.*?)\}(?: \\tag\{\d+\})?$", text, re.M)
    assert len(boxed) == len(PAIRS)
    for (expr, wrt), box in zip(PAIRS, boxed):
        d = matrix_derivative(expr, wrt)
        assert box.endswith("= " + latex(d.result, d.scalar.order)), (expr, wrt)


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_every_part_is_certified_exactly(documents, fmt):
    text = documents[fmt]
    assert text.count("certified exactly, ") == len(PAIRS)      # one row per part
    assert "NOT certified" not in text and "not checked" not in text


def test_equations_are_numbered_in_order(documents):
    """Only the definitions are numbered (one per entry): every part refers to its own."""
    tags = [int(n) for n in re.findall(r"\\tag\{(\d+)\}", documents["markdown"])]
    assert tags == [int(n) for n in re.findall(r"\\tag\{(\d+)\}", documents["latex"])]
    assert tags == list(range(1, len(ENTRIES) + 1))
    for fmt in ("latex", "markdown"):
        refs = [int(n) for n in re.findall(r"differentiate \((\d+)\)", documents[fmt])]
        assert refs == [k + 1 for k, e in enumerate(ENTRIES) for _ in e.wrt]


def test_each_section_walks_from_index_notation_to_matrix_form(documents):
    md = documents["markdown"]
    sections = md.split("\n## $C = ")[1:]
    assert len(sections) == len(ENTRIES)
    for section, entry in zip(sections, ENTRIES):
        assert section.count("### With respect to") == len(entry.wrt)
        assert "\\sum" in section or "\\operatorname{tr}" in section
        assert "\\mathbb{I}[" in section            # the indicator (KaTeX-safe), never a bare δ
        assert "\\delta" not in section


def test_render_one_and_notebook_display():
    d = matrix_derivative("1/2 x^T A^T A x", "A")
    md = d._repr_markdown_()
    assert "# A catalogue" not in md and render_one(d, "markdown").startswith("# A catalogue")
    assert "\\boxed{\\frac{\\partial C}{\\partial A} = A \\mathbf{x} \\mathbf{x}^{\\top}}" in md
    assert render_one(d, "latex").startswith("\\documentclass")


@pytest.mark.slow
def test_pdf_of_the_catalogue(tmp_path):
    if shutil.which("pdflatex") is None:
        if IN_CI:
            pytest.fail("pdflatex is required in CI")
        pytest.skip("pdflatex is not installed")
    out = tmp_path / "cat.pdf"
    assert main(["catalogue", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


# -- the command line --------------------------------------------------------------------
def test_cli_writes_a_document_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "sub" / "cat.md"
    assert main(["catalogue", "--expr", "y^T A x", "--wrt", "A", "-o", str(out)]) == 0
    written = out.read_text(encoding="utf-8")
    assert "\\boxed{\\frac{\\partial C}{\\partial A} = \\mathbf{y} \\mathbf{x}^{\\top}}" in written
    assert main(["catalogue", "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == written
    assert main(["catalogue", "-o", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8") != written


def test_cli_claims_exit_zero_or_one(capsys):
    assert main(["catalogue", "--expr", "1/2 x^T A^T A x", "--wrt", "A",
                 "--claim", "A x x^T"]) == 0
    assert main(["catalogue", "--expr", "1/2 x^T A^T A x", "--wrt", "A",
                 "--claim", "1/2 A x x^T"]) == 1
    out = capsys.readouterr().out
    assert "HOLDS" in out and "DOES NOT HOLD: differs" in out and "counterexample" in out


def test_cli_terminal_output():
    from derive.cli.catalogue_command import catalogue_text, derivation_text
    text = catalogue_text()
    assert len(text.splitlines()) == len(PAIRS)
    assert "dC/dA = A x x^T" in text and "NOT CERTIFIED" not in text
    steps = derivation_text(matrix_derivative("y^T sigma(A) x", "A"))
    assert "[Kronecker contraction]" in steps and steps.endswith("holds, exactly")


@pytest.mark.parametrize("argv,message", [
    (["--expr", "A x", "--wrt", "A"], "not a scalar"),
    (["--expr", "y^T A x"], "together"),
    (["--claim", "y x^T"], "--claim needs"),
    (["--expr", "y^T A x", "--wrt", "A", "--shape", "A=2"], "NAME=ROWS,COLS"),
    (["--expr", "y^T A x", "--wrt", "A", "--format", "docx"], "allowed"),
    (["--expr", "__import__('os').system('x')", "--wrt", "A"], "unexpected character"),
    (["--expr", "(" * 9000 + "x", "--wrt", "x"], "too long"),
    (["--expr", "(" * 5000 + "x", "--wrt", "x"], "nested too deeply"),
    (["--expr", "(" * 150 + "x^T x" + ")" * 150, "--wrt", "x"], "nested too deeply"),
])
def test_cli_bad_input_is_one_line_exit_two(argv, message, capsys):
    assert main(["catalogue"] + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_the_derivations_of_one_entry_share_their_size_letters():
    """yᵀABx: ∂/∂A and ∂/∂B are written with the same m, n, l as the shapes line."""
    from derive.api import catalogue_derivations as derivations
    for entry, ds in derivations():
        assert [d.wrt.name for d in ds] == list(entry.wrt)
        assert all(d.shapes == ds[0].shapes for d in ds), entry.expr
