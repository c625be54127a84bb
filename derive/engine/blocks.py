"""The one walker: every block kind of a network, derived from its calls.

A block is a tuple of op calls (`derive.spec.blocks`); each kind is derived once, at the
symbolic layer l, by walking its calls in reverse: ∂J/∂z_l first (through the dense call
of the layer above, `derive.engine.layers.dJdz_steps`, plus every other call above that
reads z_l: a quantity read by several calls gets the sum of its paths, one accumulation
step), then each call's checked VJP row turns the cotangent of its output into the
cotangent of its input, down to δ_l = ∂J/∂h_l. A block whose one call after the dense op
is an elementwise activation h_l → z_l is derived in index notation, step by step (chain
rule, elementwise derivative, Kronecker contraction, matrix form:
`derive.engine.layers.hidden_template`); a longer block in matrix form, one VJP per call
(the index-level proof of each VJP is its op row's, `derive.engine.proofs`).

Every cotangent the walk names (∂J/∂z_l, ∂J/∂a_l, ∂J/∂ĥ_l) is a result, evaluated in
order by `certify` and substituted by `Derivation.substitute_deltas`.
"""
from functools import lru_cache
from types import SimpleNamespace

from sympy.matrices.expressions import MatAdd

from ..ir.nodes import MatPartial
from ..ir.quantities import KINDS
from ..ir.steps import Group, Rule, Step
from ..spec import rules
from ..spec.blocks import hidden_calls
from ..vocab import LAYER, LOSS
from .kinds import NORM_AUX, aux_matrix
from .layers import (
    decayed_loss,
    dJdz_steps,
    forward_steps,
    gradient_template,
    hidden_template,
    output_template,
)
from .ops import OPS, Shapes, op_row
from .proofs import checked

#: why ∂J/∂z_l has a second path, by the (op, port) of the call above that reads z_l
SECOND_READER = {("residual", "skip"): "z_l is read by the weights of layer l+1 and by its "
                 "skip connection; the two paths add",
                 ("dropout_residual", "skip"): "z_l is read by the weights of layer l+1 and by "
                 "its skip connection; the two paths add"}


def block_ops(activation, norm, dropout, residual):
    """The ops of one hidden block after its dense op, in forward order, each with the port
    it is walked back through: [(op row, "x")] (a view for the exporter)."""
    flags = SimpleNamespace(bias="none", norm=norm, dropout=dropout)
    return [(op_row(call.op), "x") for call in hidden_calls(flags, activation, residual)[1:]]


def is_plain(calls):
    """A block whose one call after the dense op is an elementwise activation h → z (the
    output block: before its loss)."""
    body = [c for c in calls[1:] if not c.op.startswith("loss:")]
    return len(body) == 1 and body[0].args["x"].kind == "h" and body[0].out.kind == "z"


def other_readers(above, z):
    """The (call, port) pairs of the block above that read ``z`` besides its dense op."""
    return tuple((call, port) for call in above[1:] for port, q in call.args.items() if q == z)


def second_paths(sh, readers):
    """Each reader's VJP of the cotangent of its output: the further paths into z_l."""
    paths = []
    for call, port in readers:
        op = op_row(call.op)
        bound = op.bound(sh, call)
        checked(op.name, sh.bias, sh.batch, sh.norm)
        paths.append(op.vjps[port](bound, MatPartial(LOSS, bound[op.output])))
    return paths


def walk_hidden(sh, calls, readers):
    """Steps and results of one hidden block kind at layer l: ∂J/∂z_l (the sum of its
    paths), then the calls in reverse down to δ_l (and γ_l, β_l of a normalization)."""
    l = LAYER
    if is_plain(calls) and not readers:
        return hidden_template(sh, rules.activation(calls[1].op))
    steps, back = dJdz_steps(sh)
    z = sh.var("z", l)
    value = back
    paths = second_paths(sh, readers)
    if paths:
        value = MatAdd(back, *paths)
        call, port = readers[0]
        steps = steps + [Step(MatPartial(LOSS, z), value, Rule.ACCUMULATION, l, "hidden",
                              "matrix", Group.DJDZ, SECOND_READER.get((call.op, port), ""),
                              call.op, port)]
    return _walk_calls(sh, calls, steps, value)


def _walk_calls(sh, calls, steps, value):
    l = LAYER
    z = sh.var("z", l)
    cotangents = [(MatPartial(LOSS, z), value)]
    G, results = MatPartial(LOSS, z), {"dJdz": value}
    for call in reversed(calls[1:]):
        op = op_row(call.op)
        bound = op.bound(sh, call)
        checked(op.name, sh.bias, sh.batch, sh.norm)
        form = op.vjps["x"](bound, G)
        if call.args["x"].kind == "h":            # the last call walked: δ_l = ∂J/∂h_l
            target = sh.var("delta", l)
            results["delta"] = form
        elif form == G:                          # the identity path: nothing to name
            continue
        else:
            target = MatPartial(LOSS, bound["x"])
            cotangents.append((target, form))
        steps = steps + [Step(target, form, Rule.MATRIX_FORM if op.aux else Rule.HADAMARD,
                              l, "hidden", "matrix", Group.DELTA_MATRIX, f"the VJP of the "
                              f"{op.name.replace('_', ' ')} op", call.op, "x")]
        for port in op.inputs:   # the call's own parameters (a normalization's γ_l, β_l)
            if KINDS[call.args[port].kind].trained:
                results[port] = op.vjps[port](bound, G)
                steps.append(Step(MatPartial(LOSS, bound[port]), results[port],
                                  Rule.MATRIX_PRODUCT, l, "weights", "matrix", "d" + port,
                                  op=call.op, port=port))
        G = target
    results["cotangents"] = cotangents
    return steps, results


def forward_template(sh, key, calls):
    """The forward rows of a block kind at layer l: a plain block's in index notation and
    as matrices; a longer one's dense op so, then each call's output as a matrix (a
    normalization's μ_l, v_l and x̂_l first, as definitions)."""
    act = rules.activation(key[1])
    if is_plain(calls):
        return forward_steps(sh, act, LAYER)
    steps = [st for st in forward_steps(sh, act, LAYER) if st.group == "pre"]
    for call in calls[1:]:
        op = op_row(call.op)
        bound = op.bound(sh, call)
        for port in NORM_AUX:
            if port in op.aux:
                steps.append(Step(bound[port], aux_matrix(bound, port), Rule.DEFINITION,
                                  LAYER, "forward", "matrix", Group.NORM, op=call.op))
        steps.append(Step(bound["y"], op.matrix(bound), Rule.FORWARD, LAYER, "forward",
                          "matrix", Group.POST, op=call.op))
    return steps


@lru_cache(maxsize=128)
def templates(bias, batch, norm, loss_name, decay, output, hidden, forward):
    """Every template a network needs, each block kind derived once: the output block
    (``output``: its calls), each hidden block kind with the calls above that also read its
    output (``hidden``: ((key, readers), calls) pairs), the forward rows of each block kind
    (``forward``: (key, calls) pairs), and the parameter gradients. The output block's ops
    have their VJP claims proved first (or trusted from the proof record)."""
    sh = Shapes(bias, batch, norm)
    calls = output + tuple(c for _, block in hidden for c in block)
    for call in calls + ((OPS["penalty"].call(LAYER),) if decay else ()):
        checked(call.op, bias, batch, norm)
    out = output_template(sh, rules.loss(loss_name), rules.activation(output[1].op))
    if decay:
        out = decayed_loss(out)
    walked = {(key, readers): walk_hidden(sh, calls, readers)
              for (key, readers), calls in hidden}
    rows = {key: forward_template(sh, key, calls) for key, calls in forward}
    readers = ((OPS["penalty"].call(LAYER), "W"),) if decay else ()
    return sh, out, walked, rows, gradient_template(sh, readers)
