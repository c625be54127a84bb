"""The δ-recursion, derived one layer kind at a time in index notation.

Each template below derives the steps of one kind of layer — the output layer, a
hidden layer, the weight and bias gradients of a layer — once, with a symbolic layer
index and symbolic widths. `backprop` instantiates the templates for every layer by
substitution, so the cost grows linearly with depth and the nested loss is never
differentiated (only `certify` does that, at small sizes).
"""
from functools import lru_cache

from sympy import (
    Add,
    BlockMatrix,
    IndexedBase,
    Mul,
    OneMatrix,
    S,
    Sum,
    cancel,
    diff,
    fraction,
    together,
)
from sympy.matrices.expressions import HadamardProduct, MatMul, Transpose

from ..calculus.kronecker import contract, lift, tidy
from ..ir.nodes import Act, MatPartial, Partial, Times, Var, act_function, component
from ..ir.steps import Rule, Step
from ..spec import rules
from ..vocab import BATCH, DEPTH, ETA, LAYER, LOSS, WIDTH, a, b, i, j, k, r, s
from .softmax import softmax_delta, softmax_index


class Shapes:
    """Builds the layer quantities of one network shape (bias mode, batch)."""

    def __init__(self, bias, batch):
        self.bias, self.batch = bias, batch
        self.m = BATCH if batch else S.One

    def n(self, layer):
        return WIDTH[layer]

    def var(self, kind, layer, last=DEPTH):
        n = self.n
        if kind == "W":
            return Var("W", layer, n(layer), n(layer - 1) + (1 if self.bias == "augmented" else 0))
        if kind == "Wbar":
            return Var("Wbar", layer, n(layer), n(layer - 1))
        if kind == "b":
            return Var("b", layer, n(layer), 1)
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


def _apply(rule, arg):
    """σ(arg) as a scalar in index notation (the identity is left out)."""
    return arg if rule.is_identity else act_function(rule.name, 0)(arg)


def _prime(rule, arg):
    return S.One if rule.is_identity else act_function(rule.name, 1)(arg)


def _out_form(rule, z_component):
    """σ' written in the output, where natural; None otherwise."""
    if rule.derivative_out is None or rule.is_identity:
        return None
    return rule.derivative_out.xreplace({rules.u: z_component})


# --- forward pass ---------------------------------------------------------------------
def forward_steps(sh, rule, layer):
    """h_l = W_l z_{l-1} (+ b_l) and z_l = σ(h_l), componentwise and as matrices."""
    W, h, z = sh.var("W", layer), sh.var("h", layer), sh.var("z", layer)
    zin = sh.layer_input(layer)
    steps = []
    if sh.bias == "augmented":
        prev = sh.var("z", layer - 1)
        steps.append(Step(zin, BlockMatrix([[prev], [OneMatrix(1, sh.m)]]), Rule.DEFINITION,
                          layer, "forward", "matrix", "augment"))
    pre = W * zin
    if sh.bias == "explicit":
        bias = sh.var("b", layer)
        pre = pre + (bias * Transpose(sh.ones()) if sh.batch else bias)
    comp_h = sh.comp(h, i, s)
    steps.append(Step(comp_h, _pre_activation_index(sh, layer, i, s), Rule.FORWARD, layer,
                      "forward", "index", "pre"))
    steps.append(Step(h, pre, Rule.FORWARD, layer, "forward", "matrix", "pre"))
    if rule.elementwise:
        steps.append(Step(sh.comp(z, i, s), _apply(rule, comp_h), Rule.FORWARD, layer,
                          "forward", "index", "post"))
    else:
        steps.append(Step(sh.comp(z, i, s), softmax_index(sh, h, i, s), Rule.FORWARD,
                          layer, "forward", "index", "post"))
    steps.append(Step(z, h if rule.is_identity else Act(rule.name, h, 0), Rule.FORWARD,
                      layer, "forward", "matrix", "post"))
    return steps


def _pre_activation_index(sh, layer, row, sample, split_bias=False):
    """h_{l,row} = Σ_j W_{row,j} z_{l-1,j} (+ bias) in index notation."""
    W = sh.var("W", layer)
    if sh.bias == "augmented" and not split_bias:
        zin = sh.layer_input(layer)
        return Sum(_w(W, row, j) * sh.comp(zin, j, sample),
                   (j, 1, sh.n(layer - 1) + 1))
    prev = sh.var("z", layer - 1)
    body = Sum(_w(W, row, j) * sh.comp(prev, j, sample), (j, 1, sh.n(layer - 1)))
    if sh.bias == "augmented":
        return body + _w(W, row, sh.n(layer - 1) + 1)
    if sh.bias == "explicit":
        return body + component(sh.var("b", layer), row)
    return body


def _w(W, row, col):
    return IndexedBase(W)[row, col]


# --- the loss and the output layer ----------------------------------------------------
def loss_index(sh, loss):
    """J = c Σ_i ℓ(z_{L,i}, y_i), with the batch mean when columns are samples."""
    z, y = sh.var("z", DEPTH), sh.var("y", DEPTH)
    factor = loss.factor.xreplace({rules.n: sh.n(DEPTH)})
    term = loss.term.xreplace({rules.u: sh.comp(z, i, r), rules.t: sh.comp(y, i, r)})
    body = Sum(term, (i, 1, sh.n(DEPTH)))
    if sh.batch:
        return factor / BATCH * Sum(term, (i, 1, sh.n(DEPTH)), (r, 1, BATCH))
    return factor * body


def loss_matrix(sh, loss):
    """The loss as a matrix expression (single sample): a product of two components
    becomes a dot product, a square becomes xᵀx. None for batches."""
    if sh.batch:
        return None
    z, y = sh.var("z", DEPTH), sh.var("y", DEPTH)
    factor = loss.factor.xreplace({rules.n: sh.n(DEPTH)})
    term = loss.term.xreplace({rules.u: sh.comp(z, k), rules.t: sh.comp(y, k)})
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


def output_template(sh, loss, rule):
    """Steps and results for the output layer L: ∂J/∂z_L, δ_L and the cancellation."""
    z, h, y, d = (sh.var(kind, DEPTH) for kind in ("z", "h", "y", "delta"))
    L = DEPTH
    steps, assumptions = [], []
    J = loss_index(sh, loss)
    steps.append(Step(LOSS, J, Rule.LOSS, L, "loss", "index", "loss"))
    Jm = loss_matrix(sh, loss)
    if Jm is not None:
        steps.append(Step(LOSS, Jm, Rule.LOSS, L, "loss", "matrix", "loss"))
    # ∂J/∂z_L componentwise: differentiate the sum, contract the delta
    zk, yk, hk, dk = (sh.comp(v, k, s) for v in (z, y, h, d))
    raw = diff(J, zk)
    contracted = contract(raw)
    grad_z = tidy(contracted)
    steps += [Step(Partial(LOSS, zk), raw, Rule.ELEMENTWISE, L, "output", "index", "dJdz"),
              Step(Partial(LOSS, zk), contracted, Rule.KRONECKER, L, "output", "index", "dJdz")]
    if grad_z != contracted:
        steps.append(Step(Partial(LOSS, zk), grad_z, Rule.SUBSTITUTION, L, "output", "index",
                          "dJdz"))
    grad_z_matrix = lift(grad_z, z.shape)
    steps.append(Step(MatPartial(LOSS, z), grad_z_matrix, Rule.HADAMARD, L, "output", "matrix",
                      "dJdz"))
    results = {"dJdz": grad_z_matrix}
    if rule.elementwise:
        delta, extra = _elementwise_delta(sh, rule, L, Partial(LOSS, zk), grad_z,
                                          MatPartial(LOSS, z), grad_z_matrix, "output")
        steps += extra
    else:
        delta, extra, assumptions = softmax_delta(sh, loss, grad_z, grad_z_matrix)
        steps += extra
    results["delta"] = delta
    return steps, results, assumptions


def _elementwise_delta(sh, rule, layer, g_symbol, g_value, g_matrix_symbol, g_matrix, topic):
    """δ_k = Σ_j ∂J/∂z_j ∂z_j/∂h_k = ∂J/∂z_k σ'(h_k): chain rule, elementwise
    derivative, contraction, the output form of σ', and any cancellation."""
    z, h, d = (sh.var(kind, layer) for kind in ("z", "h", "delta"))
    hk, zk, dk = sh.comp(h, k, s), sh.comp(z, k, s), sh.comp(d, k, s)
    zj, hj = sh.comp(z, j, s), sh.comp(h, j, s)
    n = sh.n(layer)
    g_j = g_symbol.xreplace({k: j})
    group = "delta"
    steps = [Step(dk, Partial(LOSS, hk), Rule.DEFINITION, layer, topic, "index", group)]
    chain = Sum(g_j * Partial(zj, hk), (j, 1, n))
    steps.append(Step(dk, chain, Rule.CHAIN_RULE, layer, topic, "index", group))
    local = diff(_apply(rule, hj), hk)          # σ'(h_j) δ_jk, from SymPy
    steps.append(Step(Partial(zj, hk), local, Rule.ELEMENTWISE, layer, topic, "index",
                      "local"))
    if rule.note:
        steps[-1] = Step(steps[-1].lhs, steps[-1].rhs, steps[-1].rule, layer, topic, "index",
                         "local", rule.note)
    summed = Sum(g_j * local, (j, 1, n))
    contracted = contract(summed)
    steps += [Step(dk, summed, Rule.SUBSTITUTION, layer, topic, "index", group),
              Step(dk, contracted, Rule.KRONECKER, layer, topic, "index", group)]
    prime = _prime(rule, hk)
    out = _out_form(rule, zk)
    if out is not None:
        steps.append(Step(prime, out, Rule.OUTPUT_FORM, layer, topic, "index", "out"))
        steps.append(Step(Act(rule.name, h, 1), lift(out, h.shape), Rule.OUTPUT_FORM, layer,
                          topic, "matrix", "out"))
    if g_value is not None:
        factor = out if out is not None else prime
        value = g_value * factor
        shown = Times(g_value, factor) if factor != 1 else g_value
        steps.append(Step(dk, shown, Rule.SUBSTITUTION, layer, topic, "index", group))
        num, den = fraction(together(g_value))
        cancelled = tidy(cancel(together(value)))
        if rule.is_identity or (den.has(zk) and not fraction(cancelled)[1].has(zk)):
            if not rule.is_identity:
                steps.append(Step(dk, cancelled, Rule.CANCELLATION, layer, topic, "index",
                                  group))
            matrix = lift(cancelled, h.shape)
            steps.append(Step(d, matrix, Rule.CANCELLATION if not rule.is_identity
                              else Rule.HADAMARD, layer, topic, "matrix", "delta_matrix",
                              "σ'(h) = 1 for the identity" if rule.is_identity else ""))
            return matrix, steps
    if rule.is_identity:
        matrix = g_matrix
    else:
        matrix = HadamardProduct(g_matrix, Act(rule.name, h, 1))
    steps.append(Step(d, HadamardProduct(g_matrix_symbol, Act(rule.name, h, 1))
                      if not rule.is_identity else g_matrix_symbol,
                      Rule.HADAMARD, layer, topic, "matrix", "delta_matrix"))
    if matrix != steps[-1].rhs:
        steps.append(Step(d, matrix, Rule.SUBSTITUTION, layer, topic, "matrix", "delta_matrix"))
    return matrix, steps


# --- a hidden layer: δ_l from δ_{l+1} ---------------------------------------------------
def hidden_template(sh, rule):
    """Steps and results for a hidden layer l, from δ_{l+1} (layer symbol LAYER)."""
    l = LAYER
    z, h, d = (sh.var(kind, l) for kind in ("z", "h", "delta"))
    Wn, dn = sh.var("W", l + 1), sh.var("delta", l + 1)
    zk = sh.comp(z, k, s)
    pre_next = _pre_activation_index(sh, l + 1, i, r, split_bias=True)
    steps = []
    chain = Sum(sh.sample_sum(sh.comp(dn, i, r) * Partial(sh.comp(sh.var("h", l + 1), i, r), zk)),
                (i, 1, sh.n(l + 1)))
    steps.append(Step(Partial(LOSS, zk), chain, Rule.CHAIN_RULE, l, "hidden", "index", "dJdz"))
    local_raw = diff(pre_next, zk)
    local = contract(local_raw)
    hn_comp = sh.comp(sh.var("h", l + 1), i, r)
    steps += [Step(Partial(hn_comp, zk), local_raw, Rule.LINEAR_JACOBIAN, l, "hidden", "index",
                   "linear"),
              Step(Partial(hn_comp, zk), local, Rule.KRONECKER, l, "hidden", "index", "linear")]
    summed = contract(Sum(sh.sample_sum(sh.comp(dn, i, r) * local), (i, 1, sh.n(l + 1))))
    steps.append(Step(Partial(LOSS, zk), summed, Rule.KRONECKER, l, "hidden", "index", "dJdz"))
    weights = sh.var("Wbar", l + 1) if sh.bias == "augmented" else Wn
    if sh.bias == "augmented":
        steps.append(Step(weights, Wn, Rule.DEFINITION, l, "hidden", "matrix", "wbar",
                          "the weights without their last (bias) column"))
    back = Transpose(weights) * dn
    steps.append(Step(MatPartial(LOSS, z), back, Rule.MATRIX_PRODUCT, l, "hidden", "matrix",
                      "dJdz"))
    delta, extra = _elementwise_delta(sh, rule, l, Partial(LOSS, zk), None,
                                      MatPartial(LOSS, z), back, "hidden")
    steps += extra
    return steps, {"delta": delta, "dJdz": back}


# --- the gradients of one layer's parameters --------------------------------------------
def gradient_template(sh):
    """∂J/∂W_l = δ_l z_{l-1}ᵀ (and ∂J/∂b_l = δ_l) via components (layer symbol LAYER)."""
    l = LAYER
    W, h, d = sh.var("W", l), sh.var("h", l), sh.var("delta", l)
    zin = sh.layer_input(l)
    Wab = _w(W, a, b)
    steps = []
    hi = sh.comp(h, i, r)
    chain = Sum(sh.sample_sum(sh.comp(d, i, r) * Partial(hi, Wab)), (i, 1, sh.n(l)))
    steps.append(Step(Partial(LOSS, Wab), chain, Rule.CHAIN_RULE, l, "weights", "index", "dW"))
    raw = diff(_pre_activation_index(sh, l, i, r), Wab)
    local = contract(raw)
    steps += [Step(Partial(hi, Wab), raw, Rule.LINEAR_JACOBIAN, l, "weights", "index", "linW"),
              Step(Partial(hi, Wab), local, Rule.KRONECKER, l, "weights", "index", "linW")]
    substituted = Sum(sh.sample_sum(sh.comp(d, i, r) * local), (i, 1, sh.n(l)))
    contracted = contract(substituted)
    steps += [Step(Partial(LOSS, Wab), substituted, Rule.SUBSTITUTION, l, "weights", "index",
                   "dW"),
              Step(Partial(LOSS, Wab), contracted, Rule.KRONECKER, l, "weights", "index", "dW")]
    grad_W = d * Transpose(zin)
    steps.append(Step(MatPartial(LOSS, W), grad_W,
                      Rule.MATRIX_PRODUCT if sh.batch else Rule.OUTER, l, "weights", "matrix",
                      "dW"))
    results = {"W": grad_W, "index_W": chain}
    steps.append(Step(W, W - ETA * MatPartial(LOSS, W), Rule.UPDATE, l, "update", "matrix",
                      "update"))
    if sh.bias == "explicit":
        bias = sh.var("b", l)
        ba = component(bias, a)
        chain_b = Sum(sh.sample_sum(sh.comp(d, i, r) * Partial(hi, ba)), (i, 1, sh.n(l)))
        local_b = contract(diff(_pre_activation_index(sh, l, i, r), ba))
        contracted_b = contract(Sum(sh.sample_sum(sh.comp(d, i, r) * local_b), (i, 1, sh.n(l))))
        grad_b = d * sh.ones() if sh.batch else d
        steps += [Step(Partial(LOSS, ba), chain_b, Rule.CHAIN_RULE, l, "bias", "index", "db"),
                  Step(Partial(hi, ba), local_b, Rule.LINEAR_JACOBIAN, l, "bias", "index", "linb"),
                  Step(Partial(LOSS, ba), contracted_b, Rule.KRONECKER, l, "bias", "index", "db"),
                  Step(MatPartial(LOSS, bias), grad_b, Rule.MATRIX_PRODUCT, l, "bias", "matrix",
                       "db"),
                  Step(bias, bias - ETA * MatPartial(LOSS, bias), Rule.UPDATE, l, "update",
                       "matrix", "update")]
        results["b"] = grad_b
        results["index_b"] = chain_b
    return steps, results


@lru_cache(maxsize=128)
def templates(bias, batch, loss_name, output_name, hidden_names):
    """All templates a network needs, derived once per distinct layer kind."""
    sh = Shapes(bias, batch)
    out = output_template(sh, rules.loss(loss_name), rules.activation(output_name))
    hidden = {name: hidden_template(sh, rules.activation(name)) for name in hidden_names}
    forward = {name: forward_steps(sh, rules.activation(name), LAYER)
               for name in set(hidden_names) | {output_name}}
    return sh, out, hidden, forward, gradient_template(sh)
