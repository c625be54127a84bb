"""`verify`: is a pasted closed form for ∂J/∂param right? (SPEC §3)

Shape first, with symbolic widths (a misfit is a verdict, not an error, and a claim
whose transpose fits is tried transposed). Then value, at every depth L = 1 … 6 where
the named layers exist for a symbolic depth, at the instances of
`derive.claims.instances` (distinct widths, two batch sizes ≥ 3 for a batch network):

* numerically, always: both sides evaluated at random small rational points with 50
  significant digits, the right side being the engine's gradient (δ through the
  recursion) at an explicit `Instance`;
* exactly, where it is cheap: the entrywise difference cancels to zero as a rational
  function of the parameters and the activation atoms (as `certify` does).

A failing claim gets a hint (`derive.claims.hints`) when a repair verifies.

>>> from derive import Network
>>> net = Network.uniform(depth="L", activation="sigmoid", loss="bce")
>>> verify(net, "W_L", "(z_L - y) z_{L-1}^T").holds
True
>>> verify(net, "W_L", "z_{L-1} (z_L - y)^T").reason
'shape mismatch: the claim is n_{L-1}×n_L but ∂J/∂W_L is n_L×n_{L-1}; holds if transposed'
>>> verify(net, "W_L", "2 (z_L - y) z_{L-1}^T").hint
'off by a factor 1/2: (the claim)/2 holds'
"""
import random
from dataclasses import replace

from ..errors import ClaimError, SpecError
from ..printing.claim_forms import readable
from ..printing.claim_text import shape_text, to_claim, to_latex
from ..spec.conv import refuse_unbuilt
from ..spec.network import Network
from ..vocab import LAYER
from .grammar import parse, parse_param
from .hints import diagnose, diagnose_shape
from .instances import (
    Claim,
    ExactBudget,
    Skip,
    check_at,
    concrete_backprop,
    layers_of,
    plan,
    transposed,
)
from .network_build import Builder, build
from .rnn_check import verify_rnn
from .shapes import ShapeMismatch
from .verdict import Verdict

SYMBOLIC_DEPTHS = range(1, 7)
EXACT_BUDGET = 6000     # SymPy operations spent on exact cancellation per claim, at most
#: a fixed depth is checked numerically at every layer, with widths pairwise distinct
#: (so up to depth + 3): depth 64 takes 17 s, depth 128 over 90 s (sigmoid, bce, W_1)
MAX_VERIFY_DEPTH = 64
#: the same with a normalization, dropout or residual layers, whose instances are far
#: costlier: every option at a fixed depth 6 takes 3 s, depth 8 30 s, depth 10 minutes
MAX_VERIFY_DEPTH_WITH_OPTIONS = 8
#: the correct form writes δ out through at most this many layers (past that it is
#: unreadable, and its nesting outgrows the printers' recursion)
SUBSTITUTE_LAYERS = 8
WHAT = {"W": "∂J/∂W", "b": "∂J/∂b", "gamma": "∂J/∂γ", "beta": "∂J/∂β", "delta": "δ",
        "z": "∂J/∂z"}


def _param_name(kind, spec):
    base, off = spec
    layer = str(off) if base is None else base + (f"{off:+d}" if off else "")
    layer = layer if len(layer) == 1 else "{" + layer + "}"
    return f"{WHAT[kind]}_{layer}" if kind != "delta" else f"δ_{layer}"


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
        key = "l"
    form = d.delta(key) if kind == "delta" else d.dJdz(key) if kind == "z" else \
        d.grad(kind, key)
    if key == "l":      # the layer's own cotangents (∂J/∂ĥ_l …) in terms of δ_{l+1}
        for sym, value in reversed(d.cotangents("l")):
            form = form.xreplace({sym: value})
        return form.xreplace({LAYER: Builder(net).layer(spec)})
    if not net.symbolic and net.depth - key > SUBSTITUTE_LAYERS:
        return form
    try:
        return d.substitute_deltas(form)
    except SpecError:
        return form


def _correct_texts(d, kind, pspec, net, notation):
    """(text, LaTeX) of the readable correct form, or ("", "") where there is none (a
    general layer's form that needs a cotangent the claim syntax has no name for, such
    as a residual layer's ∂J/∂z_{l+1})."""
    try:
        correct = readable(_correct(d, kind, pspec, net), net)
        return to_claim(correct, notation), to_latex(correct, notation)
    except (SpecError, KeyError, ValueError):
        return "", ""


def correct_form(net, param, notation="hz"):
    """The correct closed form of ∂J/∂``param`` for ``net``, as (text, LaTeX) in the
    claim syntax of ``notation``: what a verdict prints as its correct form.

    >>> from derive import Network
    >>> correct_form(Network.uniform(depth="L", activation="identity", loss="sse"), "W_L")
    ('2 (z_L - y) z_{L-1}^T', '2 (z_L - y) z_{L-1}^\\\\top')
    """
    kind, pspec = parse_param(param, notation)
    return _correct_texts(concrete_backprop(net), kind, pspec, net, notation)


def verify(net, param, claim, notation="hz", seed=0, points=2, exact=True):
    """Check ``claim`` (text in the claim syntax) as ∂J/∂``param`` for ``net``."""
    if getattr(net, "arch", None) == "rnn":     # a recurrent network: its own names
        return verify_rnn(net, param, claim, seed=seed, points=points)
    refuse_unbuilt(net, "claims")
    if not isinstance(net, Network):
        raise SpecError(f"verify takes a Network, got {type(net).__name__}")
    limit = MAX_VERIFY_DEPTH_WITH_OPTIONS if net.kinds else MAX_VERIFY_DEPTH
    if not net.symbolic and net.depth > limit:
        what = " with a norm, dropout or residual layers" if net.kinds else ""
        raise SpecError(f"verify checks a fixed depth at most {limit}{what} (got "
                        f"{net.depth}): the matrix form is the same at every depth, so "
                        "check it at a smaller depth or at depth L")
    kind, pspec = parse_param(param, notation)
    tree = parse(claim, notation)
    if kind == "z" and pspec == (None, 0):
        raise ClaimError("∂J/∂x is not a gradient the engine derives; ask for z_1 … z_L")
    if not net.symbolic and "l" in [b for b, _ in layers_of(tree) + [pspec]]:
        raise ClaimError("a general layer l needs a network of symbolic depth")
    d = concrete_backprop(net)
    name = _param_name(kind, pspec)
    text, tex = _correct_texts(d, kind, pspec, net, notation)
    verdict = Verdict(False, "", correct=text, correct_latex=tex)
    target = Builder(net).var(kind, pspec)
    numeric_layers = net.symbolic and any(b is None for b, _ in layers_of(tree))
    claim = Claim(net, kind, pspec, tree, points=points, notation=notation)
    try:
        expr, shape = build(tree, net, target=target.shape, notation=notation)
    except ShapeMismatch as exc:
        if not numeric_layers:
            verdict.reason = f"shape mismatch: {exc}"
            verdict.hint = _outer_hint(claim, target.shape, seed)
            if verdict.hint:
                verdict.reason += f"; {verdict.hint}"
            else:
                verdict.hint = diagnose_shape(claim, target.shape, seed, sweep)
            return verdict
        shape = None
    if shape is not None and not numeric_layers and shape != target.shape:
        verdict.reason = (f"shape mismatch: the claim is {shape_text(shape)} but {name} "
                          f"is {shape_text(target.shape)}")
        if shape == target.shape[::-1] and sweep(replace(claim, repair=transposed),
                                                 seed, False)[0].holds:
            verdict.reason += "; holds if transposed"
            verdict.hint = "transpose the claim: (the claim)^T holds"
        else:
            verdict.hint = diagnose_shape(claim, target.shape, seed, sweep)
        return verdict
    result, evidence = sweep(claim, seed, exact)
    if evidence is not None:
        result.hint = diagnose(claim, evidence, result.counterexample, seed, sweep)
    result.correct, result.correct_latex = verdict.correct, verdict.correct_latex
    if result.holds and net.loss_rule.target == "simplex":
        result.reason = "holds, y being a probability vector (its entries sum to 1)"
    return result


def _outer_hint(claim, shape, seed):
    """Two column vectors side by side: what the claim means as an outer product u vᵀ,
    and whether that (or its transpose) holds."""
    try:
        expr, fits = build(claim.tree, claim.net, outer=True, target=shape)
    except ClaimError:
        return ""
    if fits is None:
        return ""
    outer = replace(claim, outer=True)
    read = f"read as the outer product u vᵀ, the claim is {to_claim(expr)}"
    if fits == shape and sweep(outer, seed, False)[0].holds:
        return f"{read}, which holds (write vᵀ)"
    if fits == shape[::-1] and sweep(replace(outer, repair=transposed), seed, False)[0].holds:
        return f"{read} ({shape_text(fits)}), which holds if transposed"
    return f"{read} ({shape_text(fits)}), which does not hold either"


def _depths(net, specs):
    if not net.symbolic:
        return [net.depth]
    out = []
    for D in SYMBOLIC_DEPTHS:
        if net.residual and D < 3:   # a residual network has depth 3 or more
            continue
        values = [Builder(net, D).layer(s) for s in specs if s[0] != "l"]
        if all(0 <= v <= D for v in values):
            out.append(D)
    return out


def sweep(c, seed, exact):
    """Check claim ``c`` at every instance: (Verdict, Evidence of a numeric failure or
    None); the verdict's ``checked`` lists every instance checked, ``exact`` the ones
    proved exactly."""
    rng = random.Random(seed)
    specs = layers_of(c.tree) + [c.pspec]
    if c.kind == "W":
        specs.append((c.pspec[0], c.pspec[1] - 1))
    depths = _depths(c.net, specs)
    verdict = Verdict(True, "holds")
    if not depths:
        raise ClaimError("the named layers exist at no depth from 1 to 6")
    budget = ExactBudget(EXACT_BUDGET) if exact else None
    for D in depths:
        general = [D - k for k in range(D)] if "l" in [s[0] for s in specs] else [None]
        if c.net.residual and general[0]:   # a general residual layer feeds another one
            general = [lv for lv in general if lv <= D - 2]
        instances = plan(c.net, D, rng)
        for widths, m in instances:
            # every layer l of one instance is checked at the same points, so the forward
            # pass and the δ's there are computed once for all of them
            for lval in general:
                at = random.Random(f"{seed}/{D}/{widths}/{m}") if general[0] else rng
                try:
                    record, fail = check_at(c, D, lval, widths, m, at, budget)
                except Skip:
                    continue
                verdict.checked.append(record)
                if record["exact"]:
                    verdict.exact.append(record)
                if fail is not None:
                    verdict.holds, (verdict.reason, verdict.counterexample, evidence) = \
                        False, fail
                    return verdict, evidence
    if not verdict.checked:
        raise ClaimError("the named layers exist at no depth from 1 to 6")
    return verdict, None
