"""The op table: every primitive a network is built of, one `defop` row each.

A row is the math of one op, once: its ports (``x``, ``W``, ``b`` in, ``y`` out; the
loss writes ``J``), its forward **in index notation** (one component, given the ports
bound to quantities and the component's indices), its forward as a **matrix
expression**, and a **claimed** matrix-form VJP for each input: the cotangent of that
input, given the cotangent ``G`` of the output. Which quantities the ports read is the
call's business (`derive.ir.calls.OpCall`): the row's ``ports`` give its usual binding
(x = z_{l-1}, W = W_l, y = h_l for the dense op), used where no call says otherwise
and to check the row. One activation row serves h → z, h → a, ĥ → a and ĥ → z. The
claims are never trusted: `derive.engine.vjp` derives every VJP from the index forward
(chain rule, ``diff``, Kronecker contraction) and checks the claim against it, and a
missing or wrong claim is an error naming the op and the input.

The layer templates of `derive.engine.layers` read their forward equations and their
matrix results from these rows, bound to quantities (`Bound`).
"""
from dataclasses import dataclass, field
from functools import lru_cache

from sympy import Add, BlockMatrix, IndexedBase, KroneckerDelta, Mul, OneMatrix, S, Sum, Symbol, diff
from sympy.matrices.expressions import HadamardProduct, MatMul, Trace, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..calculus.kronecker import lift, tidy
from ..ir.calls import OpCall
from ..ir.nodes import Act, act_function, component
from ..ir.quantities import Q
from ..spec import rules
from ..vocab import BATCH, COLUMNS, KERNEL, LAMBDA, LENGTH, LOSS, POOL, WIDTH, i, j, k, r, s

q = Symbol("q", integer=True, positive=True)  # summation index inside softmax


class Shapes:
    """Builds the layer quantities of one network shape (bias mode, batch)."""

    def __init__(self, bias, batch, norm="none"):
        self.bias, self.batch, self.norm = bias, batch, norm
        self.m = BATCH if batch else S.One

    kernel, pool = KERNEL, POOL      # a convolution's kernel size and pooling window

    def n(self, layer):
        return WIDTH[layer]

    def length(self, layer):
        """A convolutional layer's number of positions, N_layer (a 2-D one's rows)."""
        return LENGTH[layer]

    def columns(self, layer):
        """A 2-D convolutional layer's image columns, N'_layer."""
        return COLUMNS[layer]

    def var(self, kind, layer):
        """The matrix symbol of quantity ``kind`` at ``layer``, its shape read from the
        quantity table (`derive.ir.quantities`)."""
        return Q(kind, layer).var(self)

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


class Bound:
    """The ports of one call as matrix symbols at a network shape: ``b["x"]`` is the
    quantity the call binds to port x (the loss J as its scalar symbol)."""

    def __init__(self, sh, call, output):
        self.sh, self.call, self.output = sh, call, output

    def q(self, port):
        """The quantity bound to ``port``."""
        return self.call.out if port == self.output else self.call.args[port]

    def __getitem__(self, port):
        q = self.q(port)
        return LOSS if q.kind == LOSS.name else self.sh.var(q.kind, q.layer)


@dataclass(frozen=True)
class Op:
    """One primitive: ``y = forward(inputs)``, with a claimed VJP per input.

    ``ports`` maps every port name to ``(kind, layer offset)``, its usual binding (the
    output port is ``output``). ``index(b, row, sample, wrt)`` is one component of the
    output for the ports bound by ``b`` (`Bound`; ``wrt`` the input port it is
    differentiated by, for rows whose index form depends on it); ``matrix(b)`` the whole
    output; ``vjps[port](b, G)`` the claimed cotangent of ``port``.
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
    aux: dict = field(default_factory=dict)  # auxiliary ports: port -> index form
    batched: bool = True          # proved with a batch of samples too (a convolution: not)

    def call(self, layer, **rebind):
        """The op called at ``layer`` with its usual binding (``rebind``: port -> kind,
        the same layer offset)."""
        args = {port: Q(rebind.get(port, kind), layer + offset)
                for port, (kind, offset) in self.ports.items() if port != self.output}
        kind, offset = self.ports[self.output]
        return OpCall(self.name, args, Q(rebind.get(self.output, kind), layer + offset))

    def bind(self, sh, layer, **rebind):
        """The `Bound` ports of `call` at ``layer``."""
        return Bound(sh, self.call(layer, **rebind), self.output)

    def bound(self, sh, call):
        """The `Bound` ports of a call of this row."""
        return Bound(sh, call, self.output)


OPS = {}


def makeop(name, output, inputs, index, matrix, ports, scalar=False, jacobian=None,
           jacobian_matrix=None, last=False, aux=None, batched=True, **vjps):
    """One op row (see `Op`), not registered."""
    return Op(name, output, tuple(inputs), dict(ports), index, matrix, vjps, scalar,
              jacobian, jacobian_matrix, last, dict(aux or {}), batched)


def defop(name, *args, **kwargs):
    """Register one op row in the table (see `Op`)."""
    OPS[name] = makeop(name, *args, **kwargs)
    return OPS[name]


def _w(W, row, col):
    return IndexedBase(W)[row, col]


# --- linear maps: y = W x, y = W x + b, y = W [x; 1] -------------------------------------
def dense_index(b, row, sample, wrt=None):
    """y_row = Σ_j W_{row,j} x_j in index notation."""
    x = b["x"]
    return Sum(_w(b["W"], row, j) * b.sh.comp(x, j, sample), (j, 1, x.shape[0]))


def dense_bias_index(b, row, sample, wrt=None):
    """y_row = Σ_j W_{row,j} x_j + b_row."""
    return dense_index(b, row, sample) + component(b["b"], row)


def dense_augmented_index(b, row, sample, wrt=None):
    """y_row = Σ_j W_{row,j} [x; 1]_j; differentiating by x (``wrt="x"``) reads the
    bias column apart: Σ_{j ≤ n} W_{row,j} x_j + W_{row,n+1}."""
    x = b["x"]
    if wrt != "x":
        return Sum(_w(b["W"], row, j) * b.sh.comp(b["xaug"], j, sample), (j, 1, x.shape[0] + 1))
    return dense_index(b, row, sample) + _w(b["W"], row, x.shape[0] + 1)


def augment_matrix(b):
    """[x; 1]: the layer input with a row of ones appended."""
    return BlockMatrix([[b["x"]], [OneMatrix(1, b.sh.m)]])


def _input(b):
    return b["xaug"] if "xaug" in b.call.args else b["x"]


def dense_vjp_W(b, G):
    return G * Transpose(_input(b))


def dense_vjp_x(b, G):
    return Transpose(b["Wbar"] if "Wbar" in b.call.args else b["W"]) * G


def dense_vjp_b(b, G):
    return b.sh.total(G)


_DENSE_PORTS = {"y": ("h", 0), "W": ("W", 0), "x": ("z", -1)}
defop("dense", "y", ("W", "x"), dense_index, lambda b: b["W"] * b["x"], _DENSE_PORTS,
      W=dense_vjp_W, x=dense_vjp_x)
defop("dense_augmented", "y", ("W", "x"), dense_augmented_index,
      lambda b: b["W"] * b["xaug"], dict(_DENSE_PORTS, xaug=("zaug", -1), Wbar=("Wbar", 0)),
      W=dense_vjp_W, x=dense_vjp_x)
defop("dense_bias", "y", ("W", "x", "b"), dense_bias_index,
      lambda b: b["W"] * b["x"] + b.sh.spread(b["b"]), dict(_DENSE_PORTS, b=("b", 0)),
      W=dense_vjp_W, x=dense_vjp_x, b=dense_vjp_b)

#: the dense op of each bias mode
DENSE = {"none": "dense", "augmented": "dense_augmented", "explicit": "dense_bias"}


# --- elementwise: one row per activation of spec.rules ----------------------------------
def apply(rule, arg):
    """σ(arg) as a scalar in index notation (the identity is left out)."""
    return arg if rule.is_identity else act_function(rule.name, 0)(arg)


def elementwise_row(rule):
    """The op row of an elementwise activation, y = σ(x) (usually z_l = σ(h_l))."""
    def index(b, row, sample, wrt=None):
        return apply(rule, b.sh.comp(b["x"], row, sample))

    def matrix(b):
        return b["x"] if rule.is_identity else Act(rule.name, b["x"], 0)

    def vjp(b, G):   # G ⊙ σ'(x)
        return G if rule.is_identity else HadamardProduct(G, Act(rule.name, b["x"], 1))

    return dict(output="y", inputs=("x",), index=index, matrix=matrix,
                ports={"y": ("z", 0), "x": ("h", 0)}, x=vjp)


for _row in rules.ACTIVATIONS.values():
    if _row.elementwise:
        defop(_row.name, **elementwise_row(_row))


# --- softmax: the one activation with a full Jacobian, diag(y) − y yᵀ -------------------
def softmax_index(sh, x, row, sample):
    num = rules.ACTIVATIONS["softmax"].forward
    return num.xreplace({rules.x: sh.comp(x, row, sample)}) / Sum(
        num.xreplace({rules.x: sh.comp(x, q, sample)}), (q, 1, x.shape[0]))


def softmax_jacobian(b):
    """diag(y) − y yᵀ (single sample; None for a batch, where it is one per column)."""
    y = b["y"]
    return None if b.sh.batch else DiagMatrix(y) - y * Transpose(y)


def softmax_jacobian_index(b):
    """∂y_i/∂x_k = y_i(δ_ik − y_k), the component of diag(y) − y yᵀ."""
    y = b["y"]
    return b.sh.comp(y, i, s) * (KroneckerDelta(i, k) - b.sh.comp(y, k, s))


def softmax_vjp_x(b, G):
    """(diag(y) − y yᵀ) G; column by column for a batch: y ⊙ G − y ⊙ (𝟙𝟙ᵀ(y ⊙ G))."""
    if not b.sh.batch:
        return MatMul(softmax_jacobian(b), G)
    y = b["y"]
    ones = OneMatrix(y.shape[0], 1)
    yg = HadamardProduct(y, G)
    return yg - HadamardProduct(y, ones * Transpose(ones) * yg)


defop("softmax", "y", ("x",),
      lambda b, row, sample, wrt=None: softmax_index(b.sh, b["x"], row, sample),
      lambda b: Act("softmax", b["x"], 0),
      {"y": ("z", 0), "x": ("h", 0)}, jacobian=softmax_jacobian_index,
      jacobian_matrix=softmax_jacobian, x=softmax_vjp_x)


# --- the loss: one row per loss of spec.rules ------------------------------------------
def loss_index(b, loss):
    """J = c Σ_i ℓ(x_i, t_i) (x = z_L, t = y), with the batch mean when columns are samples."""
    sh, x, t = b.sh, b["x"], b["t"]
    n = x.shape[0]
    factor = loss.factor.xreplace({rules.n: n})
    term = loss.term.xreplace({rules.u: sh.comp(x, i, r), rules.t: sh.comp(t, i, r)})
    if sh.batch:
        return factor / BATCH * Sum(term, (i, 1, n), (r, 1, BATCH))
    return factor * Sum(term, (i, 1, n))


def loss_matrix(b, loss):
    """The loss as a matrix expression (single sample): a product of two components
    becomes a dot product, a square becomes xᵀx. None for batches."""
    if b.sh.batch:
        return None
    x, t = b["x"], b["t"]
    factor = loss.factor.xreplace({rules.n: x.shape[0]})
    term = loss.term.xreplace({rules.u: b.sh.comp(x, k), rules.t: b.sh.comp(t, k)})
    total = _dot_form(term, (x.shape[0], 1))
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
    def vjp_x(b, G):   # c ∂ℓ/∂u (x, t) elementwise, over m for a batch
        x, t = b["x"], b["t"]
        factor = loss.factor.xreplace({rules.n: x.shape[0]}) / b.sh.m
        local = diff(loss.term, rules.u).xreplace({rules.u: b.sh.comp(x, k, s),
                                                   rules.t: b.sh.comp(t, k, s)})
        return lift(tidy(factor * local), x.shape)

    return dict(output="J", inputs=("x",), index=lambda b, *_, **__: loss_index(b, loss),
                matrix=lambda b: loss_matrix(b, loss),
                ports={"J": (LOSS.name, 0), "x": ("z", 0), "t": ("y", 0)}, scalar=True,
                last=True, x=vjp_x)


for _row in rules.LOSSES.values():
    defop("loss:" + _row.name, **_loss_row(_row))


# --- the penalty: weight decay, (λ/2)‖W‖_F², a second path into W_l ------------------
def penalty_index(b, row=None, sample=None, wrt=None):
    W = b["W"]
    return LAMBDA / 2 * Sum(_w(W, i, j) ** 2, (i, 1, W.shape[0]), (j, 1, W.shape[1]))


defop("penalty", "J", ("W",), penalty_index,
      lambda b: LAMBDA / 2 * Trace(Transpose(b["W"]) * b["W"]),
      {"J": (LOSS.name, 0), "W": ("W", 0)}, scalar=True,
      W=lambda b, G: LAMBDA * b["W"])


@lru_cache(maxsize=256)
def _custom_op(name):
    return makeop(name, **elementwise_row(rules.activation(name)))


def op_row(name):
    """The row of an op name: a table row, or the row of a ``custom:`` activation."""
    return OPS[name] if name in OPS else _custom_op(name)


activation_op = op_row


def loss_op(name):
    return OPS["loss:" + name]
