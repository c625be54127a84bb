"""`verify_identity`: check a catalogue claim such as
``verify_identity("d/dA (1/2 x^T B^T A^T A B x)", "A B x x^T B^T")``.

Shape first (with the expression's symbolic sizes), then value: every entry of the
claim against the derivative of the fully expanded expression at small concrete sizes,
exactly (zero difference) and at random rational points with 50 digits. The verdict is
the `derive.claims.verdict.Verdict` of the network verifier: holds, a reason ("holds",
"differs", "shape mismatch: …; holds if transposed"), a counterexample and the correct
form in the claim syntax and in LaTeX.

>>> verify_identity("d/dA (y^T A x)", "y x^T").holds
True
>>> verify_identity("d/dA (y^T A x)", "x y^T").reason
'shape mismatch: the claim is n×m but ∂C/∂A is m×n; holds if transposed'
"""
from sympy import OneMatrix, Rational, Transpose
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..calculus.compare import TOLERANCE, exactly_zero
from ..calculus.numeric import value
from ..errors import ClaimError, as_claim_error
from ..ir.matrix_nodes import AsScalar, realize
from ..matrix.derivation import Checker, derive_scalar
from ..printing.matrix_latex import to_claim, to_claim_latex
from .free_build import build_claim, build_scalar
from .free_names import parse_derivative, parse_free, parse_wrt
from .shapes import ShapeMismatch
from .verdict import Verdict


@as_claim_error
def verify_identity(identity, claim, shapes=None, sizes=None, seed=0, points=2, exact=True):
    """Is ``claim`` the derivative ``identity`` ("d/dA (expression)") asks for?"""
    label, tree = parse_derivative(identity)
    return _verify(identity, label, tree, claim, shapes, sizes, seed, points, exact)


@as_claim_error
def verify_derivative(expr, wrt, claim, shapes=None, sizes=None, seed=0, points=2,
                      exact=True):
    """`verify_identity` for the expression and the variable given apart (what
    ``derive catalogue --expr … --wrt … --claim …`` asks): an error's column counts
    in ``expr`` or in ``claim`` as the user typed them, never in a wrapper.

    >>> verify_derivative("y^T A x", "A", "y x^T").holds
    True
    >>> verify_derivative("y^T A x)", "A", "y x^T")
    Traceback (most recent call last):
    ...
    derive.errors.ClaimError: expected an operator or the end of the claim, found ')' (column 8)
    """
    if not isinstance(expr, str):
        raise ClaimError(f"an expression must be text, got {type(expr).__name__}")
    label, tree = parse_wrt(wrt), parse_free(expr)
    return _verify(expr, label, tree, claim, shapes, sizes, seed, points, exact)


def _verify(text, label, tree, claim, shapes, sizes, seed, points, exact):
    if not isinstance(claim, str):
        raise ClaimError(f"a claim must be text, got {type(claim).__name__}")
    try:
        claim_tree = parse_free(claim)
    except ClaimError as exc:       # say which of the two texts the column is in
        message = str(exc).rsplit(" (column", 1)[0]
        raise ClaimError(f"the claim: {message}", column=exc.column) from None
    scalar = build_scalar(tree, label, shapes)
    d = derive_scalar(text, scalar, label)
    verdict = Verdict(False, "", correct=to_claim(d.result), correct_latex=to_claim_latex(d.result))
    name = f"∂C/∂{label}"
    try:
        claimed, shape = build_claim(scalar, claim_tree, label)
    except ShapeMismatch as exc:
        verdict.reason = f"shape mismatch: {exc}"
        return verdict
    target = d.wrt.shape
    if shape == (1, 1) and target != (1, 1):     # a scalar s stands for s times ones
        claimed = _scalar(claimed) * OneMatrix(*target)
        shape = target
    if shape != target:
        text = f"the claim is {_shape(shape)} but {name} is {_shape(target)}"
        if shape == target[::-1] and _compare(d, Transpose(claimed).doit(), sizes, seed,
                                              points, False).holds:
            text += "; holds if transposed"
        verdict.reason = f"shape mismatch: {text}"
        return verdict
    result = _compare(d, claimed, sizes, seed, points, exact)
    result.correct, result.correct_latex = verdict.correct, verdict.correct_latex
    if not result.holds:
        result.hint = _hint(d, claimed, sizes, seed, points)
    return result


#: catalogue repairs: (the repaired claim from the claim, the hint's words)
REPAIRS = (
    (lambda e: -e, "wrong sign: -(the claim) holds"),
    (lambda e: Rational(1, 2) * e, "off by a factor 2: (the claim)/2 holds"),
    (lambda e: 2 * e, "off by a factor 1/2: 2 (the claim) holds"),
    (lambda e: Transpose(e).doit(), "transposed: (the claim)^T holds"),
    (lambda e: -Transpose(e).doit(), "transposed, with the wrong sign: -(the claim)^T holds"),
)


def _hint(d, claimed, sizes, seed, points):
    """A factor, a sign or a transpose that makes the claim hold (verified at every size
    set, numerically), or ""."""
    if not isinstance(claimed, MatrixExpr):
        return ""
    for repair, words in REPAIRS:
        repaired = repair(claimed)
        if repaired.shape == d.wrt.shape and _compare(d, repaired, sizes, seed, points,
                                                      False).holds:
            return words
    return ""


def _scalar(e):
    return AsScalar(e) if isinstance(e, MatrixExpr) else e


def _shape(shape):
    return "×".join(str(s) for s in shape)


def _compare(d, claimed, sizes, seed, points, exact):
    """Entry by entry against the brute-force derivative, at every size set of
    `MatrixDerivation.size_sets`; the verdict lists the sets checked and those where the
    difference also cancelled exactly."""
    verdict = Verdict(True, "holds")
    for concrete in d.size_sets(sizes):
        where = {str(k): v for k, v in concrete.items()}
        verdict.checked.append(where)
        check = Checker(d.scalar, d.wrt, concrete, seed, points, [claimed])
        matrix = check.explicit(claimed) if isinstance(claimed, MatrixExpr) else None
        proved = exact and check.exact_feasible
        for (r, c), truth in check.truth.items():
            entry = matrix[r, c] if matrix is not None else claimed
            if check.gap(truth, entry) > TOLERANCE:
                verdict.holds, verdict.exact = False, []
                verdict.reason = f"differs at entry ({r + 1}, {c + 1})"
                verdict.counterexample = _counterexample(check, where, (r, c), truth, entry)
                return verdict
            if proved and not exactly_zero(truth - entry, expand_first=True):
                proved = False
        if proved:
            verdict.exact.append(where)
    return verdict


def _counterexample(check, sizes, at, truth, entry):
    """The first point where the claim and the true derivative differ, with values."""

    for point in check.points:
        a = value(realize(truth), point)
        b = value(realize(entry), point)
        if abs(a - b) > TOLERANCE * max(1, abs(a)):
            return {"sizes": sizes, "entry": (at[0] + 1, at[1] + 1),
                    "true": float(a), "claimed": float(b),
                    "point": {str(k): v for k, v in point.items()}}
    return None

