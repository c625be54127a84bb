"""δ_L through an output op with a full Jacobian (softmax, the one such row).

The op row (`derive.engine.ops`) holds the forward, the claimed Jacobian component
∂z_i/∂h_k = z_i(δ_ik − z_k), its matrix diag(z) − z zᵀ and the VJP, all checked against
the index forward by `derive.engine.vjp`. Here δ_L = (diag(z) − z zᵀ) ∂J/∂z is derived
step by step in index notation, with the cancellation against categorical cross-entropy
when y is a probability vector (an assumption the derivation records).
"""
from sympy import S, Sum, cancel, diff, expand

from ..calculus.kronecker import contract, lift
from ..ir.nodes import Jacobian, MatPartial, Partial
from ..ir.steps import Rule, Step
from ..vocab import DEPTH, LOSS, i, k, s


def softmax_delta(sh, op, loss, grad_z, grad_z_matrix):
    """δ_L through the full Jacobian of the op (softmax: ∂z_i/∂h_k = z_i(δ_ik − z_k)),
    its claim read from the op row (and checked there, `derive.engine.vjp`)."""
    L = DEPTH
    z, h, y, d = (sh.var(kind, L) for kind in ("z", "h", "y", "delta"))
    n = sh.n(L)
    zi, hk, dk = sh.comp(z, i, s), sh.comp(h, k, s), sh.comp(d, k, s)
    steps, assumptions = [], []
    bound = op.bind(sh, L)
    raw = contract(diff(op.index(bound, i, s), hk))
    claim = op.jacobian(bound)
    steps.append(Step(Partial(zi, hk), raw, Rule.ELEMENTWISE, L, "output", "index", "local"))
    steps.append(Step(Partial(zi, hk), claim, Rule.SOFTMAX_JACOBIAN, L, "output", "index",
                      "local"))
    jac = op.jacobian_matrix(bound)
    if jac is not None:
        steps.append(Step(Jacobian(z, h), jac, Rule.SOFTMAX_JACOBIAN, L, "output", "matrix",
                          "jacobian"))
    g_i = Partial(LOSS, zi)
    chain = Sum(g_i * claim, (i, 1, n))
    contracted = contract(chain)
    steps += [Step(dk, Partial(LOSS, hk), Rule.DEFINITION, L, "output", "index", "delta"),
              Step(dk, chain, Rule.CHAIN_RULE, L, "output", "index", "delta"),
              Step(dk, contracted, Rule.KRONECKER, L, "output", "index", "delta")]
    g_value_i = grad_z.xreplace({k: i})
    value = contract(contracted.xreplace({Partial(LOSS, sh.comp(z, k, s)): grad_z,
                                          g_i: g_value_i}).replace(
        lambda e: isinstance(e, Sum), lambda e: Sum(cancel(e.function), *e.limits)))
    steps.append(Step(dk, value, Rule.SUBSTITUTION, L, "output", "index", "delta"))
    if loss.target == "simplex":
        total = Sum(sh.comp(y, i, s), (i, 1, n))
        assumptions.append("y is a probability vector: its components sum to 1")
        simplified = expand(value.xreplace({total: S.One}))
        steps.append(Step(total, S.One, Rule.ASSUMPTION, L, "output", "index", "assume",
                          "y is a probability vector"))
        steps.append(Step(dk, simplified, Rule.CANCELLATION, L, "output", "index", "delta"))
        matrix = lift(simplified, z.shape)
        steps.append(Step(d, matrix, Rule.CANCELLATION, L, "output", "matrix", "delta_matrix"))
        return matrix, steps, assumptions
    vjp = op.vjps["x"]
    matrix = vjp(bound, grad_z_matrix)
    if not sh.batch:
        steps.append(Step(d, vjp(bound, MatPartial(LOSS, z)), Rule.MATRIX_PRODUCT, L,
                          "output", "matrix", "delta_matrix"))
    steps.append(Step(d, matrix, Rule.SUBSTITUTION, L, "output", "matrix", "delta_matrix"))
    return matrix, steps, assumptions
