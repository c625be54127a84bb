"""Deriving every VJP of the op table from its index forward, and checking its claim.

For an op ``o = f(x, …)`` with output cotangent ``G``, the VJP of input ``x`` at the
component ``x_c`` is the chain rule ``Σ_o G_o ∂o/∂x_c``: SymPy differentiates the op's
index forward, `derive.calculus.kronecker.contract` removes the Kronecker deltas. The
row's claimed matrix VJP is read componentwise (`entry`), written through the op's
forward where it names the op's output (softmax's z), and the two must agree: exactly
at the index level with symbolic widths, or, where the sums do not line up term by
term, exactly with every sum written out at small widths. A claim that does not agree,
or a missing one, raises `OpError` naming the op and the input, with the derived VJP
lifted to matrix form (`lifted_vjp`: sums over a summed-out index become matrix
products, sums over the features or samples ones-vector products; every row's lift is
read back componentwise against its index form in tests/test_lifting.py).
"""
import random
from itertools import count, product

from sympy import (
    Add,
    Dummy,
    Identity,
    Indexed,
    IndexedBase,
    Integer,
    KroneckerDelta,
    Mul,
    OneMatrix,
    Pow,
    Rational,
    S,
    Sum,
    Symbol,
    ZeroMatrix,
    diff,
    exp,
    log,
)
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..calculus.compare import DIGITS, TOLERANCE, exactly_zero
from ..calculus.kronecker import NESTED_RULES, LiftError, contract
from ..calculus.lifting import lift_entry
from ..calculus.numeric import value
from ..ir.attention import SIZES as TOKEN_SIZES
from ..ir.nodes import Act, Var, act_function, component
from ..ir.quantities import IMAGE_DIMS, KINDS
from ..vocab import BATCH, COLUMNS, DEPTH, KERNEL, LAYER, LENGTH, POOL, WIDTH, a, b, i, j, k, r, s

_FRESH = count()
#: the elementwise functions an Act may name besides the activations (softmax's e^h)
ELEMENTARY = {"exp": exp, "log": log}
SMALL = 3   # the width at which sums are written out when the index forms do not line up
SMALL_BATCH = 2   # … and the batch size (a sample index runs over 1 … SMALL_BATCH)
SMALL_WINDOW = 2  # … and a convolution's kernel size and pooling window


class OpError(Exception):
    """An op row whose claimed VJP is missing or disagrees with the derived one."""


def _fresh():
    return Symbol(f"p{next(_FRESH)}", integer=True, positive=True)


def op_layer(op):
    """The layer a row is checked at: L for a row at the output (the loss), else l."""
    return DEPTH if op.last else LAYER


def port_var(sh, op, port, layer):
    """The quantity ``port`` of ``op`` reads in its usual binding at ``layer``."""
    return op.bind(sh, layer)[port]


def port_indices(sh, var):
    """The component indices of an input port: (a, b) of a matrix of entries (a weight),
    (a,) of a per-feature column (a bias, γ, β), (k, s) of a per-sample quantity."""
    slots = KINDS[var.kind].indices
    if slots in SLOTS:
        return SLOTS[slots]
    if slots == "column":
        return a, S.One
    return k, (s if sh.batch else S.One)


#: the component indices of the kinds indexed apart from their samples: a weight's entry,
#: a convolution's (channel, position), a kernel's (out channel, in channel, tap)
SLOTS = {"entries": (a, b), "grid": (k, b), "kernel": (a, b, k),
         "image": (k, a, b), "kernel2": (a, b, k, s)}   # a 2-D convolution's


def _port_component(sh, var):
    if KINDS[var.kind].indices in SLOTS:
        return IndexedBase(var)[port_indices(sh, var)]
    row, col = port_indices(sh, var)
    return component(var, row) if col == S.One else sh.comp(var, row, col)


def cotangent(sh, op, layer):
    """G, the cotangent of the op's output, as a layer quantity of the output's shape."""
    out = port_var(sh, op, op.output, layer)
    return Var("G", out.layer, *out.shape)


def derive_vjp(op, port, sh, layer=None):
    """Σ_o G_o ∂o/∂x_c, contracted: the VJP of ``port`` at one component."""
    layer = op_layer(op) if layer is None else layer
    bound = op.bind(sh, layer)
    x = _port_component(sh, bound[port])
    if op.scalar:
        return contract(diff(op.index(bound, None, None, wrt=port), x), NESTED_RULES)
    G = cotangent(sh, op, layer)
    out = bound.q(op.output)
    if KINDS[out.kind].indices == "image":   # Σ over channels, rows and columns
        rows, cols = IMAGE_DIMS[out.kind](sh, out.layer)
        body = IndexedBase(G)[i, r, j] * diff(op.index(bound, i, (r, j), wrt=port), x)
        return contract(Sum(body, (i, 1, G.shape[0]), (r, 1, rows), (j, 1, cols)),
                        NESTED_RULES)
    if KINDS[out.kind].indices == "grid":   # Σ over channels and positions
        body = IndexedBase(G)[i, r] * diff(op.index(bound, i, r, wrt=port), x)
        return contract(Sum(body, (i, 1, G.shape[0]), (r, 1, G.shape[1])), NESTED_RULES)
    body = sh.comp(G, i, r) * diff(op.index(bound, i, r, wrt=port), x)
    return contract(Sum(sh.sample_sum(body), (i, 1, G.shape[0])), NESTED_RULES)


# --- reading a matrix expression componentwise ---------------------------------------
def entry(M, row, col, *more):
    """The (row, col) component of a matrix expression in index notation (1-based); a
    convolution's node (`derive.ir.conv`) reads its own, a kernel's with a third index."""
    if hasattr(M, "component"):
        return M.component(row, col, *more)
    if isinstance(M, Var):
        if M.kind == "Wbar":   # the weights without their bias column
            M = Var("W", M.layer, M.shape[0], M.shape[1] + 1)
        if M.kind == "W" or M.shape[1] != 1:
            return IndexedBase(M)[row, col]
        return IndexedBase(M)[row]
    if isinstance(M, Transpose):
        return entry(M.arg, col, row)
    if isinstance(M, MatMul):
        return _product_entry(M, row, col)
    if isinstance(M, MatAdd):
        return Add(*(entry(term, row, col) for term in M.args))
    if isinstance(M, HadamardProduct):
        return Mul(*(entry(term, row, col) for term in M.args))
    if isinstance(M, HadamardPower):
        return entry(M.base, row, col) ** M.exp
    if isinstance(M, Act):
        if M.name in ELEMENTARY and M.order == 0:   # e^x and log x, as SymPy writes them
            return ELEMENTARY[M.name](entry(M.arg, row, col))
        return act_function(M.name, M.order)(entry(M.arg, row, col))
    if isinstance(M, DiagMatrix):
        return KroneckerDelta(row, col) * entry(M.args[0], row, S.One)
    if isinstance(M, OneMatrix):
        return S.One
    if isinstance(M, Identity):
        return KroneckerDelta(row, col)
    if isinstance(M, ZeroMatrix):
        return S.Zero
    raise OpError(f"cannot read {M} componentwise")


def _product_entry(M, row, col):
    scalars = [f for f in M.args if not getattr(f, "is_Matrix", False)]
    mats = [f for f in M.args if getattr(f, "is_Matrix", False)]
    if len(mats) == 1:
        return Mul(*scalars) * entry(mats[0], row, col)
    p = _fresh()
    rest = mats[1] if len(mats) == 2 else MatMul(*mats[1:])
    body = entry(mats[0], row, p) * entry(rest, p, col)
    return Mul(*scalars) * Sum(body, (p, 1, mats[0].shape[1]))


# --- checking a claim ---------------------------------------------------------------
def claimed_vjp(op, port, sh, layer=None):
    """The row's claimed VJP of ``port`` at one component, through the op's forward."""
    layer = op_layer(op) if layer is None else layer
    if port not in op.vjps:
        raise OpError(f"op {op.name!r} has no VJP for its input {port!r}")
    bound = op.bind(sh, layer)
    G = None if op.scalar else cotangent(sh, op, layer)
    claim = op.vjps[port](bound, G)
    value = entry(claim, *port_indices(sh, bound[port]))
    return value if op.scalar else _through_forward(op, bound, value)


def _through_forward(op, bound, value):
    """``value`` with every component of the op's output, and of its auxiliary
    quantities (a normalization's μ, v, x̂), written by its index forward."""
    forms = {bound[op.output]: op.index}
    forms.update({bound[port]: form for port, form in op.aux.items()})

    def written(e):
        row, col = e.indices[0], e.indices[1] if len(e.indices) > 1 else None
        return forms[e.base.label](bound, row, col)

    return value.replace(lambda e: isinstance(e, Indexed) and e.base.label in forms, written)


def check(op, sh):
    """Derive the VJP of every input of ``op`` and check the row's claim against it."""
    extra = set(op.vjps) - set(op.inputs)
    if extra:
        raise OpError(f"op {op.name!r} claims a VJP for {sorted(extra)[0]!r}, not an input")
    derived = {}
    for port in op.inputs:
        claimed = claimed_vjp(op, port, sh)
        derived[port] = derive_vjp(op, port, sh)
        if not _agree(derived[port], claimed):
            raise OpError(f"op {op.name!r}: the claimed VJP for its input {port!r} does not "
                          f"match the derived one, {_shown(op, port, sh, derived[port])}")
        if op.jacobian is not None:
            _check_jacobian(op, port, sh)
    return derived


def lifted_vjp(op, port, sh, layer=None, derived=None):
    """The derived VJP of ``port`` lifted to a matrix expression of the port's shape
    (`derive.calculus.lifting.lift_entry`): sums over a summed-out index become matrix
    products, sums over the features or the samples ones-vector products."""
    layer = op_layer(op) if layer is None else layer
    var = port_var(sh, op, port, layer)
    derived = derive_vjp(op, port, sh, layer) if derived is None else derived
    indices = port_indices(sh, var)
    if len(indices) != 2:
        raise LiftError(f"the VJP of {port!r} has {len(indices)} indices (a kernel's)")
    if any(len(e.indices) > 2 for e in derived.atoms(Indexed)):
        raise LiftError(f"the VJP of {port!r} reads an image's or a kernel's components")
    return lift_entry(derived, *indices, var.shape)


def _shown(op, port, sh, derived):
    """The derived VJP as a matrix where it lifts, else its index form."""
    try:
        return lifted_vjp(op, port, sh, derived=derived)
    except LiftError:
        return derived


def _check_jacobian(op, port, sh):
    """∂o_i/∂x_k from the index forward against the row's claimed component."""
    bound = op.bind(sh, op_layer(op))
    x = sh.comp(bound[port], k, s)
    derived = contract(diff(op.index(bound, i, s), x))
    claim = op.jacobian(bound)
    if not _agree(derived, _through_forward(op, bound, claim)):
        raise OpError(f"op {op.name!r}: the claimed Jacobian for its input {port!r} does "
                      f"not match the derived one, {derived}")
    matrix = op.jacobian_matrix(bound) if op.jacobian_matrix else None
    if matrix is not None and not _agree(entry(matrix, i, k), claim):
        raise OpError(f"op {op.name!r}: the claimed Jacobian matrix for its input {port!r} "
                      "does not match its component")


def _agree(derived, claimed):
    difference = contract(derived - claimed, NESTED_RULES)
    if exactly_zero(_canonical(difference)):
        return True
    return _agree_small(difference)


def _canonical(expr, level=0):
    """Rename every summation index by its nesting depth, so equal sums compare equal."""
    if expr.is_Atom or isinstance(expr, (Indexed, Var)):
        return expr
    if isinstance(expr, Sum):
        names = {lim[0]: Symbol(f"c{level}_{n}", integer=True, positive=True)
                 for n, lim in enumerate(expr.limits)}
        limits = [(names[v], lo, hi) for v, lo, hi in expr.limits]
        return Sum(_canonical(expr.function.xreplace(names), level + 1), *limits)
    return expr.func(*(_canonical(arg, level) for arg in expr.args))


def _agree_small(difference):
    """Every sum written out at width `SMALL` (batch `SMALL_BATCH`), at every free component:
    zero as a rational function once each square root is a free symbol (`_radicals`),
    which proves it; otherwise zero at two 50-digit random points."""
    sized = difference.replace(lambda e: isinstance(e, Indexed) and
                               e.base in (WIDTH, LENGTH, COLUMNS),
                               lambda e: Integer(SMALL)).xreplace(
        {BATCH: Integer(SMALL_BATCH), KERNEL: Integer(SMALL_WINDOW), POOL: Integer(SMALL_WINDOW)}
        | {size: Integer(SMALL) for size in TOKEN_SIZES})
    free = sorted(sized.free_symbols & {a, b, k, s}, key=str)
    ranges = [range(1, (SMALL_BATCH if x == s else SMALL) + 1) for x in free]
    for values in product(*ranges):
        point = dict(zip(free, map(Integer, values)))
        written = sized.xreplace(point).doit()
        if not (exactly_zero(_radicals(written)) or _zero_at_points(written)):
            return False
    return True


def _radicals(expr):
    """Each base A under a half-integer power written A^(e) = t_A^(2e) with t_A a fresh
    symbol: a sufficient test (zero for every t_A, so for t_A = sqrt(A))."""
    roots = {p.base for p in expr.atoms(Pow) if p.exp.is_Rational and p.exp.q == 2}
    names = {base: Dummy() for base in roots}
    return expr.replace(lambda e: e.is_Pow and e.base in names and e.exp.is_Rational,
                        lambda e: names[e.base] ** (2 * e.exp))


def _zero_at_points(expr, points=2, seed=0):
    """Zero (relative to 1) at ``points`` seeded points, every symbol a rational in (0, 1]
    (positive, so square roots of the normalizations' variances stay real)."""
    rng = random.Random(seed)
    atoms = sorted(expr.free_symbols | expr.atoms(Indexed), key=str)
    for _ in range(points):
        point = {x: Rational(rng.randint(1, 9), 10) for x in atoms}
        if abs(value(expr.xreplace(point), {}, DIGITS)) > TOLERANCE:
            return False
    return True
