"""NumPy export of a recurrent network (SPEC §1c, §5), looping over the steps t only.

The module is printed from the derivation at a symbolic number of steps
(`derive.engine.through_time`): the forward pass is the calls of the general step t
(the cell's, then the readout's: at every t, or at t = T only), each printed from its op
row's matrix form; the backward pass runs t = T … 1, the step T's cotangents at t = T and
the general step's below it, each the walker's expression printed by the graph printer
with every per-step quantity an entry of a list indexed by t (``h[t - 1]``, ``dJ_da[t + 1]``),
and every shared weight's gradient accumulated over t. ``param_names`` are the claim
names (``W``, ``U``, ``b``, ``V``, ``c``, a gate's ``W_i`` …); X is (n_x, T) and Y
(n_y, T), a step per column; h_0 = c_0 = 0.

>>> import numpy as np
>>> from derive.spec.rnn import RNNNetwork
>>> g = export_rnn(RNNNetwork("tanh", steps=3, inputs=2, hidden=3, outputs=1))
>>> g.param_names, g.param_shapes
(('W', 'U', 'b', 'V', 'c'), ((3, 3), (3, 2), (3, 1), (1, 3), (1, 1)))
>>> rng = np.random.default_rng(0)
>>> params = [rng.normal(size=s) for s in g.param_shapes]
>>> J, grads = g.loss_and_gradients(params, rng.normal(size=(2, 3)), rng.normal(size=(1, 3)))
>>> [d.shape for d in grads] == list(g.param_shapes)
True
"""
from dataclasses import replace

from sympy import Heaviside, Symbol

from ..engine.ops import Shapes
from ..engine.proofs import checked
from ..engine.through_time import backprop_through_time
from ..errors import SpecError
from ..ir.nodes import MatPartial
from ..ir.quantities import KINDS, Q
from ..ir.time_sum import TimeSum
from ..printing.graph_code import GraphPrinter
from ..printing.numpy_code import Code, sigma_prime
from ..printing.text import code_text
from ..spec import rules
from ..spec.rnn import STEP, STEPS, step_calls
from ..util.templates import environment
from ..vocab import LOSS
from .graph_cancel import V_SUM, fused_line
from .graph_module import GraphModule, Line, loss_total


class StepPrinter(GraphPrinter):
    """The graph printer with a per-step quantity as its list's entry at its step
    (``h[t - 1]``), a shared weight by its name, a cotangent as ``dJ_d<name>[t]``."""

    def _print_Var(self, expr):
        stem = KINDS[expr.kind].numpy
        if KINDS[expr.kind].where == "shared":
            return stem
        return f"{stem}[{self._print(expr.layer)}]"

    def _print_MatPartial(self, expr):
        return "dJ_d" + self._print(expr.wrt)

    def _print_Act(self, expr):
        rule = rules.activation(expr.name)
        name = self._print(expr.arg)
        if expr.order == 1:
            prime = sigma_prime(rule, name, self._settings["outputs"].get(name, name))
            if isinstance(prime, Heaviside) and prime.args[1] == 0:
                return self.mask_code(self._print(prime.args[0]))
            return self._print(prime)
        if not rule.elementwise:
            return f"_{rule.name}({name})"
        return self._print(rule.stable_forward().xreplace({rules.x: Code(name)}))


def _lines(printer, sub, calls):
    """The forward lines of ``calls`` (a loss adds its term to J)."""
    sh, out = Shapes("explicit", False), []
    for call in calls:
        op = checked(call.op, "explicit", False)
        if call.op == "loss_add":
            continue
        bound = op.bound(sh, call)
        if op.scalar:
            out.append(_loss_line(printer, calls, call))
            continue
        form = op.matrix(bound)
        out.append(Line(f"{printer.doprint(bound[op.output])} = {printer.doprint(form.xreplace(sub))}",
                        f"{code_text(bound[op.output])} = {code_text(form)}   [the {call.op} op]"))
    return out


def _loss_line(printer, calls, call):
    """J += ℓ(ŷ_t, y_t), stably through the output's pre-activation s_t."""
    loss_row = rules.loss(call.op.split(":", 1)[1])
    source = next(c for c in calls if c.out == call.args["x"])
    sh = Shapes("explicit", False)
    name = printer.doprint(call.args["x"].var(sh))
    pre = printer.doprint(source.args["x"].var(sh))
    total, how = loss_total(printer, loss_row, rules.activation(source.op), name,
                            printer.doprint(call.args["t"].var(sh)), pre)
    where = f"; {how}" if how else ""
    return Line(f"J = J + {total}", f"ℓ_t = {code_text(loss_row.term)}{where}   [the {call.op} op]")


def _outputs(printer, calls):
    """{an activation's printed input: its printed output}: σ' read from σ's output."""
    sh = Shapes("explicit", False)
    return {printer.doprint(c.args["x"].var(sh)): printer.doprint(c.out.var(sh))
            for c in calls if c.op in rules.ACTIVATIONS or c.op.startswith("custom:")}


def _fusion(printer, calls):
    """{ŷ_t: None, s_t: the fused Line} where the step's loss and output activation
    cancel (`derive.codegen.graph_cancel`: sigmoid with bce, softmax with cce), so a
    saturated output keeps finite gradients; {} elsewhere."""
    sh = Shapes("explicit", False)
    loss = next((c for c in calls if c.op.startswith("loss:")), None)
    if loss is None:
        return {}
    z, t = loss.args["x"], loss.args["t"]
    act = next((c for c in calls if c.out == z), None)
    readers = [c for c in calls if z in c.args.values()]
    if act is None or len(readers) != 1 or act.op not in rules.ACTIVATIONS:
        return {}
    line = fused_line(rules.activation(act.op), rules.loss(loss.op.split(":", 1)[1]),
                      (Code(printer.doprint(z.var(sh))), Code(printer.doprint(t.var(sh)))),
                      printer)
    if line is None:
        return {}
    h = act.args["x"]
    text = line[1].xreplace({rules.u: z.var(sh), rules.t: t.var(sh), V_SUM: Symbol("Σy")})
    return {z: None, h: Line(f"{printer.doprint(MatPartial(LOSS, h.var(sh)))} = {line[0]}",
                             f"∂J/∂{code_text(h.var(sh))} = {code_text(text)}   [the "
                             f"loss/activation cancellation of {act.op} and {loss.op}]")}


def _backward(printer, sub, cotangents, fusion):
    """The cotangents' lines, the output's fused with the loss where they cancel."""
    sh, out = Shapes("explicit", False), []
    for q, value in cotangents.items():
        if q in fusion:
            out += [fusion[q]] if fusion[q] is not None else []
            continue
        out.append(Line(f"{printer.doprint(MatPartial(LOSS, q.var(sh)))} = "
                        f"{printer.doprint(value.xreplace(sub))}",
                        f"∂J/∂{code_text(q.var(sh))} = {code_text(value)}"))
    return out


def generate_rnn_source(net):
    """The text of the standalone NumPy module of ``net`` (module docstring)."""
    d = backprop_through_time(replace(net, steps="T"))
    T, t, sub, sh = STEPS, STEP, net.size_values(), Shapes("explicit", False)
    every = net.readout == "every"
    general, last = step_calls(net, t, True, False), step_calls(net, T, True, not every)
    printer = StepPrinter(dict(batch=False, outputs={}))
    printer._settings["outputs"] = _outputs(printer, general + last)
    params = net.parameters
    summed = {k: v.term for k, v in d.grads.items() if isinstance(v, TimeSum)}
    once = {k: v for k, v in d.grads.items() if not isinstance(v, TimeSum)}
    grad = {k: printer.doprint(Q(k, 1).var(sh)) for k in params}
    cell = len(step_calls(net, t, False, False))      # the cell's calls, then the readout's
    lists = sorted({KINDS[q.kind].numpy for c in general for q in (*c.args.values(), c.out)
                    if KINDS[q.kind].where == "time"})
    return environment("python").get_template("numpy/rnn_module.py.j2").render(
        describe=net.describe(), T=net.steps, names=[grad[k] for k in params],
        param_names=tuple(KINDS[k].claim for k in params),
        param_shapes=tuple(tuple(int(v.xreplace(sub)) for v in Q(k, 1).var(sh).shape)
                           for k in params),
        input_shape=(net.inputs, net.steps), target_shape=(net.outputs, net.steps),
        n_h=net.hidden, lists=lists,
        initial=[printer.doprint(q.var(sh)) for q in net.initial_state()],
        cell=_lines(printer, sub, general[:cell]), readout=_lines(printer, sub, general[cell:]),
        read_always=every, last=_backward(printer, sub, d.walks[T][1], _fusion(printer, last)),
        general=_backward(printer, sub, d.walks[t][1], _fusion(printer, general)),
        adjoints=sorted({"dJ_d" + KINDS[q.kind].numpy for q in d.walks[T][1]}),
        summed=[Line(f"d{grad[k]} = d{grad[k]} + {printer.doprint(v.xreplace(sub))}",
                     f"∂J/∂{code_text(Q(k, 1).var(sh))} += {code_text(v)}")
                for k, v in summed.items()],
        once=[Line(f"d{grad[k]} = {printer.doprint(v.xreplace(sub))}",
                   f"∂J/∂{code_text(Q(k, 1).var(sh))} = {code_text(v)}")
              for k, v in once.items()],
        grads=[f"d{grad[k]}" for k in params])


def export_rnn(net):
    """The NumPy gradient module of a recurrent network; see `GraphModule`."""
    if net.symbolic:
        raise SpecError("the NumPy export of an rnn needs a number of steps, not T")
    return GraphModule(net, generate_rnn_source(net))
