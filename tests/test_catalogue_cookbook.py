"""The catalogue against The Matrix Cookbook (Petersen & Pedersen, 2012), derivatives
of traces and products with repeated factors and powers, of inverses and determinants:
each identity typed from the book (its equation number beside it) as the oracle,
derived, certified, and verified with wrong variants beside it; crashes become verdicts
or ClaimErrors; a user's large sizes are never expanded."""
from pathlib import Path

import pytest
from cli_batch import run_many

from derive import ClaimError, matrix_derivative, verify_identity

ROOT = Path(__file__).resolve().parent.parent

#: (expression, wrt, the book's derivative, a wrong variant)
COOKBOOK = [
    ("tr(X X)", "X", "2 X^T", "2 X"),                                  # (106)
    ("tr(X^2)", "X", "2 X^T", "X^T"),                                  # (106)
    ("tr(X^3)", "X", "3 (X^T)^{2}", "3 X^{2}"),                        # (107), k = 3
    ("tr(X X B)", "X", "X^T B^T + B^T X^T", "2 X^T B^T"),              # (109)
    ("tr(A X X)", "X", "A^T X^T + X^T A^T", "2 A^T X^T"),
    ("a^T X X b", "X", "X^T a b^T + a b^T X^T", "2 a b^T X^T"),
    ("a^T X^2 b", "X", "X^T a b^T + a b^T X^T", "X a b^T + a b^T X"),
    ("a^T X X X b", "X", "(X^T)^{2} a b^T + X^T a b^T X^T + a b^T (X^T)^{2}",
     "3 (X^T)^{2} a b^T"),
    ("b^T X^T X c", "X", "X (b c^T + c b^T)", "X b c^T"),               # (77)
    ("y^T A x", "A", "y x^T", "x^T y"),                                # (70)
    ("||X||_F^2", "X", "2 X", "X"),                                     # (133)
    ("||x||", "x", "x / ||x||", "x"),                                   # (129)
    ("||x - a||", "x", "(x - a) / ||x - a||", "(x - a) / ||x - a||^2"),  # (129)
    ("||A x - b||^2", "x", "2 A^T (A x - b)", "2 A (A x - b)"),
]


@pytest.mark.parametrize("expr, wrt, book, wrong", COOKBOOK)
def test_cookbook_identity_derived_certified_verified(expr, wrt, book, wrong):
    d = matrix_derivative(expr, wrt)
    cert = d.certify()
    assert cert.holds and cert.exact, cert.failures
    identity = f"d/d{wrt} ({expr})"
    assert verify_identity(identity, book).holds
    assert not verify_identity(identity, wrong).holds
    assert verify_identity(identity, verify_identity(identity, wrong).correct).holds


SQUARE = {"A": ("n", "n"), "B": ("n", "n"), "X": ("n", "n")}

#: inverses and determinants, (expression, wrt, shapes, the book's derivative, wrong
#: variants); the book writes ln|det X|, our log det X needs det X > 0 (the points
#: keep it so)
INVERSES = [
    ("det(X)", "X", None, "det(X) X^{-T}", ["det(X) X^{-1}", "det(X) X^T"]),        # (49)
    ("det(A X B)", "X", SQUARE, "det(A X B) X^{-T}",                                # (51)
     ["det(A X B) X^{-1}", "det(A X B) A^T B^T", "det(A X B) A^T X^{-T} B^T"]),
    ("det(X^T A X)", "X", None,                                                     # (54)
     "det(X^T A X) (A X (X^T A X)^{-1} + A^T X (X^T A^T X)^{-1})",
     ["2 det(X^T A X) A X (X^T A X)^{-1}", "det(X^T A X) A X (X^T A X)^{-1}"]),
    ("log det(X^T X)", "X", None, "2 X (X^T X)^{-1}", ["X (X^T X)^{-1}"]),           # (55)
    ("log det(X)", "X", None, "X^{-T}", ["X^{-1}", "-X^{-T}", "det(X) X^{-T}"]),     # (57)
    ("logdet(X)", "X", None, "(X^{-1})^T", ["X^T", "1/det(X) X^{-T}"]),             # (57)
    ("a^T X^{-1} b", "X", None, "-X^{-T} a b^T X^{-T}",                             # (61)
     ["-X^{-1} a b^T X^{-1}", "X^{-T} a b^T X^{-T}", "-X^{-T} b a^T X^{-T}"]),
    ("tr(A X^{-1} B)", "X", None, "-(X^{-1} B A X^{-1})^T",                         # (63)
     ["(X^{-1} B A X^{-1})^T", "-X^{-1} B A X^{-1}"]),
    ("tr(X^{-1})", "X", None, "-(X^{-2})^T", ["-X^{-2}", "(X^{-2})^T"]),           # (63), A = B = I
    ("det(X^{-1})", "X", None, "-det(X^{-1}) X^{-T}",                               # (62)
     ["det(X^{-1}) X^{-T}", "-det(X) X^{-T}"]),
    ("det(X^2)", "X", None, "2 det(X^2) X^{-T}", ["det(X^2) X^{-T}"]),             # (58), k = 2
    ("det(X^3)", "X", None, "3 det(X^3) X^{-T}", ["3 det(X^3) X^{-1}"]),           # (58), k = 3
]


@pytest.mark.parametrize("expr, wrt, shapes, book, wrongs", INVERSES)
def test_cookbook_inverse_and_determinant(expr, wrt, shapes, book, wrongs):
    d = matrix_derivative(expr, wrt, shapes)
    cert = d.certify()
    assert cert.holds, cert.failures
    identity = f"d/d{wrt} ({expr})"
    verdict = verify_identity(identity, book, shapes)
    assert verdict.holds, verdict.reason
    assert verify_identity(identity, verdict.correct, shapes).holds
    for wrong in wrongs:
        refused = verify_identity(identity, wrong, shapes)
        assert not refused.holds, wrong
        assert refused.reason.startswith(("differs", "shape mismatch")), refused.reason
        assert not refused.exact


def test_repeated_factor_claim_is_a_verdict_not_a_traceback():
    v = verify_identity("d/dX (a^T X b)", "X X a b^T", {"X": ("n", "n")})
    assert not v.holds and v.reason.startswith("differs")
    assert v.correct == "a b^T"


def test_a_power_of_a_non_square_matrix_is_a_claim_error():
    with pytest.raises(ClaimError, match="square"):
        matrix_derivative("a^T X^2 b", "X", {"X": (2, 3)})


def test_large_user_shapes_are_never_expanded():
    """The certificate runs at small sizes (1000 is checked, never expanded): a handful
    of entries, not a million (the time is benchmarks/verify_speed.py's business)."""
    d = matrix_derivative("y^T A x", "A", {"A": (1000, 1000)})
    cert = d.certify()
    assert cert.holds and cert.exact and cert.entries <= 16
    assert all(int(size) <= 4 for _, size in cert.widths)
    assert str(d.result) == "y*x.T" and str(d.wrt.shape[0]) == "1000"
    assert verify_identity("d/dA (y^T A x)", "y x^T", {"A": (1000, 1000)}).holds


def test_cli_large_shape_and_repeated_factor_claim():
    """The three command lines in one child interpreter (`cli_batch.run_many`); the
    catalogue through ``python -m derive`` itself runs in tests/test_process.py."""
    large, repeated, trace = run_many([(ROOT, ["catalogue", *args]) for args in (
        ["--expr", "y^T A x", "--wrt", "A", "--shape", "A=1000,1000"],
        ["--expr", "a^T X b", "--wrt", "X", "--shape", "X=n,n", "--claim", "X X a b^T"],
        ["--expr", "tr(X X)", "--wrt", "X"])], timeout=120)
    code, out, err = large
    assert code == 0 and "y x^T" in out, err
    code, out, err = repeated
    assert code == 1 and "DOES NOT HOLD" in out, err
    code, out, err = trace
    assert code == 0 and "2 X^T" in out, err
