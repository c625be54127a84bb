"""The op table: every primitive a network is built of, one `defop` row each.

A row names the op's output port and input ports (layer quantities: ``h``, ``z``,
``W``, ``b``, ``zaug``, the loss ``J``), its forward **in index notation** (one
component, as a function of the layer shapes, the layer and the component's indices),
its forward as a **matrix expression**, and a **claimed** matrix-form VJP for each
input: the cotangent of that input, given the cotangent ``G`` of the output. The
claims are never trusted: `derive.engine.vjp` derives every VJP from the index forward
(chain rule, ``diff``, Kronecker contraction) and checks the claim against it, and a
missing or wrong claim is an error naming the op and the input.

The layer templates of `derive.engine.layers` read their forward equations and their
matrix results from these rows; `BLOCKS` lists which ops make a block.
"""
from dataclasses import dataclass, field
from functools import lru_cache

from sympy import Add, BlockMatrix, IndexedBase, KroneckerDelta, Mul, OneMatrix, S, Sum, Symbol, diff
from sympy.matrices.expressions import HadamardProduct, MatMul, Trace, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..calculus.kronecker import lift, tidy
from ..ir.nodes import Act, Var, act_function, component
from ..spec import rules
from ..vocab import BATCH, DEPTH, LAMBDA, LOSS, WIDTH, i, j, k, r, s

q = Symbol("q", integer=True, positive=True)  # summation index inside softmax


class Shapes:
    """Builds the layer quantities of one network shape (bias mode, batch)."""

    def __init__(self, bias, batch, norm="none"):
        self.bias, self.batch, self.norm = bias, batch, norm
        self.m = BATCH if batch else S.One

    def n(self, layer):
        return WIDTH[layer]

    def var(self, kind, layer, last=DEPTH):
        n = self.n
        if kind == "W":
            return Var("W", layer, n(layer), n(layer - 1) + (1 if self.bias == "augmented" else 0))
        if kind == "Wbar":
            return Var("Wbar", layer, n(layer), n(layer - 1))
        if kind in ("b", "gamma", "beta"):
            return Var(kind, layer, n(layer), 1)
        if kind in ("mu", "var"):   # per sample (layer norm) or per feature (batch norm)
            return Var(kind, layer, 1, self.m) if self.norm != "batch" else \
                Var(kind, layer, n(layer), 1)
        if kind == "zaug":
            return Var("zaug", layer, n(layer) + 1, self.m)
        if kind == "y":
            return Var("y", last, n(last), self.m)
        return Var(kind, layer, n(layer), self.m)

    def comp(self, var, row, sample=None):
        """A component: v_row, or v_{row,sample} in batch mode."""
        return component(var, row, sample if self.batch else None)

    def sample_sum(self, expr):
        """Σ over the batch (a no-op for a single sample)."""
        return Sum(expr, (r, 1, BATCH)) if self.batch else expr

    def layer_input(self, layer):
        """The quantity multiplied by W_layer: z_{layer-1}, or [z_{layer-1}; 1]."""
        return self.var("zaug" if self.bias == "augmented" else "z", layer - 1)

    def ones(self):
        return OneMatrix(self.m, 1)

    def spread(self, v):
        """A per-feature column v (n×1) repeated over the m samples: v 1ᵀ (v for one)."""
        return v * Transpose(self.ones()) if self.batch else v

    def total(self, M):
        """The sum of M's columns over the samples: M 1 (M itself for one sample)."""
        return M * self.ones() if self.batch else M


@dataclass(frozen=True)
class Op:
    """One primitive: ``output = forward(inputs)``, with a claimed VJP per input.

    ``ports`` maps a port name to ``(kind, layer offset)``: the layer quantity the port
    reads or writes, relative to the op's layer. ``index(sh, layer, row, sample, wrt)``
    is one component of the output (``wrt`` the input port it is differentiated by,
    for rows whose index form depends on it); ``matrix(sh, layer)`` the whole output;
    ``vjps[port](sh, layer, G)`` the claimed cotangent of ``port``.
    """

    name: str
    output: str
    inputs: tuple
    ports: dict
    index: object
    matrix: object
    vjps: dict = field(default_factory=dict)
    scalar: bool = False          # the output is the scalar loss (no output index)
    jacobian: object = None       # a full Jacobian's claimed component ∂o_i/∂x_k (softmax)
    jacobian_matrix: object = None  # … and as a matrix (single sample; None for a batch)
    last: bool = False            # the op sits at the output layer L (the loss)
    aux: dict = field(default_factory=dict)  # auxiliary quantities: kind -> index form


OPS = {}


def makeop(name, output, inputs, index, matrix, ports, scalar=False, jacobian=None,
           jacobian_matrix=None, last=False, aux=None, **vjps):
    """One op row (see `Op`), not registered."""
    return Op(name, output, tuple(inputs), dict(ports), index, matrix, vjps, scalar,
              jacobian, jacobian_matrix, last, dict(aux or {}))


def defop(name, *args, **kwargs):
    """Register one op row in the table (see `Op`)."""
    OPS[name] = makeop(name, *args, **kwargs)
    return OPS[name]


def _w(W, row, col):
    return IndexedBase(W)[row, col]


# --- linear maps ----------------------------------------------------------------------
def dense_index(sh, layer, row, sample, wrt=None):
    """h_{l,row} = Σ_j W_{row,j} z_{l-1,j} (+ bias) in index notation; with the augmented
    input, differentiating by z reads the bias column apart (``wrt="z"``)."""
    W = sh.var("W", layer)
    if sh.bias == "augmented" and wrt != "z":
        zin = sh.layer_input(layer)
        return Sum(_w(W, row, j) * sh.comp(zin, j, sample), (j, 1, sh.n(layer - 1) + 1))
    prev = sh.var("z", layer - 1)
    body = Sum(_w(W, row, j) * sh.comp(prev, j, sample), (j, 1, sh.n(layer - 1)))
    if sh.bias == "augmented":
        return body + _w(W, row, sh.n(layer - 1) + 1)
    if sh.bias == "explicit":
        return body + component(sh.var("b", layer), row)
    return body


def dense_matrix(sh, layer):
    pre = sh.var("W", layer) * sh.layer_input(layer)
    if sh.bias == "explicit":
        pre = pre + sh.spread(sh.var("b", layer))
    return pre


def augment_matrix(sh, layer):
    """[z_{l-1}; 1]: the layer input with a row of ones appended."""
    return BlockMatrix([[sh.var("z", layer - 1)], [OneMatrix(1, sh.m)]])


def dense_vjp_W(sh, layer, G):
    return G * Transpose(sh.layer_input(layer))


def dense_vjp_z(sh, layer, G):
    weights = sh.var("Wbar", layer) if sh.bias == "augmented" else sh.var("W", layer)
    return Transpose(weights) * G


def dense_vjp_b(sh, layer, G):
    return sh.total(G)


_DENSE_PORTS = {"h": ("h", 0), "W": ("W", 0), "z": ("z", -1), "b": ("b", 0)}
defop("dense", "h", ("W", "z"), dense_index, dense_matrix, _DENSE_PORTS,
      W=dense_vjp_W, z=dense_vjp_z)
defop("dense_augmented", "h", ("W", "z"), dense_index, dense_matrix, _DENSE_PORTS,
      W=dense_vjp_W, z=dense_vjp_z)
defop("dense_bias", "h", ("W", "z", "b"), dense_index, dense_matrix, _DENSE_PORTS,
      W=dense_vjp_W, z=dense_vjp_z, b=dense_vjp_b)

#: the dense op of each bias mode
DENSE = {"none": "dense", "augmented": "dense_augmented", "explicit": "dense_bias"}


# --- elementwise: one row per activation of spec.rules ----------------------------------
def apply(rule, arg):
    """σ(arg) as a scalar in index notation (the identity is left out)."""
    return arg if rule.is_identity else act_function(rule.name, 0)(arg)


def elementwise_row(rule, src="h", dst="z"):
    """The op row of an elementwise activation, ``dst = σ(src)`` (by default z = σ(h))."""
    def index(sh, layer, row, sample, wrt=None):
        return apply(rule, sh.comp(sh.var(src, layer), row, sample))

    def matrix(sh, layer):
        arg = sh.var(src, layer)
        return arg if rule.is_identity else Act(rule.name, arg, 0)

    def vjp(sh, layer, G):   # G ⊙ σ'(src)
        return G if rule.is_identity else HadamardProduct(G, Act(rule.name, sh.var(src, layer), 1))

    return dict(output=dst, inputs=(src,), index=index, matrix=matrix,
                ports={dst: (dst, 0), src: (src, 0)}, **{src: vjp})


for _row in rules.ACTIVATIONS.values():
    if _row.elementwise:
        defop(_row.name, **elementwise_row(_row))


# --- softmax: the one activation with a full Jacobian, diag(z) − z zᵀ -------------------
def softmax_index(sh, h, row, sample):
    num = rules.ACTIVATIONS["softmax"].forward
    return num.xreplace({rules.x: sh.comp(h, row, sample)}) / Sum(
        num.xreplace({rules.x: sh.comp(h, q, sample)}), (q, 1, h.shape[0]))


def softmax_jacobian(sh, layer):
    """diag(z) − z zᵀ (single sample; None for a batch, where it is one per column)."""
    z = sh.var("z", layer)
    return None if sh.batch else DiagMatrix(z) - z * Transpose(z)


def softmax_jacobian_index(sh, layer):
    """∂z_i/∂h_k = z_i(δ_ik − z_k), the component of diag(z) − z zᵀ."""
    z = sh.var("z", layer)
    return sh.comp(z, i, s) * (KroneckerDelta(i, k) - sh.comp(z, k, s))


def softmax_vjp_h(sh, layer, G):
    """(diag(z) − z zᵀ) G; column by column for a batch: z ⊙ G − z ⊙ (𝟙𝟙ᵀ(z ⊙ G))."""
    if not sh.batch:
        return MatMul(softmax_jacobian(sh, layer), G)
    z = sh.var("z", layer)
    ones = OneMatrix(sh.n(layer), 1)
    zg = HadamardProduct(z, G)
    return zg - HadamardProduct(z, ones * Transpose(ones) * zg)


defop("softmax", "z", ("h",),
      lambda sh, layer, row, sample, wrt=None: softmax_index(sh, sh.var("h", layer), row, sample),
      lambda sh, layer: Act("softmax", sh.var("h", layer), 0),
      {"z": ("z", 0), "h": ("h", 0)}, jacobian=softmax_jacobian_index,
      jacobian_matrix=softmax_jacobian, h=softmax_vjp_h)


# --- the loss: one row per loss of spec.rules ------------------------------------------
def loss_index(sh, loss):
    """J = c Σ_i ℓ(z_{L,i}, y_i), with the batch mean when columns are samples."""
    z, y = sh.var("z", DEPTH), sh.var("y", DEPTH)
    factor = loss.factor.xreplace({rules.n: sh.n(DEPTH)})
    term = loss.term.xreplace({rules.u: sh.comp(z, i, r), rules.t: sh.comp(y, i, r)})
    if sh.batch:
        return factor / BATCH * Sum(term, (i, 1, sh.n(DEPTH)), (r, 1, BATCH))
    return factor * Sum(term, (i, 1, sh.n(DEPTH)))


def loss_matrix(sh, loss):
    """The loss as a matrix expression (single sample): a product of two components
    becomes a dot product, a square becomes xᵀx. None for batches."""
    if sh.batch:
        return None
    z = sh.var("z", DEPTH)
    factor = loss.factor.xreplace({rules.n: sh.n(DEPTH)})
    term = loss.term.xreplace({rules.u: sh.comp(z, k), rules.t: sh.comp(sh.var("y", DEPTH), k)})
    total = _dot_form(term, (sh.n(DEPTH), 1))
    return factor * total if factor != 1 else total


def _dot_form(term, shape):
    """Σ_k term as a 1×1 matrix expression."""
    if isinstance(term, Add):
        parts = [_dot_form(t, shape) for t in term.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    coeff, body = term.as_coeff_Mul()
    if coeff != 1:
        return coeff * _dot_form(body, shape)
    factors = Mul.make_args(body)
    if len(factors) == 1 and factors[0].is_Pow and factors[0].exp == 2:
        vec = lift(factors[0].base, shape)
        return MatMul(Transpose(vec), vec)
    if len(factors) == 2:
        return MatMul(Transpose(lift(factors[0], shape)), lift(factors[1], shape))
    return MatMul(Transpose(OneMatrix(*shape)), lift(body, shape))


def _loss_row(loss):
    def vjp_z(sh, layer, G):   # c ∂ℓ/∂u (z, y) elementwise, over m for a batch
        z, y = sh.var("z", DEPTH), sh.var("y", DEPTH)
        factor = loss.factor.xreplace({rules.n: sh.n(DEPTH)}) / sh.m
        local = diff(loss.term, rules.u).xreplace({rules.u: sh.comp(z, k, s),
                                                   rules.t: sh.comp(y, k, s)})
        return lift(tidy(factor * local), z.shape)

    return dict(output=LOSS.name, inputs=("z",), index=lambda sh, *_, **__: loss_index(sh, loss),
                matrix=lambda sh, layer: loss_matrix(sh, loss),
                ports={LOSS.name: (LOSS.name, 0), "z": ("z", 0)}, scalar=True, last=True,
                z=vjp_z)


for _row in rules.LOSSES.values():
    defop("loss:" + _row.name, **_loss_row(_row))


def activation_op(name):
    """The op of an activation name: its row, or a row made for a ``custom:`` one."""
    return OPS[name] if name in OPS else _custom_op(name)


# --- the penalty: weight decay, (λ/2)‖W_l‖_F², a second path into W_l ---------------
def penalty_index(sh, layer, row=None, sample=None, wrt=None):
    W = sh.var("W", layer)
    return LAMBDA / 2 * Sum(_w(W, i, j) ** 2, (i, 1, sh.n(layer)), (j, 1, sh.n(layer - 1)))


defop("penalty", LOSS.name, ("W",), penalty_index,
      lambda sh, layer: LAMBDA / 2 * Trace(Transpose(sh.var("W", layer)) * sh.var("W", layer)),
      {LOSS.name: (LOSS.name, 0), "W": ("W", 0)}, scalar=True,
      W=lambda sh, layer, G: LAMBDA * sh.var("W", layer))


@lru_cache(maxsize=256)
def _custom_op(name):
    return makeop(name, **elementwise_row(rules.activation(name)))


def op_row(name):
    """The row of an op name: a table row, or the row of a ``custom:`` activation."""
    return OPS[name] if name in OPS else _custom_op(name)


def loss_op(name):
    return OPS["loss:" + name]


#: a block is a fixed sequence of ops (in forward order), the unit of repetition
BLOCKS = {
    "hidden": ("dense", "activation"),           # h_l = W_l z_{l-1} (+ b_l), z_l = σ(h_l)
    "output": ("dense", "activation", "loss"),   # … and J = loss(z_L, y)
}


def block_ops(block, bias, activation, loss=None):
    """The op rows of one block, in forward order."""
    pick = {"dense": OPS[DENSE[bias]], "activation": activation_op(activation),
            "loss": loss_op(loss) if loss else None}
    return tuple(pick[role] for role in BLOCKS[block])
