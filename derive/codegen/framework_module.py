"""Export to the frameworks people train with (SPEC §5b): PyTorch, JAX, the array API.

The lines are the NumPy export's (`derive.codegen.lines`, shared subexpressions bound
once by `derive.codegen.statements`), printed by the target's printer
(`derive.printing.framework_code`) and laid out by the target's template
(``templates/torch``, ``templates/jax``, ``templates/array_api``):

- ``torch``: a ``torch.autograd.Function`` whose forward runs the forward pass and the
  loss and saves what the backward pass reads, and whose backward is the derived
  δ-recursion; an ``nn.Module`` ``Model`` holding the parameters under `param_names`;
- ``jax``: a ``jax.custom_vjp`` loss whose bwd is the derived recursion;
- ``array_api``: functions that take their namespace from the inputs.

Every module has ``param_names`` (claim names, in the order of ``params``),
``param_shapes``, ``forward``, ``loss``, ``gradients`` and ``loss_and_gradients``.

>>> from derive import Network
>>> src = framework_source(Network.uniform(depth=2, activation="sigmoid", loss="bce"), "torch")
>>> "class DerivedLoss(torch.autograd.Function):" in src and "delta2 = z2 - Y" in src
True
"""
import ast
from functools import lru_cache

from ..engine.plan import backprop
from ..errors import SpecError
from ..printing.framework_code import PRINTERS
from ..util.templates import environment
from .lines import activation_outputs, backward_lines, forward_lines, loss_lines, text
from .module import mask_layers, param_order
from .statements import printed

#: the targets besides NumPy, each a printer and a template
FRAMEWORKS = ("torch", "jax", "array_api")
#: the names the lines read that are numbers, not arrays (kept off the saved tensors)
SCALARS = ("m", "eps", "weight_decay")


def _names(code, ctx):
    """The Python names ``code`` loads (ctx ast.Load) or assigns (ast.Store)."""
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ctx)}


def saved_names(forward, loss, backward, inputs):
    """The arrays the backward lines read that the forward pass made or took in, in a
    fixed order: what an autograd.Function saves for its backward."""
    back = "\n".join(line.code for line in backward)
    made = _names("\n".join(line.code for line in forward + loss), ast.Store)
    read = _names(back, ast.Load) - _names(back, ast.Store)
    order = list(inputs) + sorted(made - set(inputs), key=_natural)
    return [name for name in order if name in read and name not in SCALARS]


def _natural(name):
    head = name.rstrip("0123456789")
    return (head, int(name[len(head):] or 0), name)


def _constants(net):
    """(name, default, positive) of the keyword constants: λ, ε."""
    out = []
    if net.weight_decay:
        out.append(("weight_decay", "1e-4", False))
    if net.norm != "none":
        out.append(("eps", "1e-5", True))
    return out


def _shapes(net, order):
    """The shape of each parameter where the widths are concrete, else None."""
    w = net.widths
    if w is None:
        return tuple(None for _ in order)
    extra = 1 if net.bias == "augmented" else 0
    return tuple((w[l], w[l - 1] + extra) if kind == "W" else (w[l], 1) for kind, l in order)


@lru_cache(maxsize=16)
def derivation(net):
    """The derivation of ``net``, shared by the targets of one network (each export of
    a network to several frameworks derives it once)."""
    return backprop(net)


def _lines(net, target):
    """The forward, loss and backward lines printed for ``target``, and the gradients."""
    d = derivation(net)
    printer = PRINTERS[target](dict(batch=net.batch, outputs=activation_outputs(d)))
    backward, grads = backward_lines(d)
    forward, backward = printed([forward_lines(d, printer), backward], printer, text)
    return d, forward, loss_lines(net, printer, net.depth), backward, grads


def context(net, target):
    """The values the target's template lays out."""
    if net.symbolic:
        raise SpecError("export needs a concrete depth (the code unrolls the layers); "
                        "give activations one per layer instead of depth='L'")
    d, forward, loss, backward, grads = _lines(net, target)
    order = param_order(net)
    names = [f"{k}{l}" for k, l in order]
    masks = [f"M{l}" for l in mask_layers(d)] if net.dropout else []
    inputs = ["X", "Y", "z0"] + names + masks
    constants = _constants(net)
    return dict(
        describe=net.describe(), names=names, masks=masks, dropout=net.dropout,
        param_names=tuple(f"{k}_{l}" for k, l in order), param_shapes=_shapes(net, order),
        param_table=tuple((f"{k}_{l}", k, None if net.widths is None else net.widths[l])
                          for k, l in order),
        mask_table=tuple((f"M_{l[1:]}", int(l[1:])) for l in masks),
        kinds=tuple(k for k, _ in order), activations=tuple(net.activations), loss_name=net.loss,
        bias=net.bias, batch=net.batch, widths=net.widths, depth=net.depth,
        extra_col=1 if net.bias == "augmented" else 0, constants=constants,
        forward_constants=[c for c in constants if c[0] != "weight_decay"],
        forward=forward, loss=loss, backward=backward, grads=[grads[o] for o in order],
        zs=[f"z{l}" for l in range(net.depth + 1)],
        saved=saved_names(forward, loss, backward, inputs),
        backward_scalars=[s for s in SCALARS if s in _names(
            "\n".join(line.code for line in backward), ast.Load)],
        loss_note="the mean over the m columns" if net.batch else "summed over the m columns")


def framework_source(net, target):
    """The text of the standalone module of ``net`` for ``target`` (torch, jax,
    array_api)."""
    if target not in FRAMEWORKS:
        raise SpecError(f"target {target!r} is not allowed; allowed: numpy, "
                        + ", ".join(FRAMEWORKS))
    return environment("python").get_template(f"{target}/module.py.j2").render(
        **context(net, target))
