"""Inverses, determinants and log-determinants in the catalogue (issue 13): the claim
syntax, the square-only shape rule, the index form whose derivative goes through
d(M⁻¹) = −M⁻¹ dM M⁻¹ and d det M = det M tr(M⁻¹ dM), the printers, and certificates
at points where every inverted matrix is regular. The Cookbook identities themselves
are rows of `tests/test_catalogue_cookbook.py`."""
import shutil
from functools import lru_cache

import pytest
from conftest import IN_CI, examples
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sympy import Determinant, Inverse, MatrixSymbol, Symbol, Transpose

from derive import ClaimError, matrix_derivative, verify_identity
from derive.calculus.numeric import value
from derive.claims.free_build import build_scalar
from derive.claims.free_names import parse_free
from derive.cli.catalogue_command import derivation_text
from derive.documents.catalogue import render_one
from derive.documents.pdf import compile_pdf
from derive.matrix.derivation import Checker, inverted
from derive.printing.matrix_latex import latex, to_claim, to_claim_latex

#: (expression, wrt): derived here, their correct forms printed and read back
EXPRESSIONS = [
    ("det(X)", "X"), ("log det(X)", "X"), ("a^T X^{-1} b", "X"), ("a^T X^{-T} b", "X"),
    ("tr(A X^{-1} B)", "X"), ("tr(X^{-2})", "X"), ("a^T X^{-2} b", "X"),
    ("det(X^{-1})", "X"), ("logdet(A X B)", "X"), ("log det(X^T X)", "X"),
    ("y^T (A^T A)^{-1} x", "A"), ("det(X) tr(X)", "X"), ("(a^T X b) det(X)", "X"),
]


#: the rows as parameters: one xdist group per row, so that one worker derives it
ROWS = [pytest.param(expr, wrt, marks=pytest.mark.xdist_group(f"inverse {expr}"))
        for expr, wrt in EXPRESSIONS]


# each row derived, certified and verified once per process, read by the tests below
@lru_cache(maxsize=None)
def _derived(expr, wrt):
    return matrix_derivative(expr, wrt)


@lru_cache(maxsize=None)
def _certificate(expr, wrt):
    return _derived(expr, wrt).certify()


@lru_cache(maxsize=None)
def _verdict(identity, form):
    return verify_identity(identity, form)


@pytest.mark.parametrize("expr, wrt", ROWS)
def test_derived_certified_and_read_back_in_both_claim_syntaxes(expr, wrt):
    d = _derived(expr, wrt)
    cert = _certificate(expr, wrt)
    assert cert.holds, cert.failures
    identity = f"d/d{wrt} ({expr})"
    for form in (to_claim(d.result), to_claim_latex(d.result)):
        assert _verdict(identity, form).holds, form


@pytest.mark.parametrize("expr, wrt", ROWS)
def test_exact_only_where_every_inverted_matrix_is_a_small_variable(expr, wrt):
    """"Proved exactly" is claimed only where the exact cancellation ran: an inverse or a
    determinant of a variable (or its transpose) at 2×2; otherwise numeric at 50 digits."""
    d = _derived(expr, wrt)
    sizes = d.sizes()
    concrete = d.expr.xreplace({k: v for k, v in sizes.items()})
    feasible = all(isinstance(M.arg if isinstance(M, Transpose) else M, MatrixSymbol)
                   and M.shape[0] <= 2 for M in inverted(concrete)[0])
    assert _certificate(expr, wrt).exact == feasible
    verdict = _verdict(f"d/d{wrt} ({expr})", to_claim(d.result))
    assert bool(verdict.exact) == feasible and verdict.checked


@pytest.mark.parametrize("expr, wrt", ROWS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_points_keep_every_inverted_matrix_regular(expr, wrt, seed):
    d = _derived(expr, wrt)
    check = Checker(d.scalar, d.wrt, d.sizes(), seed=seed, points=3)
    for point in check.points:
        for det, positive in check.determinants:
            v = value(det, point)
            assert (v > 0) if positive else (abs(v) > 1e-20)
    assert d.certify(seed=seed, exact=False).holds


def test_points_do_not_depend_on_the_order_of_the_names():
    a = matrix_derivative("a^T X^{-1} b", "X")
    b = matrix_derivative("b^T X^{-T} a", "X")
    pa = Checker(a.scalar, a.wrt, a.sizes(), seed=5).points
    pb = Checker(b.scalar, b.wrt, b.sizes(), seed=5).points
    assert pa == pb


@pytest.mark.parametrize("expr, wrt, message", [
    ("det(x)", "x", "determinant of a column vector: it must be square"),
    ("a^T (A x)^{-1} b", "A", "inverse of a column vector: it must be square"),
    ("a^T X^0 b", "X", "nonzero exponent"),
    ("det X", "X", "'\\(' after det"),
    ("logdet X", "X", "'\\(' after logdet"),
])
def test_non_square_and_malformed_are_claim_errors(expr, wrt, message):
    with pytest.raises(ClaimError, match=message):
        matrix_derivative(expr, wrt)


def test_given_non_square_shape_is_refused():
    with pytest.raises(ClaimError, match="square"):
        matrix_derivative("det(X)", "X", {"X": (2, 3)})
    with pytest.raises(ClaimError, match="square"):
        matrix_derivative("a^T X^{-1} b", "X", {"X": ("m", "n")})


def test_a_matrix_singular_everywhere_is_a_claim_error_not_a_traceback():
    d = matrix_derivative("a^T (b c^T)^{-1} a", "a")     # rank one: never invertible
    with pytest.raises(ClaimError, match="singular"):
        d.certify()


def test_a_claim_of_the_wrong_shape_is_a_verdict():
    v = verify_identity("d/dX (a^T X b)", "det(a) I", {"X": ("n", "n")})
    assert not v.holds and v.reason.startswith("shape mismatch")


def test_the_index_form_goes_through_the_inverse_entries():
    """∂ det X/∂X_cd = det X (X⁻¹)_dc: the contracted index form of 003's kind."""
    d = matrix_derivative("det(X)", "X")
    text = str(d.index_form)
    assert text == "det(X)*(X**(-1))[d, c]"
    assert latex(d.index_form) == r"\det\left(X\right) \left(X^{-1}\right)_{dc}"


def test_built_nodes_are_sympy_inverse_and_determinant():
    s = build_scalar(parse_free("log det(A X^{-1})"), "X")
    assert s.expr.args[0].func is Determinant
    assert any(isinstance(a, Inverse) for a in s.expr.args[0].arg.args)
    assert s.shapes["A"][0] == s.shapes["A"][1] == Symbol("m", integer=True, positive=True)


@pytest.mark.parametrize("expr, wrt", [("log det(X)", "X"), ("tr(A X^{-1} B)", "X"),
                                       ("det(X^{-1})", "X")])
def test_the_document_compiles(expr, wrt, tmp_path):
    if shutil.which("pdflatex") is None:
        if IN_CI:
            pytest.fail("pdflatex is required in CI")
        pytest.skip("pdflatex is not installed")
    d = matrix_derivative(expr, wrt)
    text = render_one(d, "latex")
    assert r"\det" in text or "^{-1}" in text
    assert compile_pdf(text).startswith(b"%PDF")


LEAVES = st.sampled_from(["A", "B", "x", "y", "2", "I"])


def _trees():
    return st.recursive(LEAVES, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" ", " + ", " - "]), inner)
        .map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        inner.map(lambda t: f"{t}^T"),
        inner.map(lambda t: f"{t}^{{-1}}"),
        inner.map(lambda t: f"det({t})"),
        inner.map(lambda t: f"log det({t})"),
        inner.map(lambda t: f"tr({t})"),
    ), max_leaves=4)


REFUSALS = ("square", "not a scalar", "shapes differ", "cannot multiply", "singular",
            "regular", "I is not fixed", "the sum of", "does not occur", "undefined")


@settings(max_examples=examples(40), deadline=None)
@given(_trees())
@example("det((A det(A)))")     # det(A)^m in the result: the CLI printed a traceback
@example("det((A - A))")        # SymPy's zero matrix: NonInvertibleMatrixError
@example("(A - A)^{-1}")
@example("log det(tr((A - A)))")   # log of 0: NaN in the index form
@example("(det(A) tr(I))^{-1}")    # the size of I in the correct form
def test_fuzz_inverses_and_determinants_derive_or_refuse(text):
    """Derived, certified and its correct form verified, or a ClaimError that names
    what is wrong (a shape, a singular matrix); never anything else."""
    try:
        d = matrix_derivative(text, "A")
        cert = d.certify(points=1, exact=False)
    except ClaimError as exc:
        assert any(word in str(exc) for word in REFUSALS), str(exc)
        return
    assert cert.holds, (text, cert.failures)
    last = derivation_text(d).splitlines()[-1]     # the terminal's text, no traceback
    assert last.startswith("certified at") and "holds" in last
    if not any(isinstance(s, Symbol) for s in d.result.free_symbols):   # sizes (m, the
        # n of an I) have no claim syntax; the names are MatrixSymbols
        assert verify_identity(f"d/dA ({text})", to_claim(d.result), points=1,
                               exact=False).holds
