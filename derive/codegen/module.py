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
import types

from ..engine.blocks import block_ops
from ..engine.ops import DENSE, OPS
from ..engine.plan import backprop
from ..errors import SpecError
from ..ir.nodes import Var
from ..printing.numpy_code import ArrayPrinter, var_name
from ..spec.conv import refuse_unbuilt
from ..spec.network import Network
from ..util.files import write_atomic
from ..util.templates import environment
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
    """One boolean test per parameter and mask: an ndarray of X's dtype and the expected
    shape (W_l (n_l, n_{l-1}), the others (n_l, 1), a mask (n_l, m))."""
    checks = [f"X.shape[0] == {widths[0]}"] if widths is not None else []
    if masks is not None:
        checks.append(f"type(masks) in (list, tuple) and len(masks) == {len(masks)}")
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
        checks.append(_typed(f"M{l}") + f" and M{l}.shape == ({of_layer[l]}, X.shape[1])")
    return checks


def _typed(name):
    return f"type({name}) is _ndarray and ({name}.dtype is dtype or {name}.dtype == dtype)"


def _keywords(net, masks):
    """The keyword-only arguments of the functions: masks, weight_decay, eps (SPEC §5)."""
    forward, constants = [], []
    if net.dropout:       # even with no hidden layer (masks=[]), for one signature
        forward.append("masks=None")
    if net.norm != "none":
        forward.append("eps=1e-5")
        constants.append(("eps", True))
    loss = list(forward)
    if net.weight_decay:
        loss.insert(1 if net.dropout else 0, "weight_decay=1e-4")
    sig = {key: (", *, " + ", ".join(v)) if v else "" for key, v in
           (("forward", forward), ("loss", loss))}
    passing = "".join(f", {arg.split('=')[0]}={arg.split('=')[0]}" for arg in loss)
    decay = [("weight_decay", False)] if net.weight_decay else []
    return sig, passing, (constants, decay + constants)


def _notes(net, masks):
    notes = []
    if net.norm != "none":
        notes.append("gamma_l and beta_l, shape (n_l, 1), follow W_l (and b_l) for every "
                     "hidden layer; eps is the ε inside the square root (keyword).")
    if net.dropout:
        notes.append(f"masks = [{', '.join(f'M{l}' for l in masks)}] (keyword): the dropout "
                     "masks, each of the shape of its z_l, entries 0 or 1/(1 − p).")
    if net.weight_decay:
        notes.append("weight_decay is λ of the penalty (λ/2) Σ_l ‖W_l‖_F² (keyword).")
    return notes


# --- the module ----------------------------------------------------------------------
def generate_source(net):
    """The text of the standalone gradient module of ``net``."""
    if net.symbolic:
        raise SpecError("export needs a concrete depth (the code unrolls the layers); "
                        "give activations one per layer instead of depth='L'")
    d = backprop(net)
    printer = ArrayPrinter(dict(batch=net.batch, outputs=activation_outputs(d)))
    depth = net.depth
    order = param_order(net)
    names = [var_name(k, l) for k, l in order]
    masks = mask_layers(d)
    backward, grads = backward_lines(d)
    forward, backward = printed([forward_lines(d), backward], printer, text)
    widths = net.widths
    table = tuple((f"{k}{l}", k, None if widths is None else widths[l]) for k, l in order)
    fast = _fast_checks(order, masks if net.dropout else None, widths, net.bias == "augmented")
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
    sig, passing, constants = _keywords(net, masks)
    mask_names = [f"M{l}" for l in masks]
    checked = ", masks" if net.dropout else ""
    return environment("python").get_template("numpy/module.py.j2").render(
        describe=net.describe(), names=names, shape_note=shape_note, loss_note=loss_note,
        option_notes=_notes(net, masks), activations=repr(tuple(net.activations)),
        loss=repr(net.loss), bias=repr(net.bias), batch=repr(net.batch), widths=repr(widths),
        param_table=repr(table), masks=mask_names, dropout=net.dropout,
        mask_table=repr(tuple((f"M{l}", l) for l in masks)),
        extra_col=" + 1" if net.bias == "augmented" else "", depth=depth,
        forward=forward, loss_lines=loss_lines(net, printer, depth), backward=backward,
        zs=[f"z{l}" for l in range(depth + 1)], grads=[grads[o] for o in order],
        update=update, fast_checks=fast, guard=guard, pad=" " * (8 if guard else 4),
        last=f"W{depth}", forward_kw=sig["forward"], kw=sig["loss"], pass_kw=passing,
        forward_constants=constants[0], constants=constants[1], check_x=f"params, X, None{checked}",
        check_xy=f"params, X, Y{checked}")


class GradientModule:
    """The generated module: ``forward``, ``loss``, ``gradients``,
    ``loss_and_gradients`` (both from one forward pass), ``train_step``, ``source`` and
    ``write(path)``."""

    def __init__(self, net, source):
        self.net, self.source = net, source
        module = types.ModuleType("derive_gradients")
        # runs only the code generated above, never user text
        exec(compile(source, "<derive export>", "exec"), module.__dict__)  # noqa: S102
        self.module = module
        self.forward, self.loss = module.forward, module.loss
        self.gradients, self.train_step = module.gradients, module.train_step
        self.loss_and_gradients = module.loss_and_gradients

    def write(self, path, force=False):
        write_atomic(path, self.source, force=force)

    def __repr__(self):
        return f"<GradientModule for {self.net.describe()}>"


def export_numpy(net):
    """Generate the NumPy gradient module of ``net``; see `GradientModule`."""

    refuse_unbuilt(net, "NumPy exports")
    if not isinstance(net, Network):
        raise SpecError(f"export_numpy takes a Network, got {type(net).__name__}")
    return GradientModule(net, generate_source(net))
