"""A network at small concrete widths: a symbol for every weight and input entry, its
fully expanded forward pass and loss. `certify` and `verify` both build one and
evaluate matrix forms over it with the one evaluator (`derive.calculus.evaluate`);
`Instance.at` runs the same forward pass at a numeric point (verify's environment).

>>> from sympy import Rational
>>> from derive import Network
>>> inst = Instance(Network.uniform(depth=1, activation="identity", loss="sse"), (1, 1))
>>> inst.env[("z", 1)]
Matrix([[W1_1_1*x_1_1]])
>>> half = Rational(1, 2)
>>> inst.at({s: half for s in inst.env[("z", 1)].free_symbols}, 5)[("z", 1)]
Matrix([[0.25]])
"""
from sympy import Float, Integer, Matrix, Rational, S, Symbol, ones, sqrt

from ..calculus.evaluate import apply_activation, evaluate
from ..calculus.numeric import value
from ..calculus.numeric_matrix import product
from ..ir.quantities import KINDS, leaves
from ..spec import rules
from ..spec.blocks import COMBINE_OPS, DENSE_OPS, NORM_OPS, block
from ..vocab import ACTIVATION_INPUT, BATCH, DEPTH, EPSILON, LAMBDA, WIDTH

FIRST_CERTIFY_BATCH = 3   # batch sizes of certificates are drawn from here up
#: the leaves of a network: its inputs, parameters and masks (the rest is computed)
INPUT_KINDS = tuple(name for name, row in KINDS.items() if row.role != "computed" and name != "x")
CONSTANTS = ("constants", 0)   # the env key of λ and ε at a numeric point


def certify_batch(widths):
    """The batch size of a certificate of a batch network at ``widths``: the smallest
    m ≥ 3 that is no width, so that a stray 1/2 or 1/n_l cannot pass for the batch
    mean's 1/m (at m = 2 and widths 2, 1/2, 1/n_l and 1/m are one number).

    >>> certify_batch((2, 3, 2, 2)), certify_batch((3, 4, 5)), certify_batch((6, 7))
    (4, 6, 3)
    """
    m = FIRST_CERTIFY_BATCH
    while m in widths:
        m += 1
    return m


class Instance:
    """A network at concrete widths: symbols, forward pass and loss, explicitly.

    ``symbolic=False`` builds the leaves only (the symbols of x, y, the parameters and
    the masks), for checks that run the forward pass at numbers (`at`) and never need
    it in symbols. The expanded loss is built when first asked for (`loss`): only the
    certificate differentiates it.
    """

    def __init__(self, net, widths, m=None, symbolic=True):
        self.net = net
        self.widths = tuple(widths)
        self.depth = len(widths) - 1
        self.m = 1 if not net.batch else (certify_batch(self.widths) if m is None
                                          else int(m))
        self.env = {}
        self.params = []     # [(kind, layer, Matrix of symbols)]
        self.symbolic = symbolic
        self._loss = None
        self._build()

    def sizes(self):
        """The substitution of symbolic widths, batch size and depth by numbers."""
        mapping = {WIDTH[q]: Integer(w) for q, w in enumerate(self.widths)}
        mapping[BATCH] = Integer(self.m)
        mapping[DEPTH] = Integer(self.depth)
        return mapping

    def _matrix(self, name, rows, cols):
        return Matrix(rows, cols, lambda r, c: Symbol(f"{name}_{r + 1}_{c + 1}", real=True))

    def _build(self):
        x = self._matrix("x", self.widths[0], self.m)
        self.env[("z", 0)] = x
        for l in range(1, self.depth + 1):
            self._parameters(l)
        if self.symbolic:
            self.forward(self.env)
        self.env[("y", self.depth)] = self._matrix("y", self.widths[-1], self.m)

    @property
    def loss(self):
        """J, fully expanded in the symbols (built once, when first asked for)."""
        if self._loss is None:
            if not self.symbolic:
                raise ValueError("a leaves-only instance has no expanded loss")
            self._loss = self.loss_from(self.env[("z", self.depth)]) + self.penalty()
        return self._loss

    def penalty(self):
        """(λ/2) Σ_l ‖W_l‖_F² with weight decay, else 0."""
        if not self.net.weight_decay:
            return S.Zero
        return LAMBDA / 2 * sum(sum(w ** 2 for w in W) for kind, _, W in self.params
                                if kind == "W")

    def n(self, layer):
        """The width of ``layer`` (the instance is its own sizes, `derive.ir.quantities`)."""
        return self.widths[layer]

    @property
    def bias(self):
        return self.net.bias

    @property
    def norm(self):
        return self.net.norm

    def _parameters(self, l):
        """The symbols of layer l's leaves (W_l, and b_l, γ_l, β_l, the dropout mask M_l
        where the network has them; shapes from the quantity table), entered into env;
        the trained ones into params."""
        for row in leaves(self.net, l, self.depth):
            self.env[(row.name, l)] = self._matrix(f"{row.name}{l}", *row.shape(self, l))
            if row.trained:
                self.params.append((row.name, l, self.env[(row.name, l)]))

    def forward(self, env, finish=None, activate=apply_activation, root=sqrt, eps=EPSILON):
        """The forward pass from ``env[("z", 0)]``, block by block, each block's calls in
        order (`block`), the parameters (and masks) read from ``env``: every quantity a
        call writes enters ``env`` (h_l, z_l, the augmented z and W̄, a normalization's
        μ_l, v_l, x̂_l, ĥ_l, and a_l, σ's output in a block with options);
        ``activate(rule, h)`` applies σ, ``root`` the square root (ε is ``eps``);
        ``finish`` maps each z_l (say to numbers). Returns z_L."""
        std = lambda v: root(v + eps)  # noqa: E731
        for l in range(1, self.depth + 1):
            calls = self.block(l)
            plain = len([c for c in calls if not c.op.startswith("loss:")]) <= 2
            for call in calls:
                self._run(env, call, l, activate, std, plain)
            if finish is not None:
                env[("z", l)] = finish(env[("z", l)])
        return env[("z", self.depth)]

    def block(self, l):
        """The calls of layer ``l`` (`derive.spec.blocks`), at that layer."""
        act = self.activation_rule(l).name
        key = ("output", act) if l == self.depth else ("hidden", act, self.net.is_residual(l))
        return block(self.net, key, Integer(l))

    def _run(self, env, call, l, activate, std, plain):
        """One call at numbers or symbols: its output (and auxiliary quantities) into env."""
        def get(port):
            q = call.args[port]
            return env[(q.kind, int(q.layer))]
        op, m = call.op, self.m
        if op in DENSE_OPS.values():
            W, x = get("W"), get("x")
            if "xaug" in call.args:
                x = x.col_join(ones(1, m))
                env[("zaug", l - 1)], env[("Wbar", l)] = x, W[:, :self.widths[l - 1]]
            out = product(W, x)
            if "b" in call.args:
                out = out + get("b") * ones(1, m)
        elif op in NORM_OPS.values():
            out = normalize(env, l, get("x"), (get("gamma"), get("beta")), op == NORM_OPS["layer"],
                            std)
        elif op in COMBINE_OPS.values():
            out = get("M").multiply_elementwise(get("x")) if "M" in call.args else get("x")
            out = get("skip") + out if "skip" in call.args else out
        elif op.startswith("loss:"):
            return
        else:
            out = activate(rules.activation(op), get("x"))
            if not plain:
                env[("a", l)] = out
        env[(call.out.kind, l)] = out

    def at(self, point, digits):
        """The environment at ``point`` (symbol -> rational), in ``digits`` significant
        digits: the inputs and parameters substituted, the forward pass recomputed
        layer by layer (never re-evaluating a nested expression)."""
        numbers = {}      # each distinct value of the point evaluated once

        def number(e):
            e = point[e] if e in point else e.xreplace(point)
            if e not in numbers:
                numbers[e] = e.evalf(digits)
            return numbers[e]
        env = {key: Matrix(v.rows, v.cols, [number(e) for e in v.flat()])
               for key, v in self.env.items() if key[0] in INPUT_KINDS or key == ("z", 0)}
        env[CONSTANTS] = {sym: point[sym] for sym in (LAMBDA, EPSILON) if sym in point}
        self.forward(env, lambda z: z.applyfunc(lambda e: _number_at(e, digits)),
                     lambda rule, h: _activate_at(rule, h, digits),
                     lambda v: Float(value(sqrt(v), {}, digits), digits),
                     point.get(EPSILON, EPSILON))
        return env

    def activation_rule(self, l):
        if self.net.symbolic:
            return rules.activation(self.net.activations[1 if l == self.depth else 0])
        return rules.activation(self.net.activations[l - 1])

    def loss_from(self, z_out):
        """J as an explicit scalar of the output matrix."""
        row = self.net.loss_rule
        y = self.env[("y", self.depth)]
        factor = row.factor.xreplace({rules.n: Integer(self.widths[-1])})
        total = S.Zero
        for r in range(z_out.rows):
            for c in range(z_out.cols):
                total += row.term.xreplace({rules.u: z_out[r, c], rules.t: y[r, c]})
        return factor * total / self.m

    def evaluate(self, expr):
        """An explicit Matrix (or scalar) for one of our matrix expressions (at a numeric
        environment, with its values of λ and ε)."""
        expr = expr.xreplace({**self.sizes(), **self.env.get(CONSTANTS, {})})
        return evaluate(expr, self.env)


def normalize(env, l, h, affine, per_sample, std=lambda v: sqrt(v + EPSILON)):
    """γ ⊙ (h − μ) ⊘ std(v) + β (``affine`` = (γ, β)), std(v) = sqrt(v + ε), with μ, v the
    mean and biased variance of each column (``per_sample``, layer norm) or of each row
    (batch norm); μ_l, v_l and x̂_l enter ``env``."""
    rows, cols = h.shape
    groups = [h[:, c] for c in range(cols)] if per_sample else [h[r, :] for r in range(rows)]
    size = rows if per_sample else cols
    mus = [sum(g) / size for g in groups]
    vs = [sum((e - mu) ** 2 for e in g) / size for g, mu in zip(groups, mus)]
    scale = [1 / std(v) for v in vs]
    pick = (lambda r, c: c) if per_sample else (lambda r, c: r)  # noqa: E731
    xhat = Matrix(rows, cols, lambda r, c: (h[r, c] - mus[pick(r, c)]) * scale[pick(r, c)])
    stat = (lambda vals: Matrix(1, cols, vals)) if per_sample else \
        (lambda vals: Matrix(rows, 1, vals))  # noqa: E731
    env[("mu", l)], env[("var", l)], env[("xhat", l)] = stat(mus), stat(vs), xhat
    gamma, beta = affine
    return Matrix(rows, cols, lambda r, c: gamma[r] * xhat[r, c] + beta[r])


def target_constraint(inst):
    """For a probability-vector target, the last component of each column is
    1 − (sum of the others)."""
    if inst.net.loss_rule.target != "simplex":
        return {}
    y = inst.env[("y", inst.depth)]
    return {y[-1, c]: 1 - sum(y[r, c] for r in range(y.rows - 1)) for c in range(y.cols)}


def small_rational(rng):
    """A nonzero rational p/q with |p/q| < 1 and q ≤ 7: small, away from saturation."""
    q = rng.randint(2, 7)
    return Rational(rng.choice((-1, 1)) * rng.randint(1, q - 1), q)


def random_point(inst, rng):
    """Values for every input and parameter symbol, drawn in a stable order (sorted by
    name, never in hash order), so one seed gives one point under any PYTHONHASHSEED."""
    values = {}
    leaves = [inst.env[("z", 0)], inst.env[("y", inst.depth)]] + [m for _, _, m in inst.params]
    leaves += [v for key, v in inst.env.items() if key[0] == "M"]
    for sym in sorted({s for m in leaves for s in m}, key=lambda s: s.name):
        values[sym] = small_rational(rng)
    target = inst.net.loss_rule.target
    y = inst.env[("y", inst.depth)]
    for c in range(y.cols):
        col = [Rational(rng.randint(1, 9), 10) for _ in range(y.rows)]
        if target == "simplex":
            total = sum(col)
            col = [v / total for v in col]
        for r in range(y.rows):
            values[y[r, c]] = col[r]
    if inst.net.weight_decay:
        values[LAMBDA] = Rational(rng.randint(1, 9), 10)
    if inst.net.norm != "none":
        values[EPSILON] = Rational(1, 10)
    return values


def _number_at(e, digits):
    return e.evalf(digits) if e.is_Number else Float(value(e, {}, digits), digits)


def _activate_at(rule, h, digits):
    """σ at numbers through the one guarded evaluator: an activation that grows past
    its limits (a tower of exp) is a SpecError naming them, never a MemoryError."""
    if rule.is_identity or not rule.elementwise:
        return apply_activation(rule, h)
    return h.applyfunc(lambda v: Float(value(rule.forward, {ACTIVATION_INPUT: v}, digits),
                                       digits))
