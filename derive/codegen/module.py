"""NumPy export: a standalone gradient module generated from the derivation (SPEC §5).

The forward pass (in op order), the named cotangents, the δ-recursion and the gradients
(in reverse) are printed by `ArrayPrinter` from the engine's matrix expressions
(`derive.codegen.lines`), σ and σ' from the rule rows, a subexpression the lines share
bound once to a named local and a new array updated in place (`derive.codegen.statements`,
`derive.codegen.shared`); the loss is printed from the loss
row, rewritten through log-sigmoid or log-sum-exp on the pre-activation where the output
is a sigmoid or a softmax, plus the penalty op's form with weight decay. The parameters
and their shape checks come from the param ports of each layer's ops. A Jinja template
(templates/numpy/module.py.j2) lays the module out.

>>> from derive import Network
>>> g = export_numpy(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
>>> "delta2 = z2 - Y" in g.source
True

A layer-normalized network with weight decay: γ_1, β_1 follow W_1 in ``params``, λ and
ε are keywords, and `loss_and_gradients` gives both results from one forward pass:

>>> import numpy as np
>>> g = export_numpy(Network.uniform(depth=2, activation="tanh", loss="mse", norm="layer",
...                                  weight_decay=True))
>>> rng = np.random.default_rng(0)
>>> params = [rng.normal(size=(3, 2)), np.ones((3, 1)), np.zeros((3, 1)), rng.normal(size=(1, 3))]
>>> X, Y = rng.normal(size=(2, 4)), rng.normal(size=(1, 4))
>>> J, grads = g.loss_and_gradients(params, X, Y, weight_decay=1e-3, eps=1e-5)
>>> bool(J == g.loss(params, X, Y, weight_decay=1e-3)), [d.shape for d in grads]
(True, [(3, 2), (3, 1), (3, 1), (1, 3)])
"""
import re
import textwrap
import types

from ..engine.blocks import block_ops
from ..engine.ops import DENSE, OPS
from ..engine.plan import backprop
from ..errors import SpecError
from ..ir import display
from ..ir.nodes import Var
from ..printing.numpy_code import ArrayPrinter, var_name
from ..spec.network import Network
from ..util.files import write_atomic
from ..util.templates import environment
from .assumptions import mask_check, value_checks
from .graph_module import export_graph
from .lines import (
    PARAM_KINDS,
    activation_outputs,
    backward_lines,
    forward_lines,
    loss_lines,
    text,
)
from .statements import printed


# --- parameters and inputs, from the ports -------------------------------------------
def layer_ops(net, layer):
    """The op rows of one layer in forward order: the dense op, then (a hidden layer of
    a network with options) the block's normalization, activation, dropout, residual."""
    ops = [OPS[DENSE[net.bias]]]
    if layer < net.depth and net.kinds:
        ops += [op for op, _ in block_ops(net.activations[layer - 1], net.norm, net.dropout,
                                          net.is_residual(layer))]
    return ops


def param_order(net):
    """(kind, layer) of every trained parameter, in SPEC §5's order: per layer, the
    parameter input ports of its ops (W_l, b_l of the dense op; γ_l, β_l of a norm)."""
    order = []
    for layer in range(1, net.depth + 1):
        for op in layer_ops(net, layer):
            for port in op.inputs:
                kind, offset = op.ports[port]
                if kind in PARAM_KINDS and offset == 0 and (kind, layer) not in order:
                    order.append((kind, layer))
    return order


def mask_layers(d):
    """The layers whose forward pass reads a dropout mask M_l (an input, not trained)."""
    return sorted({int(v.layer) for s in d.steps if s.topic == "forward" and s.form == "matrix"
                   for v in s.rhs.atoms(Var) if v.kind == "M"})


def _fast_checks(order, masks, widths, augmented):
    """One boolean test per parameter and mask (of the arrays `_array` made): X's dtype
    and the expected shape (W_l (n_l, n_{l-1}), the others (n_l, 1), a mask (n_l, m),
    tested only when training)."""
    checks = [f"X.shape[0] == {widths[0]}"] if widths is not None else []
    rows, of_layer = "X.shape[0]", {}
    for kind, l in order:
        name = f"{kind}{l}"
        if kind == "W":
            own = f"{name}.shape[0]" if widths is None else str(widths[l])
            shape = f"({own}, {rows}{' + 1' if augmented else ''})"
            rows = of_layer[l] = f"W{l}.shape[0]"
        else:
            shape = f"({rows}, 1)"
        checks.append(_typed(name) + f" and {name}.shape == {shape}")
    for l in masks or ():
        checks.append(f"(not train or ({_typed(f'M{l}')}\n"
                      f"                             and M{l}.shape == ({of_layer[l]}, X.shape[1])))")
    return checks


def _typed(name):
    return f"({name}.dtype is dtype or {name}.dtype == dtype)"


#: the keyword arguments: (name, annotation and default, in which functions)
KEYWORDS = (("masks", "masks: Sequence[ArrayLike] | None = None", "flgt"),
            ("train", "train: bool = True", "fl"),
            ("weight_decay", "weight_decay: float = 1e-4", "lgt"),
            ("eps", "eps: float = 1e-5", "flgt"),
            ("check_values", "check_values: bool = True", "flgt"))


def _keywords(net):
    """The keyword-only arguments of forward (f), loss (l), gradients and
    loss_and_gradients (g), train_step (t) (SPEC §5), the calls of `_inputs` and the
    constants each function casts with `_scalar`."""
    present = {"masks": net.dropout, "train": net.dropout, "weight_decay": net.weight_decay,
               "eps": net.norm != "none", "check_values": True}
    sig = {}
    for key in "flgt":
        items = [hint for name, hint, where in KEYWORDS if present[name] and key in where]
        sig[key] = ",\n    *,\n    " + ",\n    ".join(items)
    passing = "".join(f", {name}={name}" for name, _, where in KEYWORDS
                      if present[name] and "t" in where)
    drop = net.dropout
    calls = {"forward": f"params, X, _{', masks' if drop else ''} = _inputs(params, X, None"
                        f"{', masks, train' if drop else ''}, check_values=check_values)",
             "loss": f"params, X, Y{', masks' if drop else ''} = _inputs(params, X, Y"
                     f"{', masks, train' if drop else ''}, check_values=check_values)",
             "gradients": f"params, X, Y{', masks' if drop else ''} = _inputs(params, X, Y"
                          f"{', masks, True' if drop else ''}, check_values=check_values)"}
    eps = [("eps", "> 0")] if present["eps"] else []
    decay = [("weight_decay", ">= 0")] if net.weight_decay else []
    names = ", ".join(["lr"] + [n for n, _ in decay + eps])
    return dict(sig=dict(forward=sig["f"], loss=sig["l"], gradients=sig["g"]),
                pass_kw=passing, calls=calls, forward_constants=eps, constants=decay + eps,
                constant_names=names)


def _notes(net, masks):
    notes = []
    if net.norm != "none":
        notes.append("gamma_l and beta_l, shape (n_l, 1), follow W_l (and b_l) for every "
                     "hidden layer; eps is the ε inside the square root (keyword).")
    if net.dropout:
        notes.append(f"masks = [{', '.join(f'M{l}' for l in masks)}] (keyword): the dropout "
                     "masks, each of the shape of its z_l, entries 0 or 1/(1 − p); forward "
                     "and loss with train=False take none (dropout is then the identity).")
    if net.weight_decay:
        notes.append("weight_decay is λ of the penalty (λ/2) Σ_l ‖W_l‖_F² (keyword).")
    return notes


#: activations whose W_l init_params draws by He (the others: Glorot)
HE_INIT = ("relu", "leaky_relu")
#: the longest comment line of the generated code (longer ones are wrapped)
COMMENT_WIDTH = 100


def _commented(lines, pad):
    """The lines with their comments wrapped to fit the line length."""
    width = max(40, COMMENT_WIDTH - len(pad) - 2)
    return [dict(code=_fit(line.code, pad), comments=textwrap.wrap(
        line.comment, width, subsequent_indent="  ", break_long_words=False,
        break_on_hyphens=False) or [""]) for line in lines]


#: the longest line of generated code (a longer statement is wrapped in parentheses)
CODE_WIDTH = 100
#: an assignment: its target and operator, and the expression
ASSIGNMENT = re.compile(r"^(\w+ [-+*/]?= )(.*)$")


def _fit(code, pad):
    """Each statement of ``code`` longer than `CODE_WIDTH` as ``name = (`` its expression
    split at spaces over indented lines ``)``: inside brackets a line may break anywhere
    between tokens (generated code holds no string)."""
    out = []
    for statement in code.split("\n"):
        match = ASSIGNMENT.match(statement)
        if len(pad) + len(statement) <= CODE_WIDTH or not match or "'" in statement \
                or '"' in statement:
            out.append(statement)
            continue
        inner = " " * 4
        parts = textwrap.wrap(match.group(2), CODE_WIDTH - len(pad) - len(inner),
                              break_long_words=False, break_on_hyphens=False)
        out.append(match.group(1) + "(\n" + "".join(inner + p + "\n" for p in parts) + ")")
    return "\n".join(out)


#: a Python name in a line of code
NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _live(groups, returned):
    """The groups of lines of one function without the lines whose name no later line
    reads and the function does not return (a generated file has no unused variable)."""
    needed, kept = set(returned), []
    for group in reversed(groups):
        out = []
        for line in reversed(group):
            if (line.name or line.code.split(" = ")[0]) in needed:
                out.append(line)
                needed |= set(NAME.findall(line.code))
        kept.append(out[::-1])
    return kept[::-1]


def _bodies(groups, zs, grads, pad):
    """{function: (its groups of commented lines, whether it reads m)}."""
    fwd, losses, bwd = groups
    out = {}
    for name, parts, returned in (("forward", [fwd], zs), ("loss", [fwd, losses], ["J"]),
                                  ("gradients", [fwd, bwd], grads),
                                  ("both", [fwd, losses, bwd], ["J"] + grads)):
        live = _live(parts, returned)
        uses_m = any(NAME.findall(line.code).count("m") for part in live for line in part)
        out[name] = dict(parts=[_commented(part, pad) for part in live], uses_m=uses_m)
    return out


def _wrapped(text, width=88):
    return "\n".join(textwrap.wrap(text, width, break_long_words=False,
                                   break_on_hyphens=False))


def _table(rows):
    """A tuple of tuples, one row a line."""
    return "(\n" + "".join(f"    {row!r},\n" for row in rows) + ")" if rows else "()"


# --- the module ----------------------------------------------------------------------
def generate_source(net):
    """The text of the standalone gradient module of ``net``."""
    if net.symbolic:
        raise SpecError("export needs a concrete depth (the code unrolls the layers); "
                        "give activations one per layer instead of depth='L'")
    d = backprop(net)
    printer = ArrayPrinter(dict(batch=net.batch, outputs=activation_outputs(d)))
    order = param_order(net)
    masks = mask_layers(d)
    backward, grads = backward_lines(d)
    forward, backward = printed([forward_lines(d), backward], printer, text)
    losses = loss_lines(net, printer, net.depth)
    widths = net.widths
    checks = value_checks(d)
    customs = [a for a in net.activations if a.startswith("custom:")]
    guard = ("custom activations may overflow to ±inf, their limit; do not warn"
             if customs else "")
    pad = " " * (8 if guard else 4)
    zs = [f"z{l}" for l in range(net.depth + 1)]
    return environment("python").get_template("numpy/module.py.j2").render(
        describe=_wrapped(f"Network: {net.describe()}."),
        names=[var_name(k, l) for k, l in order],
        params_note=_wrapped(f"params = [{', '.join(var_name(k, l) for k, l in order)}]; "
                             f"{SHAPE_NOTES[net.bias]}"),
        option_notes=[_wrapped(note) for note in _notes(net, masks)],
        loss_note=("the loss is the mean over the m columns." if net.batch
                   else "the loss is summed over the m columns."),
        activations=repr(tuple(net.activations)), loss=repr(net.loss), bias=repr(net.bias),
        batch=repr(net.batch), widths=repr(widths),
        param_table=_table([(f"{k}{l}", k, None if widths is None else widths[l])
                            for k, l in order]),
        init_table=repr(tuple("he" if a in HE_INIT else "glorot" for a in net.activations)),
        masks=[f"M{l}" for l in masks], dropout=net.dropout,
        mask_table=_table([(f"M{l}", l) for l in masks]),
        extra_col=" + 1" if net.bias == "augmented" else "", depth=net.depth,
        bodies=_bodies((forward, losses, backward), zs, [grads[o] for o in order], pad),
        zs=zs, grads=[grads[o] for o in order],
        update=[f"{text(s.lhs)} ← {text(s.rhs)}" for s in d.steps if s.topic == "update"],
        value_checks=[_wrapped(f"- {c}", 86).replace("\n", "\n  ") for c in
                      [c.text for c in checks] + ([mask_check().text] if net.dropout else [])],
        value_calls=[c.call() for c in checks],
        helpers={c.code.split("(")[0] for c in checks},
        fast_checks=_fast_checks(order, masks if net.dropout else None, widths,
                                 net.bias == "augmented"),
        guard=guard, pad=pad, last=f"W{net.depth}",
        train_doc=("\n\n    With train=False (inference) dropout is the identity and no masks "
                   "are given.\n    " if net.dropout else ""),
        **_keywords(net))


SHAPE_NOTES = {"none": "W_l is (n_l, n_{l-1}).",
               "augmented": "W_l is (n_l, n_{l-1} + 1), its last column the bias; the "
                            "code appends the row of ones to each layer input.",
               "explicit": "W_l is (n_l, n_{l-1}) and b_l is (n_l, 1)."}


class GradientModule:
    """The generated module: ``forward``, ``loss``, ``gradients``,
    ``loss_and_gradients`` (both from one forward pass), ``train_step``, ``init_params``,
    ``source`` and ``write(path)``. Each call checks the values the derivation assumes
    (target columns summing to 1 under softmax and cross-entropy, targets in [0, 1] for
    a cross-entropy, dropout masks of 0 and 1/(1 − p)) unless ``check_values=False``."""

    def __init__(self, net, source):
        self.net, self.source = net, source
        module = types.ModuleType("derive_gradients")
        # runs only the code generated above, never user text
        exec(compile(source, "<derive export>", "exec"), module.__dict__)  # noqa: S102
        self.module = module
        self.forward, self.loss = module.forward, module.loss
        self.gradients, self.train_step = module.gradients, module.train_step
        self.loss_and_gradients = module.loss_and_gradients
        self.init_params = module.init_params

    def write(self, path, force=False):
        write_atomic(path, self.source, force=force)

    def __repr__(self):
        return f"<GradientModule for {self.net.describe()}>"

    def _repr_markdown_(self):
        """Notebook display: the network, the functions with their signatures and what
        each call checks."""
        return display.markdown(self)


def export_numpy(net):
    """Generate the NumPy gradient module of ``net``; see `GradientModule` (a network
    of calls, such as a convolutional one: `derive.codegen.graph_module.GraphModule`)."""
    if not isinstance(net, Network) and hasattr(net, "blocks"):
        return export_graph(net)
    if not isinstance(net, Network):
        raise SpecError(f"export_numpy takes a Network, got {type(net).__name__}")
    return GradientModule(net, generate_source(net))
