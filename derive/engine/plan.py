"""`backprop`: instantiate the block templates for every layer.

Each block kind of the network (`Network.block_kinds`: the output block, each hidden
block; the calls of `derive.spec.blocks`) is derived once at a symbolic layer by the one
walker, `derive.engine.blocks.templates`, its ops' VJP claims proved first (or trusted
from the proof record); here its steps are instantiated by substitution, layer by layer.

>>> from derive import Network
>>> d = backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce"))
>>> d.delta(3)
-y + z_3
>>> d.grad("W", 2)
delta_2*z_1.T
"""
from sympy import Basic, Integer, Sum

from ..errors import SpecError
from ..ir.quantities import PARAMETERS, Q
from ..ir.steps import Rule, Step
from ..spec.blocks import block, kind_of
from ..spec.conv import ConvNetwork
from ..spec.network import Network
from ..vocab import DEPTH, LAYER, WIDTH
from .blocks import other_readers, templates
from .derivation import Derivation
from .graph import backprop_graph


def _plan(net):
    """(layers to derive, last first, with their role; forward layers; the depth
    substitution) for a concrete or a symbolic depth."""
    if net.symbolic:
        plan = [(DEPTH, "output", None), (DEPTH - 1, "hidden", net.activations[0]),
                (LAYER, "hidden", net.activations[0])]
        first = [(Integer(1), net.activations[0])] if net.residual else []
        return plan, first + [(LAYER, net.activations[0]), (DEPTH, net.activations[1])], {}
    depth = net.depth
    plan = [(Integer(depth), "output", None)] + [
        (Integer(l), "hidden", net.activations[l - 1]) for l in range(depth - 1, 0, -1)]
    fwd = [(Integer(l), net.activations[l - 1]) for l in range(1, depth + 1)]
    return plan, fwd, {DEPTH: Integer(depth)}


class _Instantiate:
    """Substitutes a layer (and the depth and any fixed widths) into template steps.

    The same substitution as ``xreplace`` (a layer first, then the widths), with one
    memo per layer shared by all its steps: the steps of a template repeat their
    subexpressions, which are rebuilt once instead of once per step (and per result).
    """

    def __init__(self, base, net):
        self.base = base
        self.widths = {} if net.widths is None else {
            WIDTH[q]: Integer(w) for q, w in enumerate(net.widths)}
        self.width_memo, self.memos = {}, {}

    def steps(self, steps, layer):
        memo = self.memos.setdefault(layer, {})
        mapping = {**self.base, LAYER: layer}
        return [Step(self.expr(st.lhs, layer), self.expr(st.rhs, layer), st.rule,
                     _replace(st.layer, mapping, memo)[0] if isinstance(st.layer, Basic)
                     else st.layer, st.topic, st.form, st.group, st.note, st.op, st.port)
                for st in steps]

    def expr(self, expr, layer):
        memo = self.memos.setdefault(layer, {})
        expr = _replace(expr, {**self.base, LAYER: layer}, memo)[0]
        return _replace(expr, self.widths, self.width_memo)[0] if self.widths else expr


def _replace(expr, rule, memo):
    """``expr.xreplace(rule)`` (same rebuilds, same result) with a memo: (new, changed)."""
    if expr in rule:
        return rule[expr], True
    if expr in memo:
        return memo[expr]
    args, changed = [], False
    for arg in expr.args:
        if hasattr(arg, "_xreplace"):
            new, flag = _replace(arg, rule, memo)
            args.append(new)
            changed |= flag
        else:
            args.append(arg)
    memo[expr] = out = (expr.func(*args), True) if changed else (expr, False)
    return out


def _template_keys(net):
    """The arguments of `templates` for ``net``: its output block, each hidden block kind
    with the calls of the layer above that also read its output, each block kind's calls."""
    kinds = net.block_kinds()
    hidden = {(_hidden_key(net, layer), kinds[kind_of(net, layer)])
              for layer, role, _ in _plan(net)[0] if role == "hidden"}
    return kinds[kind_of(net, net.L)], tuple(sorted(hidden, key=str)), tuple(kinds.items())


def _hidden_key(net, layer):
    """(block kind of ``layer``, the calls above that read z_layer besides its dense op),
    at the symbolic layer l."""
    above = block(net, kind_of(net, layer + 1), LAYER + 1)
    return kind_of(net, layer), other_readers(above, Q("z", LAYER))


def backprop(net):
    """Derive the δ-recursion and the gradients of every parameter of ``net`` (a
    network of calls, such as a convolutional one: call by call, `derive.engine.graph`)."""
    if isinstance(net, ConvNetwork) or (not isinstance(net, Network) and hasattr(net, "blocks")):
        return backprop_graph(net)
    if not isinstance(net, Network):
        raise SpecError(f"backprop takes a Network, got {type(net).__name__}")
    output, hidden_kinds, forward_kinds = _template_keys(net)
    sh, out, hidden, forward, grads = templates(net.bias, net.batch, net.norm, net.loss,
                                                net.weight_decay, output, hidden_kinds,
                                                forward_kinds)
    out_steps, out_results, assumptions = out
    grad_steps, grad_results = grads
    plan, fwd, base = _plan(net)
    if net.symbolic:
        least = 3 if net.residual else 2
        assumptions = [f"the depth L is at least {least}"] + list(assumptions)
    inst = _Instantiate(base, net)
    steps = []
    for layer, _ in fwd:
        steps += inst.steps(forward[kind_of(net, layer)], layer)
    deltas, grad_forms, index_forms, dJdz, cotangents = {}, {}, {}, {}, {}
    keep = [s for s in grad_steps if s.topic != "update"]
    for layer, role, _ in plan:
        layer_steps, results = (out_steps, out_results) if role == "output" else \
            hidden[_hidden_key(net, layer)]
        steps += inst.steps(layer_steps, layer)
        deltas[layer] = inst.expr(results["delta"], layer)
        dJdz[layer] = inst.expr(results["dJdz"], layer)
        cotangents[layer] = [(inst.expr(sym, layer), inst.expr(form, layer))
                             for sym, form in results.get("cotangents", ())]
        steps += inst.steps(keep, layer)
        for kind in ("W", "b"):
            if kind in grad_results:
                grad_forms[(kind, layer)] = inst.expr(grad_results[kind], layer)
                index_forms[(kind, layer)] = inst.expr(grad_results["index_" + kind], layer)
        for kind in PARAMETERS:   # a call's own parameters (a normalization's γ_l, β_l)
            if kind in results:
                grad_forms[(kind, layer)] = inst.expr(results[kind], layer)
    if not net.symbolic and len(hidden) == 1 and not net.kinds:
        general = [s for s in next(iter(hidden.values()))[0]
                   if s.form == "matrix" and s.group in ("delta_matrix", "out")]
        general += [s for s in keep if s.form == "matrix"]
        steps += [Step(s.lhs.xreplace(base), s.rhs.xreplace(base), Rule.GENERAL, LAYER,
                       "general", "matrix", s.group, s.note) for s in general]
    steps += [s.subs(base) for s in grad_steps if s.topic == "update"]
    if net.weight_decay and not net.symbolic and net.depth <= LISTED:
        steps = _list_penalty(steps, inst)
    return Derivation(net, steps, deltas, grad_forms, index_forms, dJdz, assumptions,
                      cotangents)


#: the deepest concrete network whose decay penalty is also written term by term
LISTED = 6


def _list_penalty(steps, inst):
    """After the decayed loss in matrix form, J = J_data + (λ/2) Σ_{l=1}^{L} ‖W_l‖_F², the
    same loss with the sum over the layers written out (SymPy's ``doit`` of that sum,
    then the network's widths, if fixed, in the terms' shapes)."""
    out = []
    for st in steps:
        out.append(st)
        if st.topic == "loss" and st.group == "decay" and st.form == "matrix":
            listed = st.rhs.replace(lambda e: isinstance(e, Sum), lambda e: e.doit())
            out.append(Step(st.lhs, inst.expr(listed, st.layer), Rule.LAYER_TERMS,
                            st.layer, st.topic, st.form, st.group))
    return out
