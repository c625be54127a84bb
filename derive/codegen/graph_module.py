"""NumPy export of a network of calls (SPEC §1c, §5): any network `backprop_graph`
derives (a convolutional network, and every architecture given as blocks of calls).

The forward pass is printed call by call from each op row's matrix form at the
network's sizes (a max pooling's one-hot mask first, `MASK_CODE`); the loss from the
loss row, through log-sum-exp or log-sigmoid where the output is a softmax or a sigmoid
(`derive.codegen.lines.stable_loss_term`); the backward pass from the walker's named
cotangents in the order it names them, then the gradients, each the printed text of the
engine's expression (`derive.printing.graph_code.GraphPrinter`). A Jinja template
(templates/numpy/graph_module.py.j2) lays the module out: ``param_names`` (claim names,
in the order of ``params``), ``param_shapes``, ``forward`` ({claim name: array} of every
quantity a call computes), ``loss``, ``gradients``, ``loss_and_gradients``.

A kernel is an array (C_l, C_{l-1}, κ), as PyTorch's ``conv1d`` weight (`LAYOUTS`).

>>> import numpy as np
>>> from derive.spec.conv import ConvNetwork
>>> g = export_graph(ConvNetwork((1, 2), kernel=2, pool="max", length=6, head_widths=(2,)))
>>> g.param_names, g.param_shapes
(('K_1', 'b_1', 'W_3', 'b_3'), ((2, 1, 2), (2, 1), (2, 4), (2, 1)))
>>> rng = np.random.default_rng(0)
>>> params = [rng.normal(size=s) for s in g.param_shapes]
>>> X, Y = rng.normal(size=(1, 6)), np.array([[0.25], [0.75]])
>>> J, grads = g.loss_and_gradients(params, X, Y)
>>> bool(J == g.loss(params, X, Y)), [d.shape for d in grads] == list(g.param_shapes)
(True, True)
"""
import types
from dataclasses import dataclass

from sympy import Symbol

from ..engine.graph import backprop_graph, leaves
from ..engine.ops import Shapes
from ..engine.proofs import checked
from ..errors import SpecError
from ..ir.quantities import KINDS
from ..printing.graph_code import GraphPrinter, adjoint_name, quantity_name
from ..printing.numpy_code import Code
from ..printing.text import code_text
from ..spec import rules
from ..util.files import write_atomic
from ..util.templates import environment
from .graph_cancel import V_SUM, fused_line
from .lines import stable_loss_term

#: the array layout of a parameter kind in the module, from its matrix shape (rows, cols)
#: in the engine: a kernel C_l × C_{l-1}κ is (C_l, C_{l-1}, κ), PyTorch's layout
LAYOUTS = {"K": lambda net, rows, cols: (rows, cols // net.kernel, net.kernel),
           "K2": lambda net, rows, cols: (rows, cols // net.kernel ** 2, net.kernel,
                                          net.kernel)}
#: the array an input kind is given as, from its matrix shape: an image (C, N N') as
#: (C, N, N'), PyTorch's layout (the module reshapes it)
INPUT_LAYOUTS = {"zi": lambda net, rows, cols: (rows, *net.images[0])}


def _first_max(printer, net, bound):
    windows = bound["y"].shape[1].xreplace(net.size_values())
    return f"_first_max({printer.doprint(bound['x'])}, {net.pool_size}, {windows})"


def _first_max2(printer, net, bound):
    layer = int(bound.q("y").layer)
    rows_in, cols_in = (d - net.kernel + 1 for d in net.images[layer - 1])
    rows, cols = net.images[layer]
    return (f"_first_max2({printer.doprint(bound['x'])}, {net.pool_size}, "
            f"({rows_in}, {cols_in}), ({rows}, {cols}))")


#: the leaves a call computes from the forward, printed before it: {op: (port, code)}
MASK_CODE = {"max_pool": ("S", _first_max), "max_pool2d": ("S", _first_max2)}


@dataclass(frozen=True)
class Line:
    """One line of generated code and the equation it computes (its comment)."""
    code: str
    comment: str


def _is_loss(op):
    """A loss row: ``loss:<name>`` (one column), ``token_loss:<name>`` (averaged over
    the T tokens, a transformer's)."""
    return op.split(":", 1)[0] in ("loss", "token_loss")


def _calls(net):
    return [call for block in net.blocks for call in block]


def _outputs(net):
    """{an activation's input name: its output name}: σ' is read from σ's output."""
    return {quantity_name(c.args["x"].kind, c.args["x"].layer): quantity_name(
        c.out.kind, c.out.layer) for c in _calls(net) if c.op in rules.ACTIVATIONS
        or c.op.startswith("custom:")}


def _code(q):
    """A quantity as a symbol printing as its Python name."""
    return Code(quantity_name(q.kind, q.layer))


def loss_total(printer, loss_row, out_rule, u, t, pre):
    """(Σ ℓ(u, t) printed, its factor in front, stably through the pre-activation named
    ``pre`` where the output rule allows (`stable_loss_term`); how it is stabilised)."""
    term, how = stable_loss_term(loss_row, out_rule)
    names = {rules.u: Code(u), rules.t: Code(t), rules.x: Code(pre),
             Symbol("lse"): Code(f"_logsumexp({pre})"), rules.n: Code(f"{u}.shape[0]")}
    total = f"{printer.fn('sum')}({printer.doprint(term.xreplace(names))})"
    factor = loss_row.factor.xreplace(names)
    if factor != 1:
        total = f"{printer.doprint(factor)} * {total}"
    return total, how


def _loss_line(net, call, bound, printer):
    """J from the loss row, stably through the output activation's pre-activation."""
    loss_row = rules.loss(call.op.split(":", 1)[1])
    x = call.args["x"]
    source = next((c for c in _calls(net) if c.out == x), None)
    active = source is not None and (source.op in rules.ACTIVATIONS)
    out_rule = rules.activation(source.op if active else "identity")
    pre = quantity_name(source.args["x"].kind, source.args["x"].layer) if active else "None"
    total, how = loss_total(printer, loss_row, out_rule, quantity_name(x.kind, x.layer),
                            quantity_name(call.args["t"].kind, call.args["t"].layer), pre)
    if call.op.startswith("token_"):      # the mean over the tokens
        total = f"{total} / {quantity_name(x.kind, x.layer)}.shape[1]"
    where = f"; {how}" if how else ""
    scale = "" if loss_row.factor == 1 else f"{code_text(loss_row.factor)} "
    return Line(f"J = {total}", f"J = {scale}Σ ℓ, ℓ(u, t) = "
                f"{code_text(loss_row.term)}{where}   [the {call.op} op]")


def forward_lines(net, printer):
    """Each call's output from its row's matrix form at the network's sizes (a mask
    the call reads first), the loss last."""
    sh, sub, lines = Shapes("explicit", False), net.size_values(), []
    for call in _calls(net):
        op = checked(call.op, "explicit", False)
        bound = op.bound(sh, call)
        if call.op in MASK_CODE:
            port, code = MASK_CODE[call.op]
            lines.append(Line(f"{printer.doprint(bound[port])} = {code(printer, net, bound)}",
                              "the one-hot mask of each window's first maximum (as PyTorch)"))
        if op.scalar:
            lines.append(_loss_line(net, call, bound, printer))
            continue
        form = op.matrix(bound)
        lines.append(Line(f"{printer.doprint(bound[op.output])} = "
                          f"{printer.doprint(form.xreplace(sub))}",
                          f"{code_text(bound[op.output])} = {code_text(form)}   [the {call.op} op]"))
    return lines


def _fusion(net, printer):
    """{the output's quantity: None, its pre-activation's: the fused Line} where the
    loss and the output activation cancel (`derive.codegen.graph_cancel`), else {}."""
    calls = _calls(net)
    loss = next(c for c in calls if _is_loss(c.op))
    z, t = loss.args["x"], loss.args["t"]
    act = next((c for c in calls if c.out == z), None)
    readers = [c for c in calls if z in c.args.values()]
    if act is None or len(readers) != 1 or not (act.op in rules.ACTIVATIONS or
                                                 act.op.startswith("custom:")):
        return {}
    line = fused_line(rules.activation(act.op), rules.loss(loss.op.split(":", 1)[1]),
                      (_code(z), _code(t)), printer)
    if line is None:
        return {}
    h, sh = act.args["x"], Shapes("explicit", False)
    text = line[1].xreplace({rules.u: z.var(sh), rules.t: t.var(sh), V_SUM: Symbol("Σy")})
    return {z: None, h: Line(f"{adjoint_name(h)} = {line[0]}",
                             f"∂J/∂{code_text(h.var(sh))} = {code_text(text)}   [the "
                             f"loss/activation cancellation of {act.op} and {loss.op}]")}


def backward_lines(d, printer, order):
    """The walker's cotangents in the order it names them (the output's fused with the
    loss where they cancel, `_fusion`), then the gradients of ``order``; and the names of
    the gradient arrays."""
    sub, lines = d.sizes(), []
    fusion = _fusion(d.net, printer)
    for q, value in d.cotangents.items():
        if q in fusion:
            lines += [fusion[q]] if fusion[q] is not None else []
            continue
        lhs = f"∂J/∂{code_text(q.var(Shapes('explicit', False)))}"
        lines.append(Line(f"{adjoint_name(q)} = {printer.doprint(value.xreplace(sub))}",
                          f"{lhs} = {code_text(value)}"))
    names = []
    for q in order:
        name = "d" + quantity_name(q.kind, q.layer)
        value = d.grads[q]
        lines.append(Line(f"{name} = {printer.doprint(value.xreplace(sub))}",
                          f"∂J/∂{code_text(q.var(Shapes('explicit', False)))} = "
                          f"{code_text(value)}"))
        names.append(name)
    return lines, names


def _shape(net, kind, rows, cols):
    return LAYOUTS[kind](net, rows, cols) if kind in LAYOUTS else (rows, cols)


def signature(net, d):
    """(params [(Q, name, claim name, shape)], the input (name, its shape as given, its
    matrix shape), the target (name, shape)): the module's arguments, from the leaves."""
    params, inputs, target = [], [], None
    loss = next(c for c in _calls(net) if _is_loss(c.op))
    for (kind, layer), (rows, cols) in leaves(net, d.sizes()).items():
        q = next(q for c in _calls(net) for q in c.args.values()
                 if (q.kind, int(q.layer)) == (kind, layer))
        if KINDS[kind].trained:
            params.append((q, quantity_name(kind, layer), f"{KINDS[kind].claim}_{layer}",
                           _shape(net, kind, rows, cols)))
        elif q == loss.args["t"]:
            target = (quantity_name(kind, layer), (rows, cols))
        else:
            given = INPUT_LAYOUTS.get(kind, lambda net, rows, cols: (rows, cols))
            inputs.append((quantity_name(kind, layer), given(net, rows, cols), (rows, cols)))
    if len(inputs) != 1:
        raise SpecError(f"the NumPy export reads one input array X, but "
                        f"{type(net).__name__} reads {len(inputs)}")
    return params, inputs[0], target


def _computed(net):
    """(name, claim name) of every quantity a call computes, in forward order."""
    return [(quantity_name(c.out.kind, c.out.layer),
             f"{KINDS[c.out.kind].claim}_{int(c.out.layer)}")
            for c in _calls(net) if c.out.kind != "J"]


def _describe(net):
    return net.describe() if hasattr(net, "describe") else type(net).__name__


def generate_graph_source(net):
    """The text of the standalone NumPy module of ``net`` (module docstring)."""
    if getattr(net, "symbolic", False):
        raise SpecError("the NumPy export needs concrete sizes; give them as integers "
                        "(width=, tokens=, or --width, --tokens)")
    d = backprop_graph(net)
    printer = GraphPrinter(dict(batch=False, outputs=_outputs(net)))
    params, (x_name, x_shape, x_matrix), (y_name, y_shape) = signature(net, d)
    forward = forward_lines(net, printer)
    backward, grads = backward_lines(d, printer, [p[0] for p in params])
    return environment("python").get_template("numpy/graph_module.py.j2").render(
        describe=_describe(net),
        names=[p[1] for p in params], param_names=tuple(p[2] for p in params),
        param_shapes=tuple(p[3] for p in params), x_name=x_name, x_shape=x_shape,
        x_reshape="" if x_shape == x_matrix else f".reshape{x_matrix}",
        y_name=y_name, y_shape=y_shape, forward=forward[:-1], loss=forward[-1:],
        backward=backward, grads=grads, computed=_computed(net))


class GraphModule:
    """The generated module of a network of calls: ``param_names``, ``param_shapes``,
    ``forward``, ``loss``, ``gradients``, ``loss_and_gradients``, ``train_step``,
    ``init_params``, ``source`` and ``write(path)``."""

    def __init__(self, net, source):
        self.net, self.source = net, source
        module = types.ModuleType("derive_graph_gradients")
        # runs only the code generated above, never user text
        exec(compile(source, "<derive export>", "exec"), module.__dict__)  # noqa: S102
        self.module = module
        for name in ("param_names", "param_shapes", "forward", "loss", "gradients",
                     "loss_and_gradients", "train_step", "init_params"):
            setattr(self, name, getattr(module, name))

    def write(self, path, force=False):
        write_atomic(path, self.source, force=force)

    def __repr__(self):
        return f"<GradientModule for {_describe(self.net)}>"


def export_graph(net):
    """The NumPy gradient module of a network of calls; see `GraphModule`."""
    return GraphModule(net, generate_graph_source(net))
