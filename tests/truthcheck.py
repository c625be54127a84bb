"""The truth check of a document's displays: every link of every printed chain is
evaluated at a random point of the engine's own instance (`Instance`, `random_point`).

The chains are the Steps a document prints (``ctx["sections"][name][k]["steps"]``, the
SymPy objects, not the LaTeX). A value is computed for every object that can appear in
them: a layer quantity from the forward pass, which runs the engine's own forward
definitions (the matrix forward steps of ``d.steps``, checked against ``Instance.at``);
a derivative ∂u/∂v (and δ_l = ∂J/∂h_l, and ∂J/∂V as a matrix) by running the same
forward pass with one entry of v moved either way (a central difference in 40-digit
arithmetic) and reading u (or J, or J_data), so a named partial on a left-hand side
means what it says, whatever the engine derived. Index lines get random values for their free indices (each within
1 … the smallest width), their sums written out.
"""
import random

from sympy import (
    Float,
    Function,
    Indexed,
    Integer,
    KroneckerDelta,
    Matrix,
    Sum,
    Symbol,
    Trace,
    Transpose,
    ones,
    preorder_traversal,
)
from sympy.matrices import MatrixBase
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr
from truthplan import Plan

from derive.calculus.evaluate import NetworkEvaluator
from derive.documents.scalars import Scalar, ScalarGrad
from derive.engine.instance import INPUT_KINDS, Instance, random_point
from derive.ir.activations import is_atom, realize
from derive.ir.nodes import Partial, Var
from derive.vocab import BATCH, DATA_LOSS, DEPTH, EPSILON, LAMBDA, LAYER, LOSS

DIGITS = 40
STEP = Float("1e-15", DIGITS)
TOLERANCE = 1e-12


def default_widths(net, depth):
    """Small widths: 3 inputs, 2 everywhere else (one-node chains keep their 1s)."""
    if net.widths is not None:
        return tuple(net.widths)
    return (3,) + (2,) * depth


class World:
    """Values of everything a chain of ``d`` can name, at one random point."""

    def __init__(self, d, seed=0, depth=3, general=1):
        net = d.net
        self.net = net
        L = depth if net.symbolic else net.depth
        self.layers = {DEPTH: Integer(L), LAYER: Integer(general)}
        self.inst = Instance(net, default_widths(net, L), symbolic=False)
        self.L = L
        point = random_point(self.inst, random.Random(seed))
        self.point = {s: Float(v, DIGITS) for s, v in point.items()}
        self.sizes = dict(self.inst.sizes())
        self.sizes.update({s: self.point[s] for s in (LAMBDA, EPSILON) if s in self.point})
        self.defs = self._definitions(d)
        rows, cols = self.inst.widths[-1], self.inst.m
        self._out = Matrix(rows, cols, lambda r, c: Symbol(f"out_{r}_{c}"))
        self._loss = self.inst.loss_from(self._out).xreplace(self.point)
        self.leaves = {key: m.xreplace(self.point) for key, m in self.inst.env.items()
                       if key[0] in INPUT_KINDS or key == ("z", 0)}
        self.env = self._forward(self.leaves)
        self._plan = Plan(self, DIGITS, STEP)
        self._values = {}

    # -- the forward pass -------------------------------------------------------------
    def _definitions(self, d):
        """[(key, matrix expression)] in forward order, concrete layers and sizes."""
        out = []
        steps = [s for s in d.steps if s.topic == "forward" and s.form == "matrix"
                 and isinstance(s.lhs, Var)]
        for l in range(1, self.L + 1):
            if self.net.symbolic:
                at = DEPTH if l == self.L else LAYER
                mapping = {DEPTH: Integer(self.L), LAYER: Integer(l)}
                chosen = [s.subs(mapping) for s in steps if s.layer == at]
            else:
                chosen = [s for s in steps if s.layer == l]
            for s in chosen:
                out.append(((s.lhs.kind, int(s.lhs.layer)), self.concrete(s.rhs)))
        return out

    def concrete(self, e):
        return e.xreplace(self.layers).xreplace(self.sizes)

    def _forward(self, start, fresh=None):
        """The forward pass from the leaves in ``start``; ``fresh`` = (key, matrix)
        replaces that quantity by the given values (everything after it follows them)."""
        env = dict(start)
        if fresh is not None and fresh[0] in env:
            env[fresh[0]] = fresh[1]
        self._wbar(env)
        for key, rhs in self.defs:
            if fresh is not None and key == fresh[0]:
                env[key] = fresh[1]
                continue
            value = NetworkEvaluator(env)(rhs)
            env[key] = value.applyfunc(lambda v: v.evalf(DIGITS) if not v.free_symbols
                                       else v)
        out = env[("z", self.L)]
        env["J_data"] = number(self._loss.xreplace(
            {self._out[r, c]: out[r, c] for r in range(out.rows) for c in range(out.cols)}))
        env["J"] = env["J_data"] + self._penalty(env)
        return env

    def _wbar(self, env):
        if self.net.bias == "augmented":
            for l in range(1, self.L + 1):
                W = env[("W", l)]
                env[("Wbar", l)] = W[:, :W.cols - 1]

    def _penalty(self, env):
        if not self.net.weight_decay:
            return 0
        total = 0
        for l in range(1, self.L + 1):
            W = env[("Wbar", l)] if self.net.bias == "augmented" else env[("W", l)]
            total += sum(w ** 2 for w in W)
        return self.point[LAMBDA] / 2 * total

    def check_forward(self):
        """The forward pass of the definitions against the engine's `Instance.at`."""
        at = self.inst.at({s: v for s, v in self.point.items()}, DIGITS)
        worst = 0.0
        for key, value in at.items():
            if isinstance(key, tuple) and key in self.env and hasattr(value, "shape"):
                diff = (Matrix(value) - Matrix(self.env[key])).applyfunc(abs)
                worst = max([worst] + [float(x) for x in diff])
        return worst

    # -- derivatives ------------------------------------------------------------------
    def derivative(self, num, key, r, c):
        """∂num/∂(key)_{rc} (0-based): num is "J", "J_data" or (key, r, c) of a quantity."""
        memo = (num, key, r, c)
        if memo not in self._values:
            self._values[memo] = self._derivative(num, key, r, c)
        return self._values[memo]

    def _derivative(self, num, key, r, c):
        """A central difference in DIGITS-digit arithmetic: the step 1e-15 leaves an
        error near 1e-30, far below the comparison's tolerance. Each side re-runs the
        forward definitions (compiled once, `Plan`) downstream of the moved entry."""
        if self._plan.ready:
            return self._plan.derivative(num, key, r, c)
        sides = []
        for sign in (1, -1):
            moved = Matrix(self.env[key])
            moved[r, c] = moved[r, c] + sign * STEP
            env = self._forward(self.leaves, (key, moved))
            sides.append(env[num] if isinstance(num, str) else env[num[0]][num[1], num[2]])
        return number((sides[0] - sides[1]) / (2 * STEP))

    def grad(self, num, key):
        shape = self.env[key].shape
        return Matrix(*shape, lambda r, c: self.derivative(num, key, r, c))


def number(e):
    """A number: activation atoms replaced by their definitions, then evaluated."""
    e = e.doit() if hasattr(e, "doit") else e
    return realize(e).evalf(DIGITS) if any(is_atom(f) for f in e.atoms(Function)) \
        else e.evalf(DIGITS)


def _key(var):
    return (var.kind, int(var.layer))


def _loss_name(num):
    if num == LOSS:
        return "J"
    if num == DATA_LOSS:
        return "J_data"
    raise TypeError(f"unknown loss {num}")


class Values(NetworkEvaluator):
    """Explicit values of a chain's matrix expressions (a named partial by its meaning)."""

    def __init__(self, world):
        super().__init__(world.env)
        self.world = world

    def _eval_Var(self, e):
        if e.kind == "delta":
            return self.world.grad("J", ("h", int(e.layer)))
        return super()._eval_Var(e)

    def _eval_MatPartial(self, e):
        return self.world.grad(_loss_name(e.num), _key(e.wrt))

    def _eval_Jacobian(self, e):
        u, v = _key(e.num), _key(e.wrt)
        rows, cols = self.world.env[u].rows, self.world.env[v].rows
        return Matrix(rows, cols, lambda i, j: self.world.derivative((u, i, 0), v, j, 0))

    def _eval_OneMatrix(self, e):
        return ones(*(int(s) for s in e.shape))

    def _eval_Shorthand(self, e):
        """A lecturer's written form (g_l, σ_l, mean, a spread γ_l): the engine-form
        expression it stands for."""
        return self(self.world.concrete(e.meaning()))


def entry_of(world, e):
    """The value of an Indexed / MatrixElement entry of a layer quantity, as a position."""
    if isinstance(e, Indexed):
        var, idx = e.base.label, [int(i) - 1 for i in e.indices]
    else:
        var, idx = e.parent, [int(e.i) - 1, int(e.j) - 1]
    if len(idx) == 1 and var.shape[0] == 1:     # a row (layer norm's μ_l, v_l): (μ_l)_s
        return _key(var), 0, idx[0]
    return _key(var), idx[0], (idx[1] if len(idx) > 1 else 0)


def scalar_value(world, e):
    """The value of a scalar (index-form) expression with integer indices."""
    e = world.concrete(_expand(world, e).doit())

    def part(x):
        if isinstance(x, Trace):
            return Values(world)(x.arg).trace()
        if isinstance(x, ScalarGrad):
            return world.derivative("J", _key(x.var), 0, 0)
        if isinstance(x, Scalar):
            key = _key(x.var)
            if key[0] == "delta":
                return world.derivative("J", ("h", key[1]), 0, 0)
            return world.env[key][0, 0]
        if isinstance(x, Partial):
            num, wrt = x.num, x.wrt
            wrt = (_key(wrt.var), 0, 0) if isinstance(wrt, Scalar) else entry_of(world, wrt)
            if num in (LOSS, DATA_LOSS):
                n = _loss_name(num)
            else:
                n = (_key(num.var), 0, 0) if isinstance(num, Scalar) else entry_of(world, num)
            return world.derivative(n, *wrt)
        if isinstance(x, (Indexed, MatrixElement)):
            if isinstance(x, MatrixElement) and not isinstance(x.parent, Var):
                return Values(world)(x.parent)[int(x.i) - 1, int(x.j) - 1]
            key, r, c = entry_of(world, x)
            if key[0] == "delta":
                return world.derivative("J", ("h", key[1]), r, c)
            return world.env[key][r, c]
        return None

    mapping = {LOSS: world.env["J"], DATA_LOSS: world.env["J_data"]}
    for x in _preorder(e):
        if isinstance(x, (ScalarGrad, Scalar, Partial, Indexed, MatrixElement, Trace)) \
                and x not in mapping:
            v = part(x)
            if v is not None:
                mapping[x] = v
    return number(e.xreplace(mapping).doit())


def _expand(world, e):
    """Every sum written out, outermost index first (an inner range may depend on it,
    as n_l in the penalty's Σ_l Σ_{ij})."""
    if isinstance(e, Sum):
        f, limits = e.function, list(e.limits)
        var, lo, hi = limits[-1]
        total = Integer(0)
        for v in range(int(world.concrete(lo)), int(world.concrete(hi)) + 1):
            inner = f if len(limits) == 1 else Sum(f, *limits[:-1])
            total += _expand(world, world.concrete(inner.xreplace({var: Integer(v)})))
        return total
    if not e.args or not e.has(Sum):
        return e
    return e.func(*[_expand(world, a) for a in e.args])


def _preorder(e):
    return list(preorder_traversal(e))


def value(world, e, indices):
    """The value of one side of a link: a Matrix or a number."""
    e = world.concrete(e).xreplace(indices)
    if isinstance(e, MatrixExpr):
        return Values(world)(e).applyfunc(number)
    if isinstance(e, Transpose):
        return value(world, e.arg, {}).T
    return scalar_value(world, e)


def free_indices(steps, world):
    """The free index symbols of a chain (integer symbols that are not sizes/constants)."""
    out = set()
    for s in steps:
        for side in (s.lhs, s.rhs):
            for sym in world.concrete(side).free_symbols:
                if not sym.is_integer or sym in (BATCH, DEPTH, LAYER):
                    continue
                out.add(sym)
    return sorted(out, key=lambda s: s.name)


def index_values(steps, world, rng):
    """Random values for the chain's free indices: 1 … the smallest width (s: 1 … m)."""
    top = min(world.inst.widths)
    return {sym: Integer(rng.randint(1, world.inst.m if sym.name == "s" else top))
            for sym in free_indices(steps, world)}


def close(a, b):
    a, b = (Matrix(x)[0, 0] if _one(x) else x for x in (a, b))
    if isinstance(a, MatrixBase) or isinstance(b, MatrixBase):
        if not (isinstance(a, MatrixBase) and isinstance(b, MatrixBase)):
            return False
        a, b = Matrix(a), Matrix(b)
        if a.shape != b.shape:
            return False
        return all(close(x, y) for x, y in zip(a, b))
    x, y = complex(a), complex(b)
    return abs(x - y) <= TOLERANCE * max(1.0, abs(x), abs(y))


def _one(x):
    return isinstance(x, MatrixBase) and x.shape == (1, 1)


def _defines_input(side):
    """σ_0 applied to the raw input (pq): a definition of z_0, which the instance takes
    as given (it has no raw input p_0 below it)."""
    return any(getattr(f, "name", None) == "input" or getattr(type(f), "rule_name", None)
               == "input" for f in preorder_traversal(side))


def links(block):
    """(left side, right side) of every link a display prints: the first line's lhs =
    its rhs, then each line's rhs against the one before (a line with its own lhs
    starts again from that lhs)."""
    out, prev = [], None
    for s in block["steps"]:
        if prev is not None and s.lhs == prev.lhs and not block.get("own_lines"):
            out.append((prev.rhs, s.rhs))
        else:
            out.append((s.lhs, s.rhs))
        prev = s
    return [link for link, s in zip(out, block["steps"]) if s.topic != "update"
            and not _defines_input(s.rhs)]


def false_links(block, world, seed=0, rounds=2):
    """The links of ``block`` that are false at the world's point (with up to
    ``rounds`` random choices of the free indices)."""
    rng = random.Random(seed)
    bad = []
    for left, right in links(block):
        for _ in range(rounds):
            idx = index_values([_Pair(left, right)], world, rng)
            try:
                a, b = value(world, left, idx), value(world, right, idx)
            except (TypeError, KeyError, ValueError) as err:
                bad.append((left, right, idx, "cannot evaluate", repr(err)))
                break
            if not close(a, b):
                bad.append((left, right, idx, a, b))
                break
    return bad


class _Pair:
    def __init__(self, lhs, rhs):
        self.lhs, self.rhs = lhs, rhs


__all__ = ["World", "false_links", "links", "KroneckerDelta"]
