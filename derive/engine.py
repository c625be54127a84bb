"""`backprop`: instantiate the layer templates of `recursion` for every layer.

>>> from derive import Network
>>> d = backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce"))
>>> d.delta(3)
-y + z_3
>>> d.grad("W", 2)
delta_2*z_1.T
"""
from sympy import Integer

from .derivation import Derivation, Rule, Step
from .nodes import DEPTH, LAYER, WIDTH
from .recursion import templates


def backprop(net):
    """Derive the δ-recursion and the gradients of every parameter of ``net``."""
    from .network import Network

    if not isinstance(net, Network):
        from .errors import SpecError
        raise SpecError(f"backprop takes a Network, got {type(net).__name__}")
    hidden_names = tuple(sorted(set(net.activations[:-1])))
    sh, out, hidden, forward, grads = templates(net.bias, net.batch, net.loss,
                                                net.activations[-1], hidden_names)
    out_steps, out_results, assumptions = out
    grad_steps, grad_results = grads
    if net.symbolic:
        plan = [(DEPTH, "output", None), (DEPTH - 1, "hidden", net.activations[0]),
                (LAYER, "hidden", net.activations[0])]
        base = {}
        fwd = [(LAYER, net.activations[0]), (DEPTH, net.activations[1])]
        assumptions = ["the depth L is at least 2"] + list(assumptions)
    else:
        depth = net.depth
        plan = [(Integer(depth), "output", None)] + [
            (Integer(l), "hidden", net.activations[l - 1]) for l in range(depth - 1, 0, -1)]
        base = {DEPTH: Integer(depth)}
        fwd = [(Integer(l), net.activations[l - 1]) for l in range(1, depth + 1)]
    widths = {}
    if net.widths is not None:
        widths = {WIDTH[q]: Integer(w) for q, w in enumerate(net.widths)}

    def inst(steps, layer, extra=None):
        mapping = dict(base)
        mapping[LAYER] = layer
        if extra:
            mapping.update(extra)
        out_list = [step.subs(mapping) for step in steps]
        if widths:
            out_list = [step.subs(widths) for step in out_list]
        return out_list

    def inst_expr(expr, layer):
        mapping = dict(base)
        mapping[LAYER] = layer
        expr = expr.xreplace(mapping)
        return expr.xreplace(widths) if widths else expr

    steps = []
    for layer, name in fwd:
        steps += inst(forward[name][:], layer)
    deltas, grad_forms, index_forms, dJdz = {}, {}, {}, {}
    for layer, role, name in plan:
        if role == "output":
            steps += inst(out_steps, layer)
            deltas[layer] = inst_expr(out_results["delta"], layer)
            dJdz[layer] = inst_expr(out_results["dJdz"], layer)
        else:
            h_steps, h_results = hidden[name]
            steps += inst(h_steps, layer)
            deltas[layer] = inst_expr(h_results["delta"], layer)
            dJdz[layer] = inst_expr(h_results["dJdz"], layer)
        keep = [s for s in grad_steps if s.topic != "update"]
        steps += inst(keep, layer)
        for kind in ("W", "b"):
            if kind in grad_results:
                grad_forms[(kind, layer)] = inst_expr(grad_results[kind], layer)
                index_forms[(kind, layer)] = inst_expr(grad_results["index_" + kind], layer)
    if not net.symbolic and len(hidden_names) == 1:
        general = [s for s in hidden[hidden_names[0]][0]
                   if s.form == "matrix" and s.group in ("delta_matrix", "out")]
        general += [s for s in grad_steps if s.form == "matrix" and s.topic != "update"]
        steps += [Step(s.lhs.xreplace(base), s.rhs.xreplace(base), Rule.GENERAL, LAYER,
                       "general", "matrix", s.group, s.note) for s in general]
    steps += [s.subs(base) for s in grad_steps if s.topic == "update"]
    return Derivation(net, steps, deltas, grad_forms, index_forms, dJdz, assumptions)
