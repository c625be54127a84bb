"""Jupyter (issue 23.3), through IPython's own display formatter (no kernel needed; the
kernel round trip is tests/test_notebook.py):

- a SymPy expression holding our nodes prints whole with the notes' printer (⊙, ⊤), as
  the box of the same derivation writes it, F for gh's output layer; a free matrix
  expression (a `matrix_derivative` result) with the catalogue's; anything else as
  SymPy would, also after `sympy.init_printing`;
- a Verdict shows its hint, says "holds" once, a catalogue verdict its sizes;
- a MatrixDerivation shows its own title and steps, not the catalogue's, and counts
  entries as ``m.certify()`` does;
- Network (every option, in its repr too), Certificate, Step, GradientModule display;
- a claim's typo raises from the entry point, without the parser's frames, with a caret.
"""
import dataclasses
import traceback
from pathlib import Path

import pytest
import sympy

from derive import (
    ClaimError,
    Network,
    backprop,
    export_numpy,
    matrix_derivative,
    verify,
    verify_identity,
)
from derive.api import use_notation
from derive.documents import ipython
from derive.documents.notebook import remember, summary_markdown
from derive.printing.matrix_latex import CatalogueLatexPrinter

InteractiveShell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def show():
    """{mime: data} of what a notebook shows for an object."""
    shell = InteractiveShell.instance()
    assert ipython.install(shell)
    return lambda obj: shell.display_formatter.format(obj)[0]


NET = Network.uniform(depth=3, activation="sigmoid", loss="bce")
D = backprop(NET)


def _body(tex):
    assert tex.startswith("$\\displaystyle ") and tex.endswith("$")
    return tex[len("$\\displaystyle "):-1]


@pytest.mark.parametrize("kind, layer", [("delta", 2), ("delta", 1), ("W", 1), ("W", 3)])
def test_a_result_prints_as_the_box_writes_it(show, kind, layer):
    expr = D.delta(layer) if kind == "delta" else D.grad(kind, layer)
    tex = _body(show(expr)["text/latex"])
    assert tex == D.equation(kind, layer).split(" = ", 1)[1]
    assert r"\circ" not in tex and "^{T}" not in tex
    if kind == "delta" and layer < 3:
        assert r"\odot" in tex and r"^{\top}" in tex


def test_gh_prints_the_output_layer_as_f_like_its_summary(show):
    # the same expression is a result of deeper networks too: the newest derivation
    # holding it names the depth, so this test makes D the newest (it ran after other
    # derivations on the same worker and read depth 4)
    remember(D)
    try:
        use_notation("gh")
        tex = _body(show(D.grad("W", 3))["text/latex"])
        box = summary_markdown(D, notation="gh")
    finally:
        use_notation()
    assert "F" in tex and "{3}" not in tex and tex in box


def test_free_matrix_expressions_print_with_the_catalogue_printer(show):
    m = matrix_derivative("x^T A x", "x")
    tex = _body(show(m.result)["text/latex"])
    assert tex == CatalogueLatexPrinter().doprint(m.result)
    assert r"\mathbf{x}" in tex and r"A^{\top}" in tex


def test_other_expressions_print_as_sympy_would_also_after_init_printing(show):
    a = sympy.Symbol("alpha") + 1
    assert show(a)["text/latex"] == a._repr_latex_()
    sympy.init_printing()       # registers for Basic: ours, for Expr and MatrixExpr, win
    try:
        tex = _body(show(D.delta(2))["text/latex"])
        assert r"\odot" in tex
        assert show(a)["text/latex"] == f"$\\displaystyle {sympy.latex(a)}$"
    finally:
        InteractiveShell.instance().display_formatter.formatters["text/latex"].pop(
            sympy.Basic, None)


# --- verdicts ---------------------------------------------------------------------------
SIG_MSE = Network.uniform(depth=2, activation="sigmoid", loss="mse")


def test_a_verdict_shows_its_hint():
    v = verify(SIG_MSE, "W_2", "(z_2 - y) z_1^T")
    assert v.hint
    md = v._repr_markdown_()
    assert "*Hint:* a missing ⊙ σ'(h\\_2) factor" in md
    assert md.count("a missing") == 1


def test_holds_is_said_once():
    v = verify(SIG_MSE, "W_2", "((z_2 - y) * sigma'(h_2)) z_1^T")
    md = v._repr_markdown_()
    assert md.startswith("**HOLDS**") and "holds" not in md.lower().replace("**holds**", "")
    assert "$L = 2$" in md and "$n = (5, 3, 2)$" in md


def test_a_catalogue_verdict_shows_the_sizes_it_checked():
    v = verify_identity("d/dA (y^T A x)", "y x^T")
    md = v._repr_markdown_()
    assert "L = ;" not in md and "L = ." not in md
    for name, size in v.checked[0].items():
        assert f"${name} = {size}$" in md


# --- a matrix derivation ------------------------------------------------------------------
def test_a_matrix_derivation_shows_its_own_steps_and_the_certificate_count():
    m = matrix_derivative("y^T A x", "A")
    md = m._repr_markdown_()
    intro = (ROOT / "templates/catalogue/intro.j2").read_text(encoding="utf-8")
    assert not md.startswith("#") and "# A catalogue" not in md
    assert intro.split(".")[0] not in md
    assert "y^T A x" in md and r"\boxed{" in md
    assert f"{m.certify().entries} entries" in md


# --- the smaller objects -------------------------------------------------------------------
def test_a_network_shows_every_option():
    a = Network.uniform(depth=3, activation="relu", loss="mse")
    b = Network.uniform(depth=3, activation="relu", loss="mse", norm="layer", dropout=True,
                        residual=True, weight_decay=True)
    assert repr(a) != repr(b)
    for f in dataclasses.fields(Network):
        assert f"{f.name}=" in repr(b)
        assert f"`{f.name}`" in b._repr_markdown_()
    assert "`'layer'`" in b._repr_markdown_()


def test_certificate_step_and_module_display(show):
    cert = backprop(Network.uniform(depth=2, activation="tanh", loss="sse")).certify(
        widths=(2, 2, 1))
    md = show(cert)["text/markdown"]
    assert md.startswith("**Certified**") and f"{cert.entries} entries" in md
    step = next(s for s in D.steps if s.topic == "forward")
    tex = show(step)["text/latex"]
    assert tex.startswith("$$") and step.rule in tex
    g = export_numpy(Network.uniform(depth=2, activation="tanh", loss="bce", output="sigmoid",
                                     dropout=True))
    md = show(g)["text/markdown"]
    for name in ("forward", "train_step", "init_params", "train=True", "check_values=True"):
        assert name in md
    assert "[0, 1]" in md and "ArrayLike" not in md


# --- a typo in a claim ---------------------------------------------------------------------
@pytest.mark.parametrize("call, text", [
    (lambda: verify(SIG_MSE, "W_2", "(z_2 - y) z_1^T)"), "(z_2 - y) z_1^T)"),
    (lambda: verify_identity("d/dA (y^T A x)", "y x^T +"), "y x^T +"),
    (lambda: matrix_derivative("y^T A x)", "A"), "y^T A x)")],
    ids=["verify", "verify_identity", "matrix_derivative"])
def test_a_claim_error_comes_from_the_call_with_a_caret(call, text):
    with pytest.raises(ClaimError) as info:
        call()
    exc = info.value
    files = {Path(f.filename).parent.name for f in traceback.extract_tb(exc.__traceback__)}
    assert "claims" not in files and "matrix" not in files, files
    assert exc.__cause__ is None and exc.__suppress_context__
    if hasattr(exc, "add_note"):
        line, caret = exc.__notes__[-1].splitlines()
        assert line.strip() == text
        assert caret.index("^") == line.index(text) + exc.column - 1


def test_the_correct_form_is_in_the_notes_typography():
    net = Network.uniform(depth=2, activation="tanh", loss="mse", norm="layer")
    v = verify(net, "W_1", "delta_1 x^T")
    assert "hhat" in v.correct and "xhat" in v.correct        # the claim syntax's names
    md = v._repr_markdown_()
    correct = md.split("The correct form:")[1]
    assert "hhat" not in correct and "xhat" not in correct and "gamma_" not in correct
    assert r"\hat{h}" in correct and r"\hat{x}" in correct and r"\boldsymbol{\gamma}" in correct
    assert r"\mathbf{z}_{2}" in correct and r"\mathbf{x}^{\top}" in correct


def test_explicit_matrices_are_left_to_sympy(show):
    M = sympy.ImmutableMatrix([[1, 2], [3, 4]])
    assert show(M)["text/latex"] == M._repr_latex_()
