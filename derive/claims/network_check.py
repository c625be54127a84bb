"""`verify`: is a pasted closed form for ∂J/∂param right? (SPEC §3)

Shape first, with symbolic widths (a misfit is a verdict, not an error, and a claim
whose transpose fits is tried transposed). Then value, at every depth L = 1 … 6 where
the named layers exist for a symbolic depth, at small random widths:

* numerically, always: both sides evaluated at a random rational point with 50
  significant digits, the right side being the engine's gradient (δ through the
  recursion) at an explicit `Instance`;
* exactly, where it is cheap: the entrywise difference cancels to zero as a rational
  function of the parameters and the activation atoms (as `certify` does).

>>> from derive import Network
>>> net = Network.uniform(depth="L", activation="sigmoid", loss="bce")
>>> verify(net, "W_L", "(z_L - y) z_{L-1}^T").holds
True
>>> verify(net, "W_L", "z_{L-1} (z_L - y)").reason
'shape mismatch: the claim is n_{L-1}×n_L but ∂J/∂W_L is n_L×n_{L-1}; holds if transposed'
"""
import random
import time

from sympy import Integer, Transpose, count_ops
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..calculus.compare import DIGITS, TOLERANCE, exactly_zero, relative_gap
from ..calculus.evaluate import normalise
from ..engine.certificate import matrix_gradients
from ..engine.instance import Instance, random_point, target_constraint
from ..engine.plan import backprop
from ..errors import ClaimError, SpecError
from ..printing.claim_text import shape_text, to_claim, to_latex
from ..spec.network import Network
from ..vocab import LAYER
from .grammar import parse, parse_param
from .network_build import Builder, build
from .shapes import ShapeMismatch
from .verdict import Verdict

SYMBOLIC_DEPTHS = range(1, 7)
EXACT_BUDGET = 1.5      # seconds spent on exact cancellation per claim, at most
EXACT_MAX_OPS = 600     # larger entry differences are only checked numerically
WHAT = {"W": "∂J/∂W", "b": "∂J/∂b", "delta": "δ", "z": "∂J/∂z"}


def _param_name(kind, spec):
    base, off = spec
    layer = str(off) if base is None else base + (f"{off:+d}" if off else "")
    layer = layer if len(layer) == 1 else "{" + layer + "}"
    return f"{WHAT[kind]}_{layer}" if kind != "delta" else f"δ_{layer}"


def _layers(tree):
    if not isinstance(tree, tuple):
        return []
    if tree[0] == "var":
        return [tree[2]]
    return [spec for t in tree[1:] for spec in _layers(t)]


def _correct(d, kind, spec, net):
    """The engine's closed form for the parameter (δ substituted where it can be)."""
    base, off = spec
    if net.symbolic and (base, off) in (("L", 0), ("L", -1)):
        key = "L" if off == 0 else "L-1"
    elif net.symbolic:
        key = None
    else:
        key = int(Builder(net).layer(spec))
    if key is None:   # a general layer of a symbolic net: the δ form at that layer
        form = {"W": lambda: d.grad("W", "l"), "b": lambda: d.grad("b", "l"),
                "delta": lambda: d.delta("l"), "z": lambda: d.dJdz("l")}[kind]()
        return form.xreplace({LAYER: Builder(net).layer(spec)})
    form = {"W": lambda: d.grad("W", key), "b": lambda: d.grad("b", key),
            "delta": lambda: d.delta(key), "z": lambda: d.dJdz(key)}[kind]()
    try:
        return d.substitute_deltas(form)
    except SpecError:
        return form


def verify(net, param, claim, notation="hz", seed=0, points=2, exact=True):
    """Check ``claim`` (text in the claim syntax) as ∂J/∂``param`` for ``net``."""
    if not isinstance(net, Network):
        raise SpecError(f"verify takes a Network, got {type(net).__name__}")
    kind, pspec = parse_param(param, notation)
    tree = parse(claim, notation)
    if kind == "z" and pspec == (None, 0):
        raise ClaimError("∂J/∂x is not a gradient the engine derives; ask for z_1 … z_L")
    if not net.symbolic and "l" in [b for b, _ in _layers(tree) + [pspec]]:
        raise ClaimError("a general layer l needs a network of symbolic depth")
    d = backprop(net)
    name = _param_name(kind, pspec)
    try:
        correct = _correct(d, kind, pspec, net)
    except (SpecError, KeyError):
        correct = None
    verdict = Verdict(False, "", correct=to_claim(correct, notation) if correct is not None
                      else "", correct_latex=to_latex(correct, notation)
                      if correct is not None else "")
    target = Builder(net).var(kind, pspec)
    numeric_layers = net.symbolic and any(b is None for b, _ in _layers(tree))
    transposed = False
    try:
        expr, shape = build(tree, net)
    except ShapeMismatch as exc:
        if not numeric_layers:
            verdict.reason = f"shape mismatch: {exc}"
            return verdict
        shape = None
    if shape is not None and not numeric_layers:
        if shape != target.shape:
            if shape == target.shape[::-1] and _values(net, d, kind, pspec, tree, True,
                                                       seed, points, False).holds:
                verdict.reason = (f"shape mismatch: the claim is {shape_text(shape)} but "
                                  f"{name} is {shape_text(target.shape)}; holds if transposed")
                return verdict
            verdict.reason = (f"shape mismatch: the claim is {shape_text(shape)} but {name} "
                              f"is {shape_text(target.shape)}")
            return verdict
    result = _values(net, d, kind, pspec, tree, transposed, seed, points, exact)
    result.correct, result.correct_latex = verdict.correct, verdict.correct_latex
    if result.holds and net.loss_rule.target == "simplex":
        result.reason = "holds, y being a probability vector (its entries sum to 1)"
    return result


def _depths(net, specs):
    if not net.symbolic:
        return [net.depth]
    out = []
    for D in SYMBOLIC_DEPTHS:
        values = [Builder(net, D).layer(s) for s in specs if s[0] != "l"]
        if all(0 <= v <= D for v in values):
            out.append(D)
    return out


def _values(net, d, kind, pspec, tree, transposed, seed, points, exact):
    rng = random.Random(seed)
    specs = _layers(tree) + [pspec]
    depths = _depths(net, specs + [(pspec[0], pspec[1] - 1)] if kind == "W" else specs)
    verdict = Verdict(True, "holds")
    if not depths:
        raise ClaimError("the named layers exist at no depth from 1 to 6")
    started = time.perf_counter()
    for D in depths:
        general = [D - k for k in range(D)] if "l" in [s[0] for s in specs] else [None]
        for lval in general:
            try:
                fail = _check_at(net, kind, pspec, tree, transposed, D, lval, rng, points,
                                 started + EXACT_BUDGET if exact else None,
                                 verdict)
            except _Skip:
                continue
            if fail is not None:
                fail_reason, cex = fail
                return Verdict(False, fail_reason, cex, checked=verdict.checked)
        verdict.checked.append(D)
    if not verdict.checked:
        raise ClaimError("the named layers exist at no depth from 1 to 6")
    return verdict


class _Skip(Exception):
    pass


def _widths(net, D, rng):
    if net.widths is not None:
        return tuple(net.widths)
    return tuple(rng.choice((2, 3)) for _ in range(D + 1))


def _check_at(net, kind, pspec, tree, transposed, D, lval, rng, points, exact, verdict):
    """None when the claim holds at depth D (layer l = lval), else (reason, cex).

    ``exact`` is the perf_counter deadline for exact cancellation, or None."""
    builder = Builder(net, D if net.symbolic else None)
    sub = {} if lval is None else {LAYER: Integer(lval)}
    layer = builder.layer(pspec).xreplace(sub)
    low = 1
    for spec in _layers(tree) + [pspec]:
        value = builder.layer(spec).xreplace(sub)
        if not 0 <= value <= D or (spec == pspec and value < low):
            raise _Skip
    if kind == "W" and layer < 1:
        raise _Skip
    try:
        claim = Builder(net, D if net.symbolic else None).build(tree)
    except ShapeMismatch as exc:       # a ClaimError too: caught first
        return f"shape mismatch at L = {D}: {exc}", None
    except ClaimError:
        raise _Skip from None
    claim = claim.xreplace(sub)
    widths = _widths(net, D, rng)
    concrete = net.with_widths(widths) if net.widths is None else net
    dc = backprop(concrete)
    target = Builder(net, D).var(kind, pspec).xreplace(sub)
    if isinstance(claim, MatrixExpr):
        if transposed:
            claim = Transpose(claim)
        if claim.shape != target.shape:
            return (f"shape mismatch at L = {D}: the claim is {shape_text(claim.shape)} but "
                    f"the gradient is {shape_text(target.shape)}"), None
    else:
        return (f"shape mismatch: the claim is a scalar but the gradient is "
                f"{shape_text(target.shape)}"), None
    k = int(layer)
    fail = _numeric_at(concrete, dc, widths, kind, k, claim, rng, points, D, lval)
    if fail is None and exact and D <= 3 and sum(widths) <= 10 and time.perf_counter() < exact:
        if _exact_at(concrete, dc, widths, kind, k, claim, exact):
            verdict.exact.append(D)
    return fail


def _numeric_at(concrete, dc, widths, kind, k, claim, rng, points, D, lval):
    """None when the claim equals the truth at ``points`` random points, else
    (reason, counterexample)."""
    for _ in range(points):
        inst = Instance(concrete, widths)
        point = random_point(inst, rng)
        inst.env = inst.at(point, DIGITS)
        truth, claimed = _evaluate_pair(dc, inst, kind, k, claim)
        for r in range(truth.rows):
            for c in range(truth.cols):
                a = truth[r, c].evalf(DIGITS)
                b = claimed[r, c].evalf(DIGITS)
                if not b.is_number:
                    raise ClaimError(f"the claim has no value at entry ({r + 1}, {c + 1})")
                if relative_gap(a, b) > TOLERANCE:
                    cex = {"L": D, "widths": widths, "layer": k, "entry": (r + 1, c + 1),
                           "true": a.evalf(12), "claimed": b.evalf(12),
                           "point": {str(s): str(v) for s, v in sorted(
                               point.items(), key=lambda kv: str(kv[0]))}}
                    if lval is not None:
                        cex["l"] = lval
                    return (f"differs at L = {D}, widths {widths}, entry ({r + 1}, {c + 1}): "
                            f"true {a.evalf(8)}, claimed {b.evalf(8)}"), cex
    return None


def _exact_at(concrete, dc, widths, kind, k, claim, deadline):
    """Is every entry difference exactly zero (decided before ``deadline``)?"""
    inst = Instance(concrete, widths)
    truth, claimed = _evaluate_pair(dc, inst, kind, k, claim)
    constraint = target_constraint(inst)
    for r in range(truth.rows):
        for c in range(truth.cols):
            diff = truth[r, c] - claimed[r, c]
            diff = diff.xreplace(constraint) if constraint else diff
            if time.perf_counter() > deadline or count_ops(diff) > EXACT_MAX_OPS \
                    or not exactly_zero(normalise(diff)):
                return False
    return True


def _evaluate_pair(dc, inst, kind, k, claim):
    grads = matrix_gradients(dc, inst)
    if kind in ("W", "b"):
        truth = grads[(kind, k)]
    elif kind == "delta":
        truth = inst.env[("delta", k)]
    else:
        truth = inst.evaluate(dc.dJdz(k))
    try:
        claimed = inst.evaluate(claim)
    except (KeyError, TypeError, ValueError) as exc:
        raise ClaimError(f"cannot evaluate the claim: {exc}") from None
    if not hasattr(claimed, "rows"):
        raise ClaimError("the claim is a scalar but the gradient is a matrix")
    return truth, claimed
