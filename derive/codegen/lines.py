"""The printed lines of the generated module: the forward pass in op order, the loss
(stably, plus the weight-decay penalty), and the backward pass in reverse.

Every line is the `ArrayPrinter` text of an engine expression: a forward step of the
derivation, a named cotangent, δ_l or a gradient (`Derivation.cotangents`, `delta`,
`grad`), the penalty's op row; each carries a comment naming the equation and its rule.
"""
from dataclasses import dataclass

from sympy import Integer, S, Symbol, cancel, exp, expand_log, factor_terms, log, powsimp
from sympy.codegen.numpy_nodes import logaddexp
from sympy.matrices.expressions.blockmatrix import BlockMatrix

from ..engine.ops import OPS, Shapes
from ..errors import SpecError
from ..ir.nodes import Act, MatPartial, Var
from ..printing.numpy_code import ArrayPrinter, Code, cotangent_name, var_name
from ..printing.text import NAMES
from ..printing.text import code_text as _text
from ..spec import rules
from ..vocab import BATCH

#: the parameter kinds whose gradients a layer may have, in SPEC §5's order
PARAM_KINDS = ("W", "b", "gamma", "beta")


def text(expr):
    """One-line text of an expression for a code comment ([a; b] for a stacked block)."""

    if isinstance(expr, BlockMatrix):
        return "[" + "; ".join(text(row[0]) for row in expr.blocks.tolist()) + "]"
    return " ".join(_text(expr).split())


@dataclass(frozen=True)
class Line:
    """One commented computing line. A line printed from an engine expression has
    ``expr`` (the code is printed from it by `printed`), the ``name`` it assigns and
    ``label``, the text of that name; ``summed`` adds up its columns."""
    code: str
    comment: str
    name: str = ""
    expr: object = None
    label: str = ""
    summed: bool = False


def _expr_line(name, expr, comment, label, summed=False):
    return Line("", comment, name=name, expr=expr, label=label, summed=summed)


# --- the loss, stably ----------------------------------------------------------------
def _log_sigmoid(arg):
    """log(arg) = −softplus(a) when 1/arg − 1 simplifies to e^a (arg = σ(−a))."""
    rest = powsimp(cancel(1 / arg - 1))
    if isinstance(rest, exp):
        return -logaddexp(S.Zero, rest.args[0])
    return log(arg)


def stable_loss_term(loss_row, out_rule):
    """ℓ(u, t) with u = σ(x) written so that it never takes log of 0.

    Returns (term in u, t, x and the symbol ``lse``, how): for a sigmoid output the
    logs of σ(x) and 1 − σ(x) become −softplus(∓x); for a softmax output log u becomes
    x − log Σe^x (the log-sum-exp ``lse``)."""
    u = rules.u
    term = loss_row.term
    if not term.has(log):
        return term, ""
    if out_rule.name == "sigmoid":
        fused = term.xreplace({u: out_rule.forward}).replace(
            lambda e: isinstance(e, log), lambda e: _log_sigmoid(e.args[0]))
        if not fused.has(exp):
            return fused, "log σ(h) = −softplus(−h) and log(1 − σ(h)) = −softplus(h)"
    if out_rule.name == "softmax":
        total = Symbol("S", positive=True)
        log_u = expand_log(log(out_rule.forward / total), force=True)   # x − log S
        fused = term.xreplace({log(u): log_u}).xreplace({log(total): Symbol("lse")})
        return fused, "log softmax(h) = h − log Σ e^h (log-sum-exp, shifted by the max)"
    return term, ""


def loss_lines(net, printer, L):
    loss_row, out_rule = net.loss_rule, rules.activation(net.activations[-1])
    term, how = stable_loss_term(loss_row, out_rule)
    names = {rules.u: Code(var_name("z", L)), rules.t: Code("Y"), rules.x: Code(var_name("h", L)),
             Symbol("lse"): Code(f"lse{L}"), rules.n: Code("Y.shape[0]")}
    factor = loss_row.factor.xreplace(names)
    if net.batch:
        factor = factor / BATCH
    lines = []
    if term.has(Symbol("lse")):
        lines.append(Line(f"lse{L} = h{L}_max + {printer.fn('log')}(s{L})",
                          f"log Σ_k e^(h_{L},k) per column, from the shifted softmax sums"))
    body = printer.doprint(term.xreplace(names))
    total = f"{printer.fn('sum')}({body})"
    if factor != 1:
        total = f"{printer.doprint(factor)} * {total}"
    where = f"; {how}" if how else ""
    mean = " / m" if net.batch else ""
    scale = "" if loss_row.factor == 1 else f"{text(loss_row.factor)} "
    lines.append(Line(f"J = {total}", f"J = {scale}Σ ℓ(z_{L}, y){mean}, ℓ(u, t) = "
                      f"{text(loss_row.term)}{where}"))
    if net.weight_decay:
        lines.append(_penalty_line(net, printer))
    return lines


def _penalty_line(net, printer):
    """J += (λ/2) Σ_l ‖W_l‖_F², each term the matrix form of the penalty op row."""
    sh, row = Shapes(net.bias, net.batch, net.norm), OPS["penalty"]
    terms = [row.matrix(row.bind(sh, Integer(l))) for l in range(1, net.depth + 1)]
    penalty = factor_terms(sum(terms, S.Zero))
    return Line(f"J = J + {printer.doprint(penalty)}",
                f"J += {text(penalty)}   [the penalty op: weight decay]")


# --- the forward and backward passes ---------------------------------------------------
def activation_outputs(d):
    """{name of an activation's input: name of its output} from the forward steps."""
    return {var_name(s.rhs.arg.kind, s.rhs.arg.layer): var_name(s.lhs.kind, s.lhs.layer)
            for s in d.steps if s.topic == "forward" and s.form == "matrix"
            and isinstance(s.rhs, Act) and isinstance(s.rhs.arg, Var)}


def forward_lines(d, printer=None):
    """The forward steps in op order: h_l (μ_l, v_l, x̂_l, ĥ_l, a_l) z_l per layer
    (``printer``: the target's, for the lines printed here rather than by `printed`)."""
    printer = printer or ArrayPrinter()
    lines = []
    for step in d.steps:
        if step.topic != "forward" or step.form != "matrix":
            continue
        L = int(step.layer)
        name = var_name(step.lhs.kind, step.lhs.layer)
        if isinstance(step.rhs, Var):      # the identity
            src = var_name(step.rhs.kind, step.rhs.layer)
            lines.append(Line(f"{name} = {src}", f"{text(step.lhs)} = {text(step.rhs)} "
                                                 "(identity)"))
            continue
        if isinstance(step.rhs, Act) and not rules.activation(step.rhs.name).elementwise:
            lines += _softmax_lines(L, printer)
            continue
        lines.append(_expr_line(name, step.rhs, f"{text(step.lhs)} = {text(step.rhs)}   "
                                f"[{step.rule}]", text(step.lhs)))
    return lines


def _softmax_lines(L, printer):
    numerator = rules.ACTIVATIONS["softmax"].forward.xreplace(
        {rules.x: Code(f"h{L} - h{L}_max")})
    return [Line(f"h{L}_max = {printer.reduce_code(f'h{L}', 0, 'max')}",
                 f"softmax is shift-invariant: subtract each column's max of h_{L}"),
            Line(f"e{L} = {printer.doprint(numerator)}",
                 f"the softmax numerators e^(h_{L} − max), in (0, 1]"),
            Line(f"s{L} = {printer.reduce_code(f'e{L}', 0)}", "Σ_k e^(h_k − max) per column"),
            Line(f"z{L} = e{L} / s{L}", f"z_{L} = softmax(h_{L}) = e^h / Σ_k e^(h_k)")]


def _step_rules(d):
    """The rule tag of the last matrix step stating each δ, cotangent or gradient."""
    found = {}
    for step in d.steps:
        if step.form != "matrix":
            continue
        lhs = step.lhs
        if isinstance(lhs, MatPartial) and isinstance(lhs.wrt, Var):
            found[("d", lhs.wrt.kind, lhs.wrt.layer)] = step.rule
        elif isinstance(lhs, Var) and lhs.kind == "delta":
            found[("delta", lhs.layer)] = step.rule
    return found


def layer_grad(d, kind, layer):
    """∂J/∂p for parameter kind ``kind`` of ``layer``, or None where the layer has none."""
    try:
        return d.grad(kind, layer)
    except SpecError:
        return None


def backward_lines(d):
    """Per layer, last first: the named cotangents, δ_l, and the parameter gradients.

    Returns (lines, {(kind, layer): name of the gradient array})."""
    lines, grads, tags = [], {}, _step_rules(d)
    for layer in d.layers:                    # last first
        L = int(layer)
        for sym, form in d.cotangents(layer):
            tag = tags.get(("d", sym.wrt.kind, sym.wrt.layer), "")
            lines.append(_expr_line(cotangent_name(sym.wrt), form,
                                    f"{text(sym)} = {text(form)}   [{tag}]", text(sym)))
        delta = d.delta(layer)
        lines.append(_expr_line(f"delta{L}", delta, f"δ_{L} = {text(delta)}   "
                                f"[{tags.get(('delta', layer), '')}]", f"δ_{L}"))
        for kind in PARAM_KINDS:
            grad = layer_grad(d, kind, layer)
            if grad is None:
                continue
            summed = kind != "W" and not d.net.batch   # per-sample gradients add up
            note = "; summed over the columns" if summed else ""
            tag = tags.get(("d", kind, layer), "")
            label = f"∂J/∂{NAMES.get(kind, kind)}_{L}"
            lines.append(_expr_line(f"d{kind}{L}", grad, f"{label} = {text(grad)}   "
                                    f"[{tag}]{note}", label, summed))
            grads[(kind, L)] = f"d{kind}{L}"
    return lines, grads
