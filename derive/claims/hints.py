"""Diagnoses of a failing network claim (`Verdict.hint`, SPEC §3): each found by trying
a repair and verifying it, never by guessing.

A repair is first tried at the point where the claim failed (cheap: one evaluation);
a repair that matches there is then verified like any claim (every depth, widths and
batch size). The repairs, in order:

* a constant factor: 2, 1/2, −1, −2, −1/2, 1/m, m, 1/n_L, n_L (the ratio of truth to
  claim at the failing entry picks the candidates);
* a missing ⊙ σ'(h_l) factor on any subexpression, for every layer the claim names;
* z_l where h_l belongs (and h_l where z_l belongs);
* a transpose on the wrong factor (one transpose moved to another name).
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
from .shapes import ShapeMismatch

LEAVES = ("var", "num", "batch", "width")


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
    sweeps = 0    # a count, not a clock: the same claim gets the same hint under any load
    if sum(1 for _ in _nodes(c.tree)) > MAX_HINT_NODES:
        return ""
    for candidate, text in _candidates(c, evidence, cex):
        if sweeps >= MAX_HINT_SWEEPS:
            break
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
    if sum(1 for _ in _nodes(c.tree)) > MAX_HINT_NODES:
        return ""
    for tree, what in _structural(c.tree, c.pspec):
        try:
            expr, fits = build(tree, c.net, target=shape)
        except ClaimError:
            continue
        if fits != shape:
            continue
        tries += 1
        if sweep(replace(c, tree=tree), seed, False)[0].holds:
            return f"{what}: {to_claim(expr)} holds"
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
    for tree, what in _structural(c.tree, c.pspec):
        candidate = replace(c, tree=tree)
        yield candidate, (lambda tree=tree, what=what: f"{what}: {_text(c.net, tree)} holds")


def _text(net, tree):
    try:
        return to_claim(build(tree, net)[0])
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


# -- structural repairs over the claim tree ----------------------------------------------
def _kids(tree):
    op = tree[0]
    if op in LEAVES:
        return []
    if op == "call":
        return [3]
    if op == "pow":
        return [1]
    return [i for i in range(1, len(tree)) if isinstance(tree[i], tuple)]


def _nodes(tree, path=()):
    yield path, tree
    for i in _kids(tree):
        yield from _nodes(tree[i], path + (i,))


def _put(tree, path, new):
    if not path:
        return new
    i = path[0]
    return tree[:i] + (_put(tree[i], path[1:], new),) + tree[i + 1:]


def _specs(tree, pspec):
    named = {t[2] for _, t in _nodes(tree) if t[0] == "var" and t[1] in ("h", "z", "W", "delta")}
    return sorted((named | {pspec}) - {(None, 0)}, key=str)


def _layer_text(spec):
    base, off = spec
    text = str(off) if base is None else base + (f"{off:+d}" if off else "")
    return text if len(text) == 1 else "{" + text + "}"


def _structural(tree, pspec):
    nodes = list(_nodes(tree))
    yield from _transposes(tree, nodes)
    for spec in _specs(tree, pspec):
        factor = ("call", "sigma", 1, ("var", "h", spec))
        for path, sub in nodes:
            if sub[0] not in ("num", "batch", "width"):
                yield _put(tree, path, ("had", sub, factor)), \
                    f"a missing ⊙ σ'(h_{_layer_text(spec)}) factor"
    for path, sub in nodes:
        if sub[0] == "var" and sub[1] in ("z", "h") and sub[2] != (None, 0):
            other = "h" if sub[1] == "z" else "z"
            yield _put(tree, path, ("var", other, sub[2])), \
                f"{sub[1]}_{_layer_text(sub[2])} where {other}_{_layer_text(sub[2])} belongs"


def _transposes(tree, nodes):
    """A transpose moved to another name, removed, or added to one name."""
    for path, sub in nodes:
        if sub[0] != "T":
            continue
        without = _put(tree, path, sub[1])
        for other, leaf in _nodes(without):
            if leaf[0] == "var" and other != path:
                yield _put(without, other, ("T", leaf)), "a transpose on the wrong factor"
        yield without, "a transpose too many"
    for path, sub in nodes:
        if sub[0] == "var":
            yield _put(tree, path, ("T", sub)), "a missing transpose"

