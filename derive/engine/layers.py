"""The δ-recursion, derived one layer kind at a time in index notation.

Each template below derives the steps of one kind of layer — the output layer, a
hidden layer, the weight and bias gradients of a layer — once, with a symbolic layer
index and symbolic widths. `backprop` instantiates the templates for every layer by
substitution, so the cost grows linearly with depth and the nested loss is never
differentiated (only `certify` does that, at small sizes).
"""
from dataclasses import replace

from sympy import IndexedBase, S, Sum, cancel, diff, fraction, together

from ..calculus.kronecker import contract, lift, tidy
from ..ir.nodes import Act, MatPartial, Partial, Times, act_function, component
from ..ir.quantities import KINDS, PARAMETERS
from ..ir.steps import Rule, Step
from ..spec import rules
from ..vocab import DATA_LOSS, DEPTH, ETA, LAYER, LAYER_SUM, LOSS, a, b, i, j, k, r, s
from .ops import DENSE, OPS, Shapes, activation_op, augment_matrix, loss_op, op_row
from .softmax import softmax_delta
from .vjp import entry

__all__ = ["Shapes", "forward_steps", "output_template", "hidden_template",
           "gradient_template"]


def _prime(rule, arg):
    return S.One if rule.is_identity else act_function(rule.name, 1)(arg)


def _out_form(rule, z_component):
    """σ' written in the output, where natural; None otherwise."""
    if rule.derivative_out is None or rule.is_identity:
        return None
    return rule.derivative_out.xreplace({rules.u: z_component})


# --- forward pass ---------------------------------------------------------------------
def forward_steps(sh, rule, layer):
    """h_l = W_l z_{l-1} (+ b_l) and z_l = σ(h_l), componentwise and as matrices: the
    forward rows of the block's ops, in order."""
    h, z = sh.var("h", layer), sh.var("z", layer)
    dense, act = OPS[DENSE[sh.bias]], op_row(rule.name)
    steps = []
    if sh.bias == "augmented":
        steps.append(Step(sh.layer_input(layer), augment_matrix(dense.bind(sh, layer)), Rule.DEFINITION,
                          layer, "forward", "matrix", "augment"))
    for op, out, group in ((dense, h, "pre"), (act, z, "post")):
        bound = op.bind(sh, layer)
        steps.append(Step(sh.comp(out, i, s), op.index(bound, i, s), Rule.FORWARD, layer,
                          "forward", "index", group))
        steps.append(Step(out, op.matrix(bound), Rule.FORWARD, layer, "forward", "matrix",
                          group))
    return steps


# --- the loss and the output layer ----------------------------------------------------
def output_template(sh, loss, rule):
    """Steps and results for the output layer L: ∂J/∂z_L, δ_L and the cancellation."""
    z, h, y, d = (sh.var(kind, DEPTH) for kind in ("z", "h", "y", "delta"))
    L = DEPTH
    steps, assumptions = [], []
    loss_row = loss_op(loss.name)
    J = loss_row.index(loss_row.bind(sh, L), None, None)
    steps.append(Step(LOSS, J, Rule.LOSS, L, "loss", "index", "loss"))
    Jm = loss_row.matrix(loss_row.bind(sh, L))
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
    act = activation_op(rule.name)
    if act.jacobian is None:
        delta, extra = _elementwise_delta(sh, rule, L, Partial(LOSS, zk), grad_z,
                                          MatPartial(LOSS, z), grad_z_matrix, "output")
        steps += extra
    else:
        delta, extra, assumptions = softmax_delta(sh, act, loss, grad_z, grad_z_matrix)
        steps += extra
    results["delta"] = delta
    return steps, results, assumptions


def _elementwise_delta(sh, rule, layer, g_symbol, g_value, g_matrix_symbol, g_matrix, topic):
    """δ_k = Σ_j ∂J/∂z_j ∂z_j/∂h_k = ∂J/∂z_k σ'(h_k): chain rule, elementwise
    derivative, contraction, the output form of σ', and any cancellation."""
    z, h, d = (sh.var(kind, layer) for kind in ("z", "h", "delta"))
    hk, zk, dk = sh.comp(h, k, s), sh.comp(z, k, s), sh.comp(d, k, s)
    zj = sh.comp(z, j, s)
    n = sh.n(layer)
    g_j = g_symbol.xreplace({k: j})
    group = "delta"
    steps = [Step(dk, Partial(LOSS, hk), Rule.DEFINITION, layer, topic, "index", group)]
    chain = Sum(g_j * Partial(zj, hk), (j, 1, n))
    steps.append(Step(dk, chain, Rule.CHAIN_RULE, layer, topic, "index", group))
    act = activation_op(rule.name)
    local = diff(act.index(act.bind(sh, layer), j, s), hk)   # σ'(h_j) δ_jk
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
        matrix, shown = cancellation(sh, rule, layer, g_value,
                                     out if out is not None else prime, topic)
        steps += shown
        if matrix is not None:
            return matrix, steps
    matrix = act.vjps["x"](act.bind(sh, layer), g_matrix)
    steps.append(Step(d, act.vjps["x"](act.bind(sh, layer), g_matrix_symbol), Rule.HADAMARD, layer,
                      topic, "matrix", "delta_matrix", op=act.name, port="x"))
    if matrix != steps[-1].rhs:
        steps.append(Step(d, matrix, Rule.SUBSTITUTION, layer, topic, "matrix", "delta_matrix"))
    return matrix, steps


# --- the loss/activation cancellation ---------------------------------------------------
def cancellation(sh, rule, layer, g_value, factor, topic):
    """The one rule where an elementwise loss derivative ∂J/∂z_k meets an elementwise
    activation: δ_k = ∂J/∂z_k · σ'(h_k), with σ' in the output where natural, cancels
    when σ' removes the output from the denominator (sigmoid + bce: z − y), and is the
    plain ∂J/∂z_k for the identity. (δ or None when nothing cancels, steps)."""
    z, h, d = (sh.var(kind, layer) for kind in ("z", "h", "delta"))
    zk, dk = sh.comp(z, k, s), sh.comp(d, k, s)
    shown = Times(g_value, factor) if factor != 1 else g_value
    steps = [Step(dk, shown, Rule.SUBSTITUTION, layer, topic, "index", "delta")]
    den = fraction(together(g_value))[1]
    cancelled = tidy(cancel(together(g_value * factor)))
    if not (rule.is_identity or (den.has(zk) and not fraction(cancelled)[1].has(zk))):
        return None, steps
    if not rule.is_identity:
        steps.append(Step(dk, cancelled, Rule.CANCELLATION, layer, topic, "index", "delta"))
    matrix = lift(cancelled, h.shape)
    steps.append(Step(d, matrix, Rule.CANCELLATION if not rule.is_identity else Rule.HADAMARD,
                      layer, topic, "matrix", "delta_matrix",
                      "σ'(h) = 1 for the identity" if rule.is_identity else ""))
    return matrix, steps


# --- a hidden layer: δ_l from δ_{l+1} ---------------------------------------------------
def hidden_template(sh, rule):
    """Steps and results for a hidden layer l, from δ_{l+1} (layer symbol LAYER)."""
    steps, back = dJdz_steps(sh)
    delta, extra = _elementwise_delta(sh, rule, LAYER, Partial(LOSS, sh.comp(sh.var("z", LAYER), k, s)),
                                      None, MatPartial(LOSS, sh.var("z", LAYER)), back, "hidden")
    return steps + extra, {"delta": delta, "dJdz": back}


def dJdz_steps(sh):
    """∂J/∂z_l = W_{l+1}ᵀ δ_{l+1} through components (layer symbol LAYER): (steps, form)."""
    l = LAYER
    z = sh.var("z", l)
    Wn, dn = sh.var("W", l + 1), sh.var("delta", l + 1)
    zk = sh.comp(z, k, s)
    dense = OPS[DENSE[sh.bias]]
    pre_next = dense.index(dense.bind(sh, l + 1), i, r, wrt="x")
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
    if sh.bias == "augmented":
        steps.append(Step(sh.var("Wbar", l + 1), Wn, Rule.DEFINITION, l, "hidden", "matrix",
                          "wbar", "the weights without their last (bias) column"))
    back = dense.vjps["x"](dense.bind(sh, l + 1), dn)
    steps.append(Step(MatPartial(LOSS, z), back, Rule.MATRIX_PRODUCT, l, "hidden", "matrix",
                      "dJdz", op=dense.name, port="x"))
    return steps, back


# --- the gradients of one layer's parameters --------------------------------------------
def gradient_template(sh, readers=()):
    """∂J/∂W_l = δ_l z_{l-1}ᵀ (and ∂J/∂b_l = δ_l) via components (layer symbol LAYER);
    where other calls read W_l (``readers``: (call, port) pairs; weight decay's penalty),
    their gradients are added (the accumulation rule)."""
    l = LAYER
    W, h, d = sh.var("W", l), sh.var("h", l), sh.var("delta", l)
    Wab = IndexedBase(W)[a, b]
    steps = []
    hi = sh.comp(h, i, r)
    chain = Sum(sh.sample_sum(sh.comp(d, i, r) * Partial(hi, Wab)), (i, 1, sh.n(l)))
    steps.append(Step(Partial(LOSS, Wab), chain, Rule.CHAIN_RULE, l, "weights", "index", "dW"))
    dense = OPS[DENSE[sh.bias]]
    bound = dense.bind(sh, l)
    raw = diff(dense.index(bound, i, r), Wab)
    local = contract(raw)
    steps += [Step(Partial(hi, Wab), raw, Rule.LINEAR_JACOBIAN, l, "weights", "index", "linW"),
              Step(Partial(hi, Wab), local, Rule.KRONECKER, l, "weights", "index", "linW")]
    substituted = Sum(sh.sample_sum(sh.comp(d, i, r) * local), (i, 1, sh.n(l)))
    contracted = contract(substituted)
    steps += [Step(Partial(LOSS, Wab), substituted, Rule.SUBSTITUTION, l, "weights", "index",
                   "dW"),
              Step(Partial(LOSS, Wab), contracted, Rule.KRONECKER, l, "weights", "index", "dW")]
    grad_W = dense.vjps["W"](bound, d)
    steps.append(Step(MatPartial(LOSS, W), grad_W,
                      Rule.MATRIX_PRODUCT if sh.batch else Rule.OUTER, l, "weights", "matrix",
                      "dW", op=dense.name, port="W"))
    results = {"W": grad_W, "index_W": chain}
    if readers:
        steps.append(accumulation(sh, l, grad_W, results, readers))
    steps.append(Step(W, W - ETA * MatPartial(LOSS, W), Rule.UPDATE, l, "update", "matrix",
                      "update"))
    if sh.bias == "explicit":
        bias = sh.var("b", l)
        ba = component(bias, a)
        chain_b = Sum(sh.sample_sum(sh.comp(d, i, r) * Partial(hi, ba)), (i, 1, sh.n(l)))
        local_b = contract(diff(dense.index(bound, i, r, wrt="b"), ba))
        contracted_b = contract(Sum(sh.sample_sum(sh.comp(d, i, r) * local_b), (i, 1, sh.n(l))))
        grad_b = dense.vjps["b"](bound, d)
        steps += [Step(Partial(LOSS, ba), chain_b, Rule.CHAIN_RULE, l, "bias", "index", "db"),
                  Step(Partial(hi, ba), local_b, Rule.LINEAR_JACOBIAN, l, "bias", "index", "linb"),
                  Step(Partial(LOSS, ba), contracted_b, Rule.KRONECKER, l, "bias", "index", "db"),
                  Step(MatPartial(LOSS, bias), grad_b, Rule.MATRIX_PRODUCT, l, "bias", "matrix",
                       "db"),
                  Step(bias, bias - ETA * MatPartial(LOSS, bias), Rule.UPDATE, l, "update",
                       "matrix", "update")]
        results["b"] = grad_b
        results["index_b"] = chain_b
    return steps + norm_updates(sh), results


def norm_updates(sh):
    """γ_l ← γ_l − η ∂J/∂γ_l and β_l likewise: the normalization's parameters take the
    same gradient-descent step as the weights (hidden layers only; none without a norm)."""
    if sh.norm == "none":
        return []
    return [Step(p, p - ETA * MatPartial(LOSS, p), Rule.UPDATE, LAYER, "update", "matrix",
                 "update") for p in (sh.var(k, LAYER) for k in PARAMETERS if KINDS[k].needs == "norm")]


#: why ∂J/∂W_l has a second term, by the (op, port) of the other call that reads W_l
SECOND_READER = {("penalty", "W"): "W_l is also read by the penalty (λ/2)‖W_l‖², whose "
                 "gradient is λ W_l"}


def accumulation(sh, l, grad_W, results, readers):
    """W_l read by several calls (the layer's dense op, and say the penalty (λ/2)‖W_l‖²):
    ∂J/∂W_l is the sum of their gradients, each reader's taken from its op row."""
    W = sh.var("W", l)
    total, index = grad_W, results["index_W"]
    for call, port in readers:
        op = op_row(call.op)
        path = op.vjps[port](op.bound(sh, call), None)
        total, index = total + path, index + entry(path, a, b)
    results["W"], results["index_W"] = total, index
    call, port = readers[0]
    return Step(MatPartial(LOSS, W), total, Rule.ACCUMULATION, l, "weights", "matrix", "dW",
                SECOND_READER.get((call.op, port), ""), call.op, port)


def decayed_loss(output):
    """The output template of a network with weight decay: its loss lines name the data
    loss J_data, and the loss that is differentiated follows them, J = J_data + the
    penalty op's forward summed over the layers (index form, then matrix form). The
    penalty reads no output, so ∂J/∂z_L is the data loss's derivative unchanged."""
    steps, results, assumptions = output
    sh = Shapes("none", False)       # the penalty reads W_l alone: any shapes serve
    penalty = OPS["penalty"]
    renamed = [replace(st, lhs=DATA_LOSS) if st.topic == "loss" else st for st in steps]
    last = max(n for n, st in enumerate(renamed) if st.topic == "loss")
    total = []
    for form, form_name, rule in ((penalty.index, "index", Rule.ACCUMULATION),
                                  (penalty.matrix, "matrix", Rule.FROBENIUS)):
        coeff, term = form(penalty.bind(sh, LAYER_SUM)).as_independent(LAYER_SUM, as_Add=False)
        total.append(Step(LOSS, DATA_LOSS + coeff * Sum(term, (LAYER_SUM, 1, DEPTH)),
                          rule, DEPTH, "loss", form_name, "decay"))
    return renamed[:last + 1] + total + renamed[last + 1:], results, assumptions
