"""The normalization's error in the lecturer's form, read off the engine's own step.

The engine's step for a normalized layer's error states δ_l as one matrix expression
(its group statistics products with ones vectors). `short_forms` replaces that step by
the lines a lecturer writes, built from the quantities the engine's step names (γ_l,
∂J/∂ĥ_l, x̂_l, and the ε 1ᵀ + v_l under its square root), with the group-wise nodes of
`derive.printing.group_forms`:

    σ_l = √(v_l + ε),   g_l = ∂J/∂x̂_l = γ_l ⊙ ∂J/∂ĥ_l,
    δ_l = (1/σ_l)(g_l − mean(g_l) − x̂_l ⊙ mean(g_l ⊙ x̂_l)),

the mean taken over the group (the features of each column for layer norm, the samples
of each row for batch norm). Every node's ``meaning()`` is an engine-form matrix
expression, so each line can be evaluated and compared (the tests' truth check).
The letters avoid the notation's own: g becomes c where the pre-activation is g (gh),
σ becomes s where an activation is printed σ.
"""
from sympy import Rational
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd

from ..ir.nodes import MatPartial, Var
from ..ir.steps import Rule, Step
from ..printing.group_forms import Broadcast, GroupMean, Named, PerGroup, Shorthand, in_order
from ..printing.notation import FIELDS, act_latex
from ..vocab import EPSILON, LOSS


def is_norm_delta(lhs, rhs):
    """Is ``lhs = rhs`` the engine's matrix form of a normalized layer's error?"""
    return isinstance(lhs, Var) and lhs.kind == "delta" and not isinstance(rhs, Shorthand) \
        and any(v.kind == "xhat" and v.layer == lhs.layer for v in rhs.atoms(Var))


def letters(nt, net):
    """(the cotangent's letter, the standard deviation's letter) in this notation."""
    taken = {getattr(nt, f, "") for f in FIELDS}
    g = next(c for c in ("g", "c", "u", "e") if c not in taken)
    sigma = "s" if any(act_latex(a) == r"\sigma" for a in net.activations) else r"\sigma"
    return g, sigma


def _parts(lhs, rhs):
    """γ_l, ∂J/∂ĥ_l, x̂_l and ε 1ᵀ + v_l as the engine's step writes them (None if the
    step does not have them all)."""
    layer = lhs.layer
    found = {v.kind: v for v in rhs.atoms(Var) if v.layer == layer}
    cot = [p for p in rhs.atoms(MatPartial) if p.num == LOSS and isinstance(p.wrt, Var)
           and p.wrt.kind == "hhat" and p.wrt.layer == layer]
    roots = [p.base for p in rhs.atoms(HadamardPower) if p.exp == -Rational(1, 2)]
    if not (cot and roots and "gamma" in found and "xhat" in found and "var" in found):
        return None
    return found["gamma"], cot[0], found["xhat"], found["var"]


def lecturer_lines(lhs, rhs, names, compact=False):
    """[(lhs, rhs)] of the lecturer's form of the engine's ``δ_l = rhs``; ``compact``
    leaves out g_l = ∂J/∂x̂_l (the results lists); None if ``rhs`` is not such a form."""
    parts = _parts(lhs, rhs)
    if parts is None:
        return None
    gamma, cot, xhat, var = parts
    g_letter, s_letter = names
    layer, (rows, cols) = lhs.layer, lhs.shape
    sigma = Named(s_letter, layer, HadamardPower(MatAdd(var, Broadcast(EPSILON, *var.shape)),
                                                 Rational(1, 2)), bold=False)
    g = Named(g_letter, layer, HadamardProduct(Broadcast(gamma, rows, cols), cot))
    along = "columns" if var.shape[0] == 1 else "rows"
    body = in_order(g, GroupMean(g, along),
                    HadamardProduct(xhat, GroupMean(HadamardProduct(g, xhat), along)))
    out = [(sigma, sigma.meaning())]
    if not compact:
        out.append((g, MatPartial(LOSS, xhat)))
    return out + [(g, g.meaning()), (lhs, PerGroup(sigma, body))]


def short_forms(steps, names, compact=False):
    """``steps`` with every engine step of a normalized layer's error replaced by the
    lecturer's lines (same layer, topic and group; σ and g as definitions, g's chain
    rule, δ as the matrix form it is)."""
    out = []
    for s in steps:
        lines = lecturer_lines(s.lhs, s.rhs, names, compact) \
            if is_norm_delta(s.lhs, s.rhs) else None
        if lines is None:
            out.append(s)
            continue
        rules = [Rule.DEFINITION] * (len(lines) - 2) + [Rule.CHAIN_RULE, Rule.MATRIX_FORM]
        out += [Step(a, b, rule, s.layer, s.topic, s.form, s.group, s.note)
                for (a, b), rule in zip(lines, rules)]
    return out


def short_rows(rows, names):
    """Results (lhs, rhs) with every normalized layer's error in the lecturer's form."""
    out = []
    for lhs, rhs in rows:
        lines = lecturer_lines(lhs, rhs, names, compact=True) \
            if is_norm_delta(lhs, rhs) else None
        out += lines if lines is not None else [(lhs, rhs)]
    return out
