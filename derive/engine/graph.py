"""Any network given as blocks of calls (a convolutional network, and every architecture
of SPEC §1c that is not the §1 MLP) derived call by call, and certified against its
expanded loss.

The network gives ``blocks`` (tuples of `derive.ir.calls.OpCall`, in forward order),
``size_values()`` ({size symbol: Integer}: what its symbolic sizes are) and ``depth``
(the layer of the loss J). Which leaves are masks computed from the forward (a max
pooling's first-maximum mask) is `MASKS`: {op name: (mask port, function)}.

The walk is the engine's, over every call of every block in reverse: the cotangent of a
call's output is the sum of the VJPs of the calls that read it (one accumulation where
there are several), and each of the call's inputs receives the row's checked VJP of it
(`derive.engine.proofs.checked`: the claims of `derive.engine.conv` and of the dense and
activation rows, proved once). The results are at symbolic sizes (channels and widths
n_l, lengths N_l, kernel κ, window p); `certify` writes them at the network's sizes.

`certify` builds the loss J, for each parameter entry, as one SymPy expression of that
entry with every other leaf at a random point (the forward of each call's matrix form
downstream of the entry; a max pooling selects the first maximum at the point, as
PyTorch), differentiates it with ``sympy.diff`` and compares, at the point, with the
derived gradients evaluated cotangent by cotangent.

>>> from derive.spec.conv import ConvNetwork
>>> d = backprop_graph(ConvNetwork((1, 2), kernel=2, length=5, head_widths=(2,)))
>>> d.grad("K", 1)
corr(zc_0, dJ/dhc_1)
>>> d.certify().ok
True
"""
import random
from dataclasses import dataclass
from functools import lru_cache

from sympy import Float, IndexedBase, Integer, Matrix, Sum, Symbol, diff
from sympy.matrices.expressions import MatAdd

from ..calculus.evaluate import evaluate
from ..ir.activations import realize
from ..ir.nodes import MatPartial, Partial
from ..ir.quantities import IMAGE_DIMS, KINDS, Q
from ..ir.steps import Group, Rule, Step
from ..vocab import LAYER, LOSS, i, j, r
from .conv import CONV_OPS
from .conv2d import CONV2D_OPS, first_max2
from .graph_steps import forward_steps
from .ops import OPS, Shapes
from .proofs import checked
from .vjp import cotangent, derive_vjp, port_indices

DIGITS = 30
GRADIENT_GROUPS = {"W": Group.DW, "b": Group.DB}   # a kernel's gradient has no group yet
TOLERANCE = 1e-12


def walk(blocks, later=()):
    """(steps, {Q: cotangent}, {Q: gradient}) of ``blocks`` at symbolic sizes, walking
    every call in reverse; the cotangents in the order they are named. ``later``: calls of
    a later block whose outputs' cotangents are given, named and not derived here (step
    t + 1 of a recurrence at a symbolic t): each adds its VJPs into the quantities
    ``blocks`` write (h_t, c_t), nothing else."""
    sh = Shapes("explicit", False)
    calls = [c for block in blocks for c in block]
    parts, cotangents, steps = _later_parts(sh, later, {c.out for c in calls}), {}, []
    for call in reversed(calls):
        op = checked(call.op, "explicit", False)
        bound = op.bound(sh, call)
        G = None
        if not op.scalar:
            terms = parts.get(call.out, [])
            value = MatAdd(*terms) if len(terms) > 1 else terms[0]
            G = MatPartial(LOSS, bound[op.output])
            cotangents[call.out] = value
            steps.append(Step(G, value, Rule.ACCUMULATION if len(terms) > 1 else
                              Rule.MATRIX_FORM, call.out.layer, "hidden", "matrix",
                              Group.DELTA_MATRIX, f"the VJP of the {op.name} op", call.op))
        for port in op.inputs:
            q = call.args[port]
            if q.layer != 0:
                parts.setdefault(q, []).append(op.vjps[port](bound, G))
                steps += index_steps(sh, op, call, port)
    grads = {q: (MatAdd(*v) if len(v) > 1 else v[0]) for q, v in parts.items()
             if KINDS[q.kind].trained}
    for q, value in grads.items():
        steps.append(Step(MatPartial(LOSS, q.var(sh)), value, Rule.MATRIX_FORM, q.layer,
                          "weights", "matrix", GRADIENT_GROUPS.get(q.kind, ""), port=q.kind))
    return steps, cotangents, grads


def _later_parts(sh, later, written):
    """{Q: [VJP]} of the ``later`` calls into the quantities in ``written``."""
    parts = {}
    for call in reversed(later):
        op = checked(call.op, "explicit", False)
        bound = op.bound(sh, call)
        for port in op.inputs:
            if call.args[port] in written:
                parts.setdefault(call.args[port], []).append(
                    op.vjps[port](bound, MatPartial(LOSS, bound[op.output])))
    return parts


@lru_cache(maxsize=64)
def _derived(name, port):
    """The VJP of ``port`` of row ``name`` at the symbolic layer l, contracted."""
    op = OPS[name]
    return derive_vjp(op, port, Shapes("explicit", False), LAYER)


def index_steps(sh, op, call, port):
    """A windowed row's VJP in index notation (a convolution's, a pooling's, the
    flattening's): ∂J/∂x_c = Σ G ∂y/∂x_c (chain rule) = the contracted sum (the shifted
    Kronecker deltas with their limits), G = ∂J/∂y the cotangent of its output. The row's
    VJP is derived once at its usual binding at layer l, then moved to the call's."""
    if op.name not in CONV_OPS + CONV2D_OPS or \
            KINDS[call.args[port].kind].indices not in ("grid", "kernel", "image", "kernel2"):
        return []
    first = op.inputs[0]
    layer = call.args[first].layer - op.ports[first][1]
    usual = op.bind(sh, layer)
    bound = op.bound(sh, call)
    G = MatPartial(LOSS, bound[op.output])     # the cotangent of the call's output
    rename = {usual[p]: bound[p] for p in op.ports} | {cotangent(sh, op, layer): G}
    x = IndexedBase(bound[port])[port_indices(sh, bound[port])]
    y = IndexedBase(bound[op.output])
    slots = KINDS[call.out.kind].indices
    at = {"grid": (i, r), "image": (i, r, j)}.get(slots, (i,))
    sizes = (G.shape[0], *IMAGE_DIMS[call.out.kind](sh, call.out.layer)) \
        if slots == "image" else G.shape
    chain = Sum(IndexedBase(G)[at] * Partial(y[at], x), *((v, 1, n) for v, n in zip(
        at, sizes)))
    derived = _derived(op.name, port).xreplace({LAYER: layer}).xreplace(rename)
    return [Step(Partial(LOSS, x), rhs, rule, call.out.layer, "hidden", "index", Group.DELTA,
                 "", call.op, port)
            for rhs, rule in ((chain, Rule.CHAIN_RULE), (derived, Rule.KRONECKER))]


@dataclass
class Certificate:
    ok: bool
    checked: int
    worst: float


class GraphDerivation:
    """The derivation of a network of calls: ``grad(kind, layer)``, ``cotangent(Q)``,
    the ``steps``, and ``certify``."""

    def __init__(self, net):
        self.net = net
        self.steps, self.cotangents, self.grads = walk(net.blocks)

    def grad(self, kind, layer):
        return self.grads[Q(kind, Integer(layer))]

    def cotangent(self, q):
        return self.cotangents[q]

    @property
    def forward(self):
        """The forward pass, one step per call (`derive.engine.graph_steps`)."""
        return forward_steps(self.net.blocks)

    def delta(self, layer):
        """δ_l: the cotangent of layer l's pre-activation (``net.pre_activation(l)``,
        a convolution's H_l or a dense layer's h_l)."""
        return self.cotangents[self.net.pre_activation(Integer(layer))]

    def sizes(self):
        """The symbolic sizes → the network's."""
        return self.net.size_values()

    def certify(self, seed=0):
        """Every derived gradient entry against ``diff`` of the expanded loss.

        The loss is expanded entry by entry: J as one SymPy expression of one parameter
        entry, every other leaf at the random point (a partial derivative at a point
        reads the function along its own coordinate only; the loss expanded in every
        entry at once grows with their product: one derivative of a transformer block's
        took a minute). Only the calls downstream of the parameter are expanded."""
        sub, rng, point = self.sizes(), random.Random(seed), {}
        env, params = {}, {}
        for key, shape in leaves(self.net, sub).items():
            env[key], entries = _symbols(*key, *shape, rng, point)
            if KINDS[key[0]].trained:
                params[key] = entries
        base = {key: M.xreplace(point) for key, M in env.items()}
        _forward(self.net, sub, base, point)
        grads = self._backward(sub, _numbers(base, point))
        worst, count = 0.0, 0
        for key, entries in params.items():
            for (row, col), symbol in entries.items():
                expanded = dict(base)
                expanded[key] = base[key].copy()
                expanded[key][row, col] = symbol
                _forward(self.net, sub, expanded, point, changed=key)
                loss = expanded[("J", self.net.depth)]
                exact = Float(realize(diff(loss, symbol).xreplace(point)).evalf(DIGITS))
                worst = max(worst, abs(float(exact - grads[key][row, col])))
                count += 1
        return Certificate(worst < TOLERANCE, count, worst)

    def gradients(self, values):
        """The derived gradients at ``values`` ({(kind, layer): array-like} for every leaf
        of `leaves`; a kernel as C_l × C_{l-1}κ, entry [o, cκ + j]): {(kind, layer): Matrix}."""
        env = self.values(values)
        return {key: env["d" + key[0], key[1]] for key in env if key[0] in KINDS
                and KINDS[key[0]].trained and ("d" + key[0], key[1]) in env}

    def values(self, values):
        """Every quantity and every cotangent at ``values`` (as `gradients`): {(kind,
        layer): Matrix}, a cotangent ∂J/∂v_l under ("d" + kind, l)."""
        sub = self.sizes()
        env = {key: Matrix(values[key]) for key in leaves(self.net, sub)}
        _forward(self.net, sub, env, {})
        numeric = _numbers(env, {})
        numeric.update({("d" + k, l): v for (k, l), v in self._backward(sub, numeric).items()})
        return numeric

    def _backward(self, sub, numeric):
        for q, value in self.cotangents.items():   # in the order the walk named them
            numeric["d" + q.kind, int(q.layer)] = _value(evaluate(value.xreplace(sub), numeric))
        return {(q.kind, int(q.layer)): _value(evaluate(value.xreplace(sub), numeric))
                for q, value in self.grads.items()}


def backprop_graph(net):
    """Derive ``net`` (a network of calls: the module docstring)."""
    return GraphDerivation(net)


def _value(M):
    return M.applyfunc(lambda v: Float(realize(v).evalf(DIGITS), DIGITS))


def _numbers(env, point):
    return {key: _value(M.xreplace(point)) for key, M in env.items() if isinstance(M, Matrix)}


def _symbols(kind, layer, rows, cols, rng, point):
    """A matrix of fresh symbols, each given a random value in ``point``."""
    entries = {}
    for row in range(rows):
        for col in range(cols):
            entries[row, col] = Symbol(f"{kind}{layer}_{row}_{col}")
            point[entries[row, col]] = Float(rng.uniform(-1, 1), DIGITS)
    return Matrix(rows, cols, lambda row, col: entries[row, col]), entries


def leaves(net, sub):
    """{(kind, layer): shape} of what the network reads and no call writes: the input
    sequence, the parameters, the target (a max pooling's mask is computed)."""
    sh, written, out = Shapes("explicit", False), set(), {}
    for call in [c for block in net.blocks for c in block]:
        bound = checked(call.op, "explicit", False).bound(sh, call)
        for port, q in call.args.items():
            if q not in written and port != MASKS.get(call.op, (None,))[0]:
                out[(q.kind, int(q.layer))] = tuple(map(int, bound[port].xreplace(sub).shape))
        written.add(call.out)
    return out


def _forward(net, sub, env, point, changed=None):
    """Every call's output into ``env`` ((kind, layer) -> Matrix, the leaves given); a max
    pooling's mask from the values at ``point``; an output without symbols as numbers
    (`_value`). With ``changed`` (a leaf's key), only the
    calls downstream of that leaf (the others are in ``env`` already)."""
    sh = Shapes("explicit", False)
    dirty = {changed}
    for call in [c for block in net.blocks for c in block]:
        if changed is not None:
            if not any((q.kind, int(q.layer)) in dirty for q in call.args.values()):
                continue
            dirty.add((call.out.kind, int(call.out.layer)))
        op = checked(call.op, "explicit", False)
        bound = op.bound(sh, call)
        layer = int(call.out.layer)
        if call.op in MASKS:
            port, mask = MASKS[call.op]
            q = call.args[port]
            env[(q.kind, int(q.layer))] = mask(net, call, env, point)
        value = evaluate(op.matrix(bound).xreplace(sub), env)
        if isinstance(value, Matrix) and not value.free_symbols:   # numbers stay numbers
            value = _value(value)          # (Float·√2 would stay a product, and grow)
        env[(call.out.kind, layer)] = value[0, 0] if op.scalar and hasattr(value, "shape") \
            else value


def _first_max(net, call, env, point):
    """The one-hot mask of each window's first maximum of the pooled input at ``point``
    (C × N p), as PyTorch routes a max pooling's gradient."""
    x = call.args["x"]
    A, p = env[(x.kind, int(x.layer))], net.pool_size
    values = A.xreplace(point).applyfunc(lambda v: realize(v).evalf(DIGITS))
    mask = Matrix.zeros(A.rows, (A.cols // p) * p)
    for c in range(A.rows):
        for u in range(A.cols // p):
            window = [values[c, u * p + j] for j in range(p)]
            mask[c, u * p + window.index(max(window))] = 1
    return mask


#: the leaves computed from the forward at the point: {op: (its mask port, the mask)}
MASKS = {"max_pool": ("S", _first_max), "max_pool2d": ("S", first_max2)}
