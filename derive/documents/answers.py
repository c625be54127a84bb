"""The source notes' own questions, answered with the derivation's SymPy objects.

`hz_answer` answers the question of the Q&A thread (seed 000) for a network where the
sigmoid + cross-entropy cancellation happens: how the gradient of the weights one layer
below the output reuses what the output layer's gradient computed (δ_L reappears in
δ_{L−1}), and why the cancellation removes the division by z_L ⊙ (1 − z_L). Every
formula is printed from the engine's expressions; the prose is in
``templates/notes/common/answer_*.j2``.
"""
from sympy.matrices.expressions.hadamard import HadamardProduct

from ..ir.nodes import MatPartial, Var
from ..ir.steps import Rule
from ..vocab import LOSS


def _line(doc, lhs, rhs):
    return dict(lhs="" if lhs is None else doc.tex(lhs), rhs=doc.tex(rhs), rel="=", why=[])


def _display(lines):
    return dict(lines=lines, number=0)


def _matrix_step(d, layer, group, rule=None):
    found = [s for s in d.steps if s.layer == layer and s.form == "matrix"
             and s.group == group and (rule is None or s.rule == rule)]
    return found[-1] if found else None


def hz_answer(doc):
    """The displays and symbols of the answer, or None when the question does not arise
    (another preset, a single layer, or no cancellation at the output)."""
    d, net = doc.d, doc.d.net
    if doc.nt.name != "hz" or not (net.symbolic or net.depth > 1):
        return None
    L = net.L
    cancel = _matrix_step(d, L, "delta_matrix", Rule.CANCELLATION)
    dJdz, local = _matrix_step(d, L, "dJdz"), _matrix_step(d, L, "out")
    if cancel is None or dJdz is None or local is None:
        return None
    delta_L, delta_below = cancel.lhs, Var("delta", L - 1, net.width(L - 1), net.samples)
    W_L = Var("W", L, net.width(L), net.width(L - 1))
    W_below = Var("W", L - 1, net.width(L - 1), net.width(L - 2))
    g_L, g_below = d.grad("W", L), d.grad("W", L - 1)
    recursion = d.delta(L - 1)
    reuse = _display([
        _line(doc, MatPartial(LOSS, W_L), g_L),
        _line(doc, MatPartial(LOSS, W_below), g_below),
        _line(doc, None, g_below.xreplace({delta_below: recursion})),
        _line(doc, None, g_below.xreplace({delta_below: recursion.xreplace(
            {delta_L: cancel.rhs})})),
    ])
    product = HadamardProduct(dJdz.lhs, local.lhs)
    division = _display([
        _line(doc, delta_L, product),
        _line(doc, None, HadamardProduct(dJdz.rhs, local.rhs)),
        _line(doc, None, cancel.rhs),
    ])
    return dict(reuse=reuse, division=division,
                recursion=doc.tex(delta_below) + " = " + doc.tex(recursion),
                delta_L=doc.tex(delta_L), delta_below=doc.tex(delta_below),
                W_L=doc.tex(W_L), W_L_T=doc.tex(W_L.T), W_below=doc.tex(W_below),
                dJdz=doc.tex(dJdz.lhs), z_L=doc.tex(Var("z", L, net.width(L), net.samples)),
                denominator=doc.tex(local.rhs),
                local=doc.tex(local.lhs) + " = " + doc.tex(local.rhs))
