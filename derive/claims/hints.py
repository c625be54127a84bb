"""Diagnoses of a failing network claim (`Verdict.hint`, SPEC §3): each found by trying
a repair and verifying it, never by guessing.

A repair is first tried at the point where the claim failed (cheap: one evaluation);
a repair that matches there is then verified like any claim (every depth, widths and
batch size). The repairs, in order:

* a constant factor: 2, 1/2, −1, −2, −1/2, 1/m, m, 1/n_L, n_L (the ratio of truth to
  claim at the failing entry picks the candidates);
* the structural repairs of `derive.claims.repairs` (a transpose, a missing or extra
  factor, the activation derivative's form, a variable mistaken everywhere, softmax's
  Jacobian, a term's sign, weight decay), named in the claim's own notation.
"""
from dataclasses import replace

from sympy import Integer, Rational
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..calculus.compare import TOLERANCE, relative_gap
from ..errors import ClaimError
from ..printing.claim_text import to_claim
from ..vocab import BATCH
from .instances import Skip, claim_at
from .network_build import Builder, build
from .repairs import layer_text, nodes, repairs
from .shapes import ShapeMismatch

MAX_AT_POINT = 240      # repairs evaluated at the failing point, at most (a count)


def _scale(factor):
    return lambda expr, builder: factor(builder) * expr


#: (factor at a builder, hint text)
FACTORS = [
    (lambda b: Integer(2), "off by a factor 2: 2 × (the claim) holds"),
    (lambda b: Rational(1, 2), "off by a factor 1/2: (the claim)/2 holds"),
    (lambda b: Integer(-1), "wrong sign: −(the claim) holds"),
    (lambda b: Integer(-2), "off by a factor −2: −2 × (the claim) holds"),
    (lambda b: Rational(-1, 2), "off by a factor −1/2: −(the claim)/2 holds"),
    (lambda b: 1 / BATCH, "a missing 1/m (the mean over the batch): (1/m) × (the claim) holds"),
    (lambda b: BATCH, "an extra 1/m: m × (the claim) holds"),
    (lambda b: 1 / b.width(b.L), "a missing 1/n_L (the mean over the outputs): "
                                  "(1/n_L) × (the claim) holds"),
    (lambda b: b.width(b.L), "an extra 1/n_L: n_L × (the claim) holds"),
    (lambda b: 2 / BATCH, "off by a factor 2/m (a 1/2 where 1/m belongs?): "
                          "(2/m) × (the claim) holds"),
    (lambda b: b.width(b.L) / BATCH, "off by a factor n_L/m (1/n_L where 1/m belongs?): "
                                     "(n_L/m) × (the claim) holds"),
]
MAX_SHAPE_TRIES = 4     # structural repairs verified after a shape mismatch, at most
MAX_HINT_SWEEPS = 3     # repairs that match at the counterexample and are swept, at most
MAX_HINT_NODES = 120    # larger claims get no hint (each repair rebuilds the whole claim)


def diagnose(c, evidence, cex, seed, sweep):
    """A hint (text) for the failing claim ``c``, or "" when no repair verifies.
    ``sweep(claim, seed, exact)`` is the checker the repairs must pass."""
    sweeps = tried = 0    # counts, not a clock: the same hint under any load
    if sum(1 for _ in nodes(c.tree)) > MAX_HINT_NODES:
        return ""
    for candidate, text in _candidates(c, evidence, cex):
        if sweeps >= MAX_HINT_SWEEPS or tried >= MAX_AT_POINT:
            break
        tried += 1
        if not _matches_at(candidate, evidence, cex):
            continue
        sweeps += 1
        if sweep(candidate, seed, False)[0].holds:
            return text() if callable(text) else text
    return ""


def diagnose_shape(c, shape, seed, sweep):
    """A hint for a claim whose shape does not fit ``shape``: a structural repair (a
    transpose added, removed or moved, a missing factor) that fits and verifies."""
    tries = 0
    if sum(1 for _ in nodes(c.tree)) > MAX_HINT_NODES:
        return ""
    for tree, what in _repairs(c):
        try:
            expr, fits = build(tree, c.net, target=shape)
        except ClaimError:
            continue
        if fits != shape:
            continue
        tries += 1
        if sweep(replace(c, tree=tree), seed, False)[0].holds:
            return f"{what(namer(c))}: {to_claim(expr, c.notation)} holds"
        if tries >= MAX_SHAPE_TRIES:
            break
    return ""


def _candidates(c, evidence, cex):
    ratio = _ratio(evidence)
    inst = evidence.inst
    for factor, text in FACTORS:
        if ratio is not None:
            value = _at_instance(factor, c, cex, inst)
            if value is None or relative_gap(ratio, value) > 1e-20:
                continue
        yield replace(c, repair=_scale(factor)), text
    for tree, what in _repairs(c):
        candidate = replace(c, tree=tree)
        yield candidate, (lambda tree=tree, what=what:
                          f"{what(namer(c))}: {_text(c, tree)} holds")


def _repairs(c):
    net = c.net
    options = {name for name, on in (("dropout", net.dropout), ("norm", net.norm != "none"),
                                     ("decay", net.weight_decay), ("residual", net.residual),
                                     ("softmax", "softmax" in net.activations)) if on}
    depth = ("L", 0) if net.symbolic else (None, net.depth)
    return repairs(c.tree, c.pspec, options, c.kind, depth)


def namer(c):
    """(kind, layer spec) -> the name in the claim's notation (h_1, g^1, n_1, …)."""
    builder = Builder(c.net)

    def name(kind, spec):
        layer = builder.layer(spec)
        if kind == "width":
            return to_claim(builder.width(layer), c.notation)
        try:
            return to_claim(builder.var(kind, spec), c.notation)
        except ClaimError:
            return f"{kind}_{layer_text(spec)}"
    return name


def _text(c, tree):
    try:
        return to_claim(build(tree, c.net)[0], c.notation)
    except ClaimError:
        return "the repaired claim"


def _ratio(evidence):
    r, col = evidence.entry
    claimed = evidence.claimed[r, col]
    if claimed == 0:
        return None
    return evidence.truth[r, col] / claimed


def _at_instance(factor, c, cex, inst):
    builder = Builder(c.net, cex["L"] if c.net.symbolic else None)
    try:
        return factor(builder).xreplace(inst.sizes())
    except (TypeError, KeyError):
        return None


def _matches_at(c, evidence, cex):
    """Does the candidate equal the truth at the point where the claim failed?"""
    try:
        claim, target, _ = claim_at(c, cex["L"], cex.get("l"))
    except (Skip, ShapeMismatch, ClaimError):
        return False
    if not isinstance(claim, MatrixExpr) or claim.shape != target.shape:
        return False
    inst = evidence.inst
    saved, inst.env = inst.env, evidence.env
    try:
        value = inst.evaluate(claim)
    except (KeyError, TypeError, ValueError, ClaimError):
        return False
    finally:
        inst.env = saved
    if getattr(value, "shape", None) != evidence.truth.shape:
        return False
    return all(relative_gap(a, value[i]) <= TOLERANCE
               for i, a in enumerate(evidence.truth))


