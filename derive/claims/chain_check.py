"""`check_steps`: a student's whole derivation chain, judged line by line (SPEC §3b).

Every step is checked against the derivation (the engine's gradient, at the instances
`verify` uses), not against the step before it: the first wrong step is found even
when later steps carry its mistake on, and a step that is right again is marked ✓.
The first wrong step is diagnosed by the repairs of `derive.claims.chain_repairs`,
tried on the student's own tree: a mistake is named only when its repair verifies, and
the repaired step is printed in the student's own syntax. When no chain repair
verifies, the §3 hint of `verify` (if any) is reported instead.

>>> from derive import Network
>>> net = Network.uniform(depth="L", activation="sigmoid", loss="bce")
>>> r = check_steps(net, '''
... dJ/dW_{L-1} = dJ/dz_L dz_L/dh_L dh_L/dz_{L-1} dz_{L-1}/dh_{L-1} dh_{L-1}/dW_{L-1}
...             = ((W_L^T (z_L - y)) ⊙ σ'(z_{L-1})) z_{L-2}^T
...             = ((W_L^T (z_L - y)) ⊙ σ'(h_{L-1})) z_{L-2}^T''')
>>> r.marks, r.first_wrong, r.mistake
(['✓', '✗', '✓'], 1, 'sigma_of_z')
>>> r.repair
"((W_L^T (z_L - y)) ⊙ σ'(h_{L-1})) z_{L-2}^T"
"""
import random

from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ClaimError, SpecError
from ..printing.claim_text import shape_text
from ..spec.network import Network
from .chain_jacobian import Misfit, Reading
from .chain_read import read_chain
from .chain_repairs import NAMES, Repairs, nodes, put
from .chain_report import StepsReport, StepVerdict
from .chain_text import Spelling
from .grammar import parse
from .instances import Claim, Skip, check_at, concrete_backprop, plan
from .network_build import Builder, build
from .network_check import correct_form, sweep, verify
from .shapes import ShapeMismatch

MAX_SWEEPS = 6        # repairs that pass the quick check and are swept in full, at most
MAX_CANDIDATES = 400  # repairs tried at all (a count, never a clock)
VECTORS = ("delta", "z", "b", "gamma", "beta")


class Judge:
    """Checks claim trees (Jacobians read) as ∂J/∂(kind, layer) for one network."""

    def __init__(self, net, seed=0, layout="denominator"):
        self.net, self.seed, self.layout = net, seed, layout
        self.derivation = concrete_backprop(net)

    def reading(self, kind):
        return Reading(self.net, self.derivation, vector_target=kind in VECTORS,
                       row=self.layout == "numerator" and kind in VECTORS)

    def plain(self, kind, tree):
        tree = self.reading(kind).plain(tree)
        if self.layout == "numerator" and kind in VECTORS:
            tree = ("T", tree)     # a row in the numerator layout stands for its column
        return tree

    def shape_fails(self, kind, pspec, tree):
        """A reason when the claim's shape cannot be the gradient's, else ""."""
        if self.net.symbolic and any(s[0] is None for s in _layers(tree)):
            return ""      # numeric layers at a symbolic depth: shapes come per instance
        try:
            expr, shape = build(tree, self.net)
        except ShapeMismatch as exc:
            return f"shape mismatch: {exc}"
        target = Builder(self.net).var(kind, pspec).shape
        if not isinstance(expr, MatrixExpr):
            return "shape mismatch: a scalar where a matrix belongs"
        if shape != target:
            return (f"shape mismatch: the step is {shape_text(shape)} but the gradient "
                    f"is {shape_text(target)}")
        return ""

    def softmax_prime(self, tree):
        """Does the step take σ' of the softmax layer (a Jacobian, not elementwise)?"""
        if self.net.activations[-1] != "softmax":
            return False
        output = Reading(self.net).is_output
        return any(n[0] == "call" and n[2] == 1 and n[1] in ("sigma", "phi", "varphi", "softmax")
                   and n[3][0] == "var" and n[3][1] in ("h", "z") and output(n[3][2])
                   for n in _nodes(tree))

    def judge(self, kind, pspec, tree, quick=False):
        """(holds, reason) of a step's tree (with Jacobians) as ∂J/∂(kind, pspec)."""
        if self.softmax_prime(tree):
            return False, ("softmax' is not elementwise: softmax's Jacobian is "
                           "diag(z_L) − z_L z_Lᵀ")
        try:
            plain = self.plain(kind, tree)
        except Misfit as exc:
            return False, str(exc)
        reason = self.shape_fails(kind, pspec, plain)
        if reason:
            return False, reason
        claim = Claim(self.net, kind, pspec, plain, points=1 if quick else 2)
        if quick:
            return self.quick(claim)
        verdict, _ = sweep(claim, self.seed, False)
        return verdict.holds, verdict.reason

    def quick(self, claim):
        """One instance, one point: the filter a repair passes before its full sweep."""
        rng = random.Random(self.seed)
        D = self.net.depth if not self.net.symbolic else 4
        general = 2 if "l" in [s[0] for s in _layers(claim.tree) + [claim.pspec]] else None
        for widths, m in plan(self.net, D, rng)[:1]:
            try:
                _, fail = check_at(claim, D, general, widths, m, rng, None)
            except Skip:
                return True, ""
            except ClaimError as exc:
                return False, str(exc)
            return fail is None, "" if fail is None else fail[0]
        return True, ""


def _nodes(tree):
    yield tree
    for t in tree[1:]:
        if isinstance(t, tuple) and t and isinstance(t[0], str):
            yield from _nodes(t)


def _layers(tree):
    if not isinstance(tree, tuple):
        return []
    if tree[0] == "var":
        return [tree[2]]
    return [s for t in tree[1:] for s in _layers(t)]


def param_text(kind, spec):
    """The claim-syntax name of a target (kind, layer spec): ``W_{L-1}``, ``delta_2``."""
    base, off = spec
    layer = str(off) if base is None else base + (f"{off:+d}" if off else "")
    return f"{kind}_{layer if len(layer) == 1 else '{' + layer + '}'}"


def diagnose(judge, step, notation):
    """(mistake id, repaired text, repaired tree) of a wrong step, or ("", "", None) when
    no repair verifies."""
    kind, pspec = step.param
    spelling = Spelling(step, notation)
    repairs = Repairs(step.tree, judge.reading(kind), spelling, kind, pspec)
    swept = tried = 0
    seen = set()
    for mistake, tree in repairs.candidates():
        tried += 1
        if tried > MAX_CANDIDATES or swept >= MAX_SWEEPS:
            break
        if tree in seen:
            continue
        seen.add(tree)
        try:
            holds, _ = judge.judge(kind, pspec, tree, quick=True)
            if not holds:
                continue
            swept += 1
            if judge.judge(kind, pspec, tree)[0]:
                return mistake, spelling.text(tree), tree
        except (ClaimError, SpecError):
            continue
    return "", "", None


def dropped_term(judge, step, notation):
    """(term text, correct text) when the step is the correct form with one term of one
    of its sums left out (the step plus that term verifies), else None."""
    kind, pspec = step.param
    text = correct_form(judge.net, param_text(kind, pspec), notation)[0]
    if not text:
        return None
    whole = parse(text, notation)
    tries = 0
    for path, node in nodes(whole):
        if node[0] not in ("add", "sub"):
            continue
        second = node[2] if node[0] == "add" else ("neg", node[2])
        for rest, term in ((node[1], second), (second, node[1])):
            without = put(whole, path, rest)
            candidate = ("add", step.tree, ("sub", whole, without))
            tries += 1
            if tries > 2 * MAX_SWEEPS:
                return None
            try:
                if judge.judge(kind, pspec, candidate, quick=True)[0] and \
                        judge.judge(kind, pspec, candidate)[0]:
                    return Spelling(_Blank(""), notation).text(term), text
            except (ClaimError, SpecError):
                continue
    return None


def _verify_hint(judge, step, notation):
    """The §3 hint `verify` gives the step's plain reading (Jacobians read)."""
    kind, pspec = step.param
    try:
        plain = judge.plain(kind, step.tree)
        text = Spelling(_Blank(""), "hz").text(plain)
        return verify(judge.net, param_text(kind, pspec), text, seed=judge.seed).hint
    except (ClaimError, SpecError, Misfit):
        return ""


class _Blank:
    """A step with no text of its own: every node is printed afresh (``"\\"``: LaTeX)."""

    def __init__(self, text):
        self.text, self.spans = text, {}


def latex_of(tree, notation):
    """A tree printed as LaTeX by the chain printer (nothing of the student's text)."""
    return "" if tree is None else Spelling(_Blank("\\"), notation).text(tree)


def check_steps(net, text, notation="hz", seed=0, layout="denominator"):
    """Judge every step of the chain ``text`` (SPEC §3b) for ``net``: a `StepsReport`
    with a `StepVerdict` per step, ``first_wrong`` (None when every step holds), and for
    that step the named ``mistake``, its ``rule`` in words, the ``repair`` in the
    student's own spelling (or the §3 ``hint``), and the ``correct`` form.

    ``notation`` names the letters the chain is written in; ``layout="numerator"`` reads
    a step for a vector's gradient as a row. A malformed chain (no ``=``, an unknown
    name, a Jacobian between layers that do not touch) raises `ClaimError` naming the
    line and column; a step whose shapes do not fit is a ✗, not an error."""
    if not isinstance(net, Network):
        raise SpecError(f"check_steps takes a Network, got {type(net).__name__}")
    if layout not in ("denominator", "numerator"):
        raise SpecError(f"unknown layout {layout!r}; allowed: denominator, numerator")
    steps = read_chain(text, notation)
    for s in steps:
        _check_target(net, s.param)
    judge = Judge(net, seed, layout)
    report = StepsReport()
    for s in steps:
        holds, reason = judge.judge(*s.param, s.tree)
        report.steps.append(StepVerdict(s.index, s.line, s.lhs, s.text, holds, reason,
                                        latex_of(s.tree, notation),
                                        latex_of(s.lhs_tree, notation)))
        if not holds and report.first_wrong is None:
            report.first_wrong = s.index
    if report.first_wrong is not None:
        wrong = steps[report.first_wrong]
        report.mistake, report.repair, repaired = diagnose(judge, wrong, notation)
        report.repair_latex = latex_of(repaired, notation)
        report.rule = NAMES.get(report.mistake, "")
        if report.mistake == "factor":    # the factor the repair multiplies by
            report.rule += f": {repaired[1][1]} × (the step) holds"
        if not report.mistake:
            dropped = dropped_term(judge, wrong, notation)
            if dropped:
                report.mistake, report.repair = "dropped_term", dropped[1]
                report.rule = f"{NAMES['dropped_term']}: {dropped[0]}"
                report.repair_latex = correct_form(net, param_text(*wrong.param), notation)[1]
            else:
                report.hint = _verify_hint(judge, wrong, notation)
        report.correct, report.correct_latex = correct_form(
            net, param_text(*wrong.param), notation)
    return report


def _check_target(net, param):
    kind, pspec = param
    if kind == "z" and pspec == (None, 0):
        raise ClaimError("∂J/∂x is not a gradient the engine derives; ask for z_1 … z_L")
    if not net.symbolic and pspec[0] == "l":
        raise ClaimError("a general layer l needs a network of symbolic depth")
