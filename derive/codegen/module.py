"""NumPy export: a standalone gradient module generated from the derivation (SPEC §5).

The forward pass, the δ-recursion and the gradients are printed by `ArrayPrinter` from
the engine's matrix expressions (`Derivation.delta`, `Derivation.grad`, the forward
steps), σ and σ' from the rule rows; the loss is printed from the loss row, rewritten
through log-sigmoid or log-sum-exp on the pre-activation where the output is a sigmoid
or a softmax. A Jinja template (templates/numpy/module.py.j2) lays the module out.

>>> from derive import Network
>>> g = export_numpy(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
>>> "delta2 = z2 - Y" in g.source
True
"""
import types
from dataclasses import dataclass

from sympy import S, Symbol, cancel, exp, expand_log, log, powsimp
from sympy.codegen.numpy_nodes import logaddexp
from sympy.matrices.expressions.blockmatrix import BlockMatrix

from ..engine.plan import backprop
from ..errors import SpecError
from ..ir.nodes import Var
from ..printing.numpy_code import ArrayPrinter, Code, var_name
from ..printing.text import text as _text
from ..spec import rules
from ..spec.network import Network
from ..util.files import write_atomic
from ..util.templates import environment
from ..vocab import BATCH


def text(expr):
    """One-line text of an expression for a code comment ([a; b] for a stacked block)."""

    if isinstance(expr, BlockMatrix):
        return "[" + "; ".join(text(row[0]) for row in expr.blocks.tolist()) + "]"
    return " ".join(_text(expr).split())


@dataclass(frozen=True)
class Line:
    code: str
    comment: str


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


def _loss_lines(net, printer, L):
    loss_row, out_rule = net.loss_rule, rules.activation(net.activations[-1])
    term, how = stable_loss_term(loss_row, out_rule)
    names = {rules.u: Code(var_name("z", L)), rules.t: Code("Y"), rules.x: Code(var_name("h", L)),
             Symbol("lse"): Code(f"lse{L}"), rules.n: Code("Y.shape[0]")}
    factor = loss_row.factor.xreplace(names)
    if net.batch:
        factor = factor / BATCH
    lines = []
    if term.has(Symbol("lse")):
        lines.append(Line(f"lse{L} = h{L}_max + np.log(s{L})",
                          f"log Σ_k e^(h_{L},k) per column, from the shifted softmax sums"))
    body = printer.doprint(term.xreplace(names))
    total = f"np.sum({body})"
    if factor != 1:
        total = f"{printer.doprint(factor)} * {total}"
    where = f"; {how}" if how else ""
    mean = " / m" if net.batch else ""
    scale = "" if loss_row.factor == 1 else f"{text(loss_row.factor)} "
    lines.append(Line(f"J = {total}", f"J = {scale}Σ ℓ(z_{L}, y){mean}, ℓ(u, t) = "
                      f"{text(loss_row.term)}{where}"))
    return lines


# --- the forward and backward passes ---------------------------------------------------
def _forward_lines(d, printer):
    lines = []
    for step in d.steps:
        if step.topic != "forward" or step.form != "matrix":
            continue
        L = int(step.layer)
        if step.group == "post" and isinstance(step.rhs, Var):      # the identity
            lines.append(Line(f"z{L} = h{L}", f"z_{L} = h_{L} (identity)"))
            continue
        if step.group == "post" and not rules.activation(step.rhs.name).elementwise:
            lines += _softmax_lines(L)
            continue
        name = var_name(step.lhs.kind, step.lhs.layer)
        lines.append(Line(f"{name} = {printer.doprint(step.rhs)}",
                          f"{text(step.lhs)} = {text(step.rhs)}   [{step.rule}]"))
    return lines


def _softmax_lines(L):
    numerator = rules.ACTIVATIONS["softmax"].forward.xreplace(
        {rules.x: Code(f"h{L} - h{L}_max")})
    return [Line(f"h{L}_max = h{L}.max(axis=0, keepdims=True)",
                 f"softmax is shift-invariant: subtract each column's max of h_{L}"),
            Line(f"e{L} = {ArrayPrinter().doprint(numerator)}",
                 f"the softmax numerators e^(h_{L} − max), in (0, 1]"),
            Line(f"s{L} = e{L}.sum(axis=0, keepdims=True)", "Σ_k e^(h_k − max) per column"),
            Line(f"z{L} = e{L} / s{L}", f"z_{L} = softmax(h_{L}) = e^h / Σ_k e^(h_k)")]


def _rule_of(d, kind, layer, lhs_kind):
    """The rule tag of the last matrix step that states a δ or gradient."""
    found = ""
    for step in d.steps:
        if step.form != "matrix" or step.layer != layer:
            continue
        lhs = step.lhs
        target = getattr(lhs, "wrt", lhs)
        if getattr(target, "kind", None) == lhs_kind and (kind == "delta") == (lhs is target):
            found = step.rule
    return found


def _backward_lines(d, printer):
    lines, grads = [], {}
    for layer in d.layers:                    # last layer first
        L = int(layer)
        delta = d.delta(layer)
        lines.append(Line(f"delta{L} = {printer.doprint(delta)}",
                          f"δ_{L} = {text(delta)}   [{_rule_of(d, 'delta', layer, 'delta')}]"))
        for kind in ("W", "b"):
            if (kind, layer) not in d._grads:
                continue
            grad = d.grad(kind, layer)
            code = printer.doprint(grad)
            if kind == "b" and not d.net.batch:     # one sample per column: sum them
                code = f"({code}).sum(axis=1, keepdims=True)"
            note = "" if kind == "W" or d.net.batch else "; summed over the columns"
            lines.append(Line(f"d{kind}{L} = {code}",
                              f"∂J/∂{kind}_{L} = {text(grad)}   "
                              f"[{_rule_of(d, kind, layer, kind)}]{note}"))
            grads[(kind, L)] = f"d{kind}{L}"
    return lines, grads


# --- the module ----------------------------------------------------------------------
def generate_source(net):
    """The text of the standalone gradient module of ``net``."""
    if net.symbolic:
        raise SpecError("export needs a concrete depth (the code unrolls the layers); "
                        "give activations one per layer instead of depth='L'")
    d = backprop(net)
    printer = ArrayPrinter(dict(batch=net.batch))
    depth = net.depth
    kinds = ("W", "b") if net.bias == "explicit" else ("W",)
    order = [(k, l) for l in range(1, depth + 1) for k in kinds]
    names = [f"{k}{l}" for k, l in order]
    forward = _forward_lines(d, printer)
    backward, grads = _backward_lines(d, printer)
    widths = net.widths
    table = tuple((f"{k}{l}", k, None if widths is None else widths[l]) for k, l in order)
    fast = _fast_checks(order, widths, net.bias == "augmented")
    customs = [a for a in net.activations if a.startswith("custom:")]
    guard = ("custom activations may overflow to ±inf, their limit; do not warn"
             if customs else "")
    update = [f"{text(s.lhs)} ← {text(s.rhs)}" for s in d.steps if s.topic == "update"]
    shape_note = {"none": "W_l is (n_l, n_{l-1}).",
                  "augmented": "W_l is (n_l, n_{l-1} + 1), its last column the bias; the "
                               "code appends the row of ones to each layer input.",
                  "explicit": "W_l is (n_l, n_{l-1}) and b_l is (n_l, 1)."}[net.bias]
    loss_note = ("the loss is the mean over the m columns." if net.batch
                 else "the loss is summed over the m columns.")
    return environment("python").get_template("numpy/module.py.j2").render(
        describe=net.describe(), names=names, shape_note=shape_note, loss_note=loss_note,
        activations=repr(tuple(net.activations)), loss=repr(net.loss), bias=repr(net.bias),
        batch=repr(net.batch), widths=repr(widths), param_table=repr(table),
        extra_col=" + 1" if net.bias == "augmented" else "", depth=depth,
        forward=forward, loss_lines=_loss_lines(net, printer, depth), backward=backward,
        zs=[f"z{l}" for l in range(depth + 1)], grads=[grads[o] for o in order],
        update=update, fast_checks=fast, guard=guard, pad=" " * (8 if guard else 4),
        last=names[-2 if net.bias == "explicit" else -1])


def _fast_checks(order, widths, augmented):
    """One boolean test per parameter: an ndarray of X's dtype and the expected shape."""
    checks = [f"X.shape[0] == {widths[0]}"] if widths is not None else []
    rows = "X.shape[0]"
    for kind, l in order:
        name = f"{kind}{l}"
        if kind == "W":
            own = f"{name}.shape[0]" if widths is None else str(widths[l])
            shape = f"({own}, {rows}{' + 1' if augmented else ''})"
            rows = f"W{l}.shape[0]"
        else:
            shape = f"({rows}, 1)"
        checks.append(f"type({name}) is _ndarray and ({name}.dtype is dtype or "
                      f"{name}.dtype == dtype) and {name}.shape == {shape}")
    return checks


class GradientModule:
    """The generated module: ``forward``, ``loss``, ``gradients``, ``train_step``,
    ``source`` and ``write(path)``."""

    def __init__(self, net, source):
        self.net, self.source = net, source
        module = types.ModuleType("derive_gradients")
        # runs only the code generated above, never user text
        exec(compile(source, "<derive export>", "exec"), module.__dict__)  # noqa: S102
        self.module = module
        self.forward, self.loss = module.forward, module.loss
        self.gradients, self.train_step = module.gradients, module.train_step

    def write(self, path, force=False):
        write_atomic(path, self.source, force=force)

    def __repr__(self):
        return f"<GradientModule for {self.net.describe()}>"


def export_numpy(net):
    """Generate the NumPy gradient module of ``net``; see `GradientModule`."""

    if not isinstance(net, Network):
        raise SpecError(f"export_numpy takes a Network, got {type(net).__name__}")
    if net.weight_decay:
        raise SpecError("weight_decay: the NumPy export does not support it yet; "
                        "allowed: weight_decay=False")
    return GradientModule(net, generate_source(net))
