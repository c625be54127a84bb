"""The instances a network claim is checked at, and the check at one instance (SPEC §3).

An instance is a depth L (every L = 1 … 6 where the named layers exist, for a symbolic
depth), concrete widths n_0 … n_L and a batch size m. Widths are drawn pairwise
distinct and distinct from the batch size, and a batch network is checked at two batch
sizes ≥ 3, so that a stray 1/2, 1/m or 1/n_l cannot pass for another. Every instance
is checked numerically (50 digits at random small rational points); the small ones are
also proved exactly, and each instance records which of the two it got.

>>> import random
>>> from derive import Network
>>> plan(Network.uniform(depth="L", activation="tanh", loss="mse", batch=True), 2,
...      random.Random(0))
[((5, 3, 2), 4), ((5, 3, 2), 6)]
"""
from dataclasses import dataclass
from functools import lru_cache

from sympy import Integer, Transpose, count_ops, preorder_traversal
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..calculus.compare import DIGITS, TOLERANCE, exactly_zero, relative_gap
from ..calculus.evaluate import evaluate, normalise
from ..engine.certificate import matrix_gradients
from ..engine.instance import CONSTANTS, Instance, random_point, target_constraint
from ..engine.plan import backprop
from ..errors import ClaimError
from ..ir.nodes import MatPartial, Var
from ..printing.claim_text import shape_text
from ..vocab import LAYER
from .network_build import KIND_NEEDS, Builder
from .shapes import ShapeMismatch

EXACT_MAX_OPS = 600     # larger entry differences are only checked numerically
EXACT_MAX_NODES = 4 * EXACT_MAX_OPS   # larger trees are not even counted (count_ops is slow)
EXACT_MAX_SIZE = 40     # exact cancellation only where (n_0 + … + n_L) · m is at most this
FIRST_BATCH = 3         # batch sizes are drawn from FIRST_BATCH up


def plan(net, D, rng):
    """[(widths, m)] at depth D: widths pairwise distinct (for a network without fixed
    widths), m distinct from every width; two batch sizes ≥ 3 for a batch network."""
    if net.widths is not None:
        widths = tuple(net.widths)
    elif net.residual:   # the hidden widths are one width, distinct from n_0 and n_L
        n_in, hidden, n_out = rng.sample(range(2, 6), 3)
        widths = (n_in,) + (hidden,) * (D - 1) + (n_out,)
    else:
        widths = tuple(rng.sample(range(2, D + 4), D + 1))
    if not net.batch:
        return [(widths, 1)]
    free = [m for m in range(FIRST_BATCH, FIRST_BATCH + len(widths) + 2) if m not in widths]
    return [(widths, free[0]), (widths, free[1])]


@dataclass
class Evidence:
    """A numeric failure: the true and claimed matrices at the point, the numeric
    environment, the instance and the first entry that differs."""
    truth: object
    claimed: object
    env: dict
    inst: object
    entry: tuple


class Skip(Exception):
    """The claim's layers do not exist at this instance."""


@dataclass
class Claim:
    """What is checked: a claim tree as ∂J/∂(kind, pspec), with an optional ``repair``
    ((expression, Builder) -> expression) applied to the built claim (a transpose, a
    factor, …)."""
    net: object
    kind: str
    pspec: tuple
    tree: tuple
    repair: object = None
    points: int = 2
    outer: bool = False
    notation: str = "hz"     # the claim's notation: hints name its quantities in it

    def backprop_at(self, widths):
        """The network at concrete widths and the engine's derivation for it."""
        concrete = self.net.with_widths(widths) if self.net.widths is None else self.net
        return concrete, concrete_backprop(concrete)


@lru_cache(maxsize=64)
def concrete_backprop(net):
    """The engine's derivation of a network (at concrete widths or not), kept: a claim
    and the repairs its hints try are checked at the same instances, and a verdict, its
    correct form and a chain's steps asked again for the same network (another
    parameter, another notation) do not derive it again. A `Derivation` is never
    changed after it is built, so sharing it is safe."""
    return backprop(net)


# -- kept per instance: a claim, its repairs and the next claim meet the same ones -------
@lru_cache(maxsize=128)
def instance_at(net, widths, m, symbolic):
    """The `Instance` of a concrete network at batch size ``m``: leaves only for the
    numeric checks, the symbolic forward pass for the exact ones."""
    return Instance(net, widths, m, symbolic=symbolic)


def _point_key(point):
    return tuple(sorted(point.items(), key=lambda item: item[0].name))


def clear_caches():
    """Forget every kept derivation, instance and truth (for timing a cold check)."""
    for cached in (concrete_backprop, instance_at, numeric_state, symbolic_state):
        cached.cache_clear()


def lowest_layer(kind, k, claim):
    """The lowest layer whose δ the truth for ∂J/∂(kind, k) (∂J/∂z_k: δ_{k+1}) or the
    claim needs."""
    named = [int(v.layer) for v in claim.atoms(Var) if v.kind == "delta"]
    return min([k + 1 if kind == "z" else k] + named)


def _lowest(c, k, claim, record):
    """The lowest layer whose gradients a check needs; 1 for a general layer l, so that
    every l at one instance and point shares one computation (`numeric_state`)."""
    return 1 if "l" in record else lowest_layer(c.kind, k, claim)


@lru_cache(maxsize=256)
def numeric_state(net, widths, m, point_key, lowest):
    """(numeric environment, gradients of layers L … ``lowest``) at a point (a sorted
    tuple of (symbol, value)): the forward pass at 50 digits and the δ's through the
    recursion, computed once per instance, point and lowest layer."""
    inst = instance_at(net, widths, m, False)
    saved, inst.env = inst.env, inst.at(dict(point_key), DIGITS)
    try:
        return inst.env, matrix_gradients(concrete_backprop(net), inst, lowest)
    finally:
        inst.env = saved


@lru_cache(maxsize=64)
def symbolic_state(net, widths, m, lowest):
    """(symbolic environment, gradients of layers L … ``lowest``) as explicit matrices in
    the symbols. The environment is the one the δ's were written into: kept with the
    gradients, it holds them even when `instance_at` has since dropped that instance
    and made a fresh one (which order of checks does that depends on the cache's fill)."""
    inst = instance_at(net, widths, m, True)
    grads = matrix_gradients(concrete_backprop(net), inst, lowest)
    return inst.env, grads


def truth_of(inst, env, grads, kind, k):
    """The engine's ∂J/∂(kind, k) (δ through the recursion) over ``env`` (with its
    values of λ and ε at a numeric point)."""
    if kind in ("W", "b", "gamma", "beta"):
        return _at_constants(grads[(kind, k)], env)
    if kind == "delta":
        return _at_constants(env[("delta", k)], env)
    form = concrete_backprop(inst.net).dJdz(k).xreplace(inst.sizes())
    return _at_constants(evaluate(_at_constants(form, env), env), env)


def _at_constants(matrix, env):
    """λ and ε replaced by their values at the point (an env from `Instance.at`), in
    a matrix or in a matrix expression (before evaluating it: a form with no symbol
    left evaluates at numbers, by mpmath)."""
    constants = env.get(CONSTANTS)
    return matrix.xreplace(constants) if constants else matrix


def claim_at(c, D, lval):
    """(claim expression, target, layer) at depth D and general layer ``lval``."""
    net = c.net
    builder = Builder(net, D if net.symbolic else None, c.outer)
    sub = {} if lval is None else {LAYER: Integer(lval)}
    layer = builder.layer(c.pspec).xreplace(sub)
    for spec in layers_of(c.tree) + [c.pspec]:
        value = builder.layer(spec).xreplace(sub)
        if not 0 <= value <= D or (spec == c.pspec and value < 1):
            raise Skip
    if c.kind == "W" and layer < 1 or c.kind in KIND_NEEDS and not 1 <= layer <= D - 1:
        raise Skip   # no W_0; γ_l, β_l only on the hidden layers
    target = builder.var(c.kind, c.pspec)
    try:
        claim = builder.build(c.tree, target.shape)
    except ShapeMismatch:
        raise
    except ClaimError:
        raise Skip from None
    claim = claim.xreplace(sub)
    if c.repair is not None:
        claim = c.repair(claim, builder)
    return claim, target.xreplace(sub), int(layer)


def layers_of(tree):
    if not isinstance(tree, tuple):
        return []
    if tree[0] in ("var", "cot"):
        return [tree[2]]
    return [spec for t in tree[1:] for spec in layers_of(t)]


@dataclass
class ExactBudget:
    """What exact cancellation may still spend on one claim, in SymPy operations (the
    `count_ops` of the entry differences): a count, not a clock, so that which instances
    are proved exactly never depends on the machine's load."""
    ops: int

    def spend(self, n):
        """Take ``n`` operations if they are left (True), else spend nothing (False)."""
        if n > self.ops:
            return False
        self.ops -= n
        return True


def check_at(c, D, lval, widths, m, rng, budget):
    """(record, failure): the record of what was checked at this instance; failure is
    None or (reason, counterexample, Evidence or None). ``budget``: the `ExactBudget` of
    exact cancellation, or None for numeric only."""
    record = {"L": D, "widths": widths, "m": m, "exact": False}
    if lval is not None:
        record["l"] = lval
    try:
        claim, target, k = claim_at(c, D, lval)
    except ShapeMismatch as exc:
        return record, (f"shape mismatch at L = {D}: {exc}", None, None)
    if not isinstance(claim, MatrixExpr):
        return record, (f"shape mismatch: the claim is a scalar but the gradient is "
                        f"{shape_text(target.shape)}", None, None)
    if claim.shape != target.shape:
        return record, (f"shape mismatch at L = {D}: the claim is {shape_text(claim.shape)} "
                        f"but the gradient is {shape_text(target.shape)}", None, None)
    concrete = c.backprop_at(widths)[0]
    inst = instance_at(concrete, widths, m, False)
    fail = numeric_at(c, inst, k, claim, rng, record)
    if fail is None and budget is not None and D <= 3 and sum(widths) * m <= EXACT_MAX_SIZE \
            and budget.ops > 0:
        record["exact"] = exact_at(c, instance_at(concrete, widths, m, True), k, claim,
                                   budget)
    return record, fail


def numeric_at(c, inst, k, claim, rng, record):
    """None when the claim equals the truth at ``c.points`` random points, else
    (reason, counterexample)."""
    for _ in range(c.points):
        point = random_point(inst, rng)
        numeric_env, grads = numeric_state(inst.net, inst.widths, inst.m, _point_key(point),
                                           _lowest(c, k, claim, record))
        truth = truth_of(inst, numeric_env, grads, c.kind, k)
        claimed = claimed_in(inst, claim, numeric_env)
        for r in range(truth.rows):
            for col in range(truth.cols):
                a, b = truth[r, col].evalf(DIGITS), claimed[r, col].evalf(DIGITS)
                if not b.is_number:
                    raise ClaimError(f"the claim has no value at entry ({r + 1}, {col + 1})")
                if relative_gap(a, b) > TOLERANCE:
                    cex = dict(record, layer=k, entry=(r + 1, col + 1), true=a.evalf(12),
                               claimed=b.evalf(12), point=point_text(inst, point))
                    del cex["exact"]
                    evidence = Evidence(truth, claimed, numeric_env, inst, (r, col))
                    return (f"differs at L = {record['L']}, widths {record['widths']}"
                            + (f", m = {record['m']}" if inst.net.batch else "")
                            + f", entry ({r + 1}, {col + 1}): true {a.evalf(8)}, "
                            f"claimed {b.evalf(8)}"), cex, evidence
    return None


def exact_at(c, inst, k, claim, budget):
    """Is every entry difference exactly zero (decided within ``budget``)?"""
    env, grads = symbolic_state(inst.net, inst.widths, inst.m, 1)
    truth = truth_of(inst, env, grads, c.kind, k)
    claimed = claimed_in(inst, claim, env)
    constraint = target_constraint(inst)
    for r in range(truth.rows):
        for col in range(truth.cols):
            diff = truth[r, col] - claimed[r, col]
            diff = diff.xreplace(constraint) if constraint else diff
            ops = bounded_ops(diff)
            if ops > EXACT_MAX_OPS or not budget.spend(ops) or not exactly_zero(normalise(diff)):
                return False
    return True


def bounded_ops(expr):
    """`count_ops` of ``expr``, or EXACT_MAX_OPS + 1 without counting when its tree has
    more than EXACT_MAX_NODES nodes (a normalized network's entries are huge trees, and
    counting them would take minutes): a count of nodes, never a clock.

    >>> from sympy import Add, Symbol
    >>> bounded_ops(Symbol("a") + 1), bounded_ops(Add(*(Symbol(f"a{k}") for k in range(3000))))
    (1, 601)
    """
    for seen, _ in enumerate(preorder_traversal(expr)):
        if seen >= EXACT_MAX_NODES:
            return EXACT_MAX_OPS + 1
    return count_ops(expr)


def claimed_in(inst, claim, env):
    """The claim as an explicit matrix over ``env`` (numbers, or the symbols)."""
    claim = claim.xreplace(inst.sizes())
    if claim.has(MatPartial):
        claim = cotangents_in(inst, claim)
    try:
        claimed = _at_constants(evaluate(_at_constants(claim, env), env), env)
    except (KeyError, TypeError, ValueError) as exc:
        raise ClaimError(f"cannot evaluate the claim: {exc}") from None
    if not hasattr(claimed, "rows"):
        raise ClaimError("the claim is a scalar but the gradient is a matrix")
    return claimed


def cotangents_in(inst, claim):
    """The claim with each named cotangent (∂J/∂z_k, ∂J/∂a_k, ∂J/∂ĥ_k) replaced by the
    derivation's form for it at this instance (in δ's, repeatedly: one form may name
    the next layer's), so that it evaluates like any claim."""
    d = concrete_backprop(inst.net)
    forms = {}
    for k in range(1, inst.depth + 1):
        for sym, form in d.cotangents(k):
            forms[(sym.wrt.kind, int(sym.wrt.layer))] = form
        forms.setdefault(("z", k), d.dJdz(k))     # k = L: the loss's own derivative
    for _ in range(2 * inst.depth + 2):
        found = claim.atoms(MatPartial)
        if not found:
            return claim
        try:
            claim = claim.xreplace({p: forms[(p.wrt.kind, int(p.wrt.layer))] for p in found})
        except KeyError as exc:
            raise ClaimError(f"no cotangent {exc} at depth {inst.depth}") from None
        claim = claim.xreplace(inst.sizes())
    raise ClaimError("the named cotangents do not resolve")


NAMES = {"W": "W_{}", "b": "b_{}", "gamma": "gamma_{}", "beta": "beta_{}", "y": "y"}


def point_text(inst, point):
    """Every value of the point, by claim-syntax name: {"x": "[1/2, -1/3; …]", "W_1": …}
    (rows separated by ';'), inputs first, then the parameters layer by layer, then y."""
    shown = {"x": inst.env[("z", 0)]}
    for kind, layer, symbols in inst.params:
        shown[NAMES[kind].format(layer)] = symbols
    shown.update({f"M_{key[1]}": v for key, v in inst.env.items() if key[0] == "M"})
    shown["y"] = inst.env[("y", inst.depth)]
    return {name: "[" + "; ".join(", ".join(str(point[s]) for s in row)
                                  for row in symbols.tolist()) + "]"
            for name, symbols in shown.items()}


def transposed(expr, builder):
    return Transpose(expr)
