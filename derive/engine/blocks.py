"""The hidden block of a network with §1b options, derived by walking its ops in reverse.

The block's ops (`block_ops`) run forward as dense → normalization → activation →
dropout / residual add; backward, each op's checked VJP row turns the cotangent of its
output into the cotangent of its input, from ∂J/∂z_l down to δ_l = ∂J/∂h_l. Where the
block's output is read twice (a residual layer above reads z_l through its weights
and through its skip), ∂J/∂z_l is the sum of the two paths: the accumulation rule.

Every cotangent the walk names (∂J/∂z_l, ∂J/∂a_l, ∂J/∂ĥ_l) is a result, evaluated in
order by `certify` and substituted by `Derivation.substitute_deltas`; the walk is done
once at the symbolic layer l and instantiated per layer like the plain templates.
"""
from functools import lru_cache

from sympy.matrices.expressions import MatAdd

from ..ir.nodes import MatPartial
from ..ir.steps import Rule, Step
from ..spec import rules
from ..vocab import LAYER, LOSS
from .kinds import COMBINE_OPS, NORM_OPS, activation_row, aux_matrix
from .layers import decayed_loss, dJdz_steps, forward_steps, gradient_template, output_template
from .ops import OPS, Shapes
from .ops import block_ops as ops_block_ops
from .proofs import checked


def block_ops(activation, norm, dropout, residual):
    """The ops of one hidden block in forward order, each with the port it is walked
    back through: [(op row, input port)], the dense op (walked by δ) left out."""
    src = "h" if norm == "none" else "hhat"
    combine = COMBINE_OPS.get((dropout, residual))
    walk = []
    if norm != "none":
        walk.append((OPS[NORM_OPS[norm]], "h"))
    walk.append((activation_row(activation, src, "a" if combine else "z"), src))
    if combine:
        walk.append((OPS[combine], "a"))
    return walk


def forward_block(sh, activation, norm, dropout, residual, layer):
    """The forward rows of the block after the dense op: each op's output, as a matrix
    (the normalization's μ_l, v_l and x̂_l first, as definitions)."""
    steps = []
    for op, _ in block_ops(activation, norm, dropout, residual):
        for kind in ("mu", "var", "xhat"):
            if kind in op.aux:
                steps.append(Step(sh.var(kind, layer), aux_matrix(sh, kind, layer),
                                  Rule.DEFINITION, layer, "forward", "matrix", "norm"))
        out = sh.var(op.output, layer)
        steps.append(Step(out, op.matrix(sh, layer), Rule.FORWARD, layer, "forward",
                          "matrix", "post"))
    return steps


def hidden_block(sh, bias, activation, norm, dropout, residual, skip_in, dz_steps):
    """Steps and results of one hidden block at layer l from ∂J/∂z_l's own steps
    (``dz_steps`` = (steps, W_{l+1}ᵀ δ_{l+1})): the cotangents, δ_l, and the γ_l, β_l
    gradients of a normalized block."""
    l = LAYER
    steps, back = dz_steps
    z = sh.var("z", l)
    value = back
    if skip_in:   # z_l is read twice: by W_{l+1} and by layer l+1's skip connection
        value = MatAdd(back, MatPartial(LOSS, sh.var("z", l + 1)))
        steps = steps + [Step(MatPartial(LOSS, z), value, Rule.ACCUMULATION, l, "hidden",
                              "matrix", "dJdz", "z_l is read by the weights of layer l+1 "
                              "and by its skip connection; the two paths add")]
    cotangents = [(MatPartial(LOSS, z), value)]
    G, results = MatPartial(LOSS, z), {"dJdz": value}
    for op, port in reversed(block_ops(activation, norm, dropout, residual)):
        checked(op.name, bias, sh.batch, norm)
        form = op.vjps[port](sh, l, G)
        if port == "h":                          # the last op walked: δ_l = ∂J/∂h_l
            target = sh.var("delta", l)
            results["delta"] = form
        elif form == G:                          # the identity path: nothing to name
            continue
        else:
            target = MatPartial(LOSS, sh.var(port, l))
            cotangents.append((target, form))
        steps = steps + [Step(target, form, Rule.MATRIX_FORM if op.aux else Rule.HADAMARD,
                              l, "hidden", "matrix", "delta_matrix", f"the VJP of the "
                              f"{op.name.split('@')[0].replace('_', ' ')} op")]
        if op.aux:   # the normalization's own parameters
            for kind in ("gamma", "beta"):
                results[kind] = op.vjps[kind](sh, l, G)
                steps.append(Step(MatPartial(LOSS, sh.var(kind, l)), results[kind],
                                  Rule.MATRIX_PRODUCT, l, "weights", "matrix", "d" + kind))
        G = target
    results["cotangents"] = cotangents
    return steps, results


def kind_forward(sh, activation, norm, dropout, residual, layer):
    """The forward rows of a hidden layer with options: the dense op, then the block."""
    dense = [st for st in forward_steps(sh, rules.activation(activation), layer)
             if st.group == "pre"]
    return dense + forward_block(sh, activation, norm, dropout, residual, layer)


@lru_cache(maxsize=128)
def block_templates(bias, batch, loss_name, output_name, hidden_names, decay, norm, dropout,
                    residual):
    """The templates of a network with §1b options: the output block and the parameter
    gradients as for a plain network, and one walked hidden block per activation and
    per whether the layer above reads z_l through a skip (``(name, skip_in)``); forward
    rows per activation and per whether the layer adds its input (``(name, residual)``)."""
    sh = Shapes(bias, batch, norm)
    used = ops_block_ops("output", bias, output_name, loss_name)
    for op in used + ((OPS["penalty"],) if decay else ()):
        checked(op.name, bias, batch)
    out = output_template(sh, rules.loss(loss_name), rules.activation(output_name))
    if decay:
        out = decayed_loss(out)
    skips = (False, True) if residual else (False,)
    # one walk serves layer 1 (no skip of its own) and the residual layers alike: the
    # residual add passes ∂J/∂z_l to a_l unchanged, so the walk's forms do not depend
    # on whether the layer adds its input (its path into z_{l-1} is the layer below's
    # skip_in); only the forward rows do
    hidden = {(name, skip): hidden_block(sh, bias, name, norm, dropout, residual, skip,
                                         dJdz_steps(sh))
              for name in hidden_names for skip in skips}
    forward = {(name, res): kind_forward(sh, name, norm, dropout, res, LAYER)
               for name in hidden_names for res in skips}
    forward[(output_name, "output")] = forward_steps(sh, rules.activation(output_name), LAYER)
    return sh, out, hidden, forward, gradient_template(sh, decay)
