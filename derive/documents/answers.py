"""The source notes' own questions, answered with the derivation's SymPy objects.

`hz_answer` answers the question of the Q&A thread (seed 000) for a network where the
sigmoid + cross-entropy cancellation happens: how the gradient of the weights one layer
below the output reuses what the output layer's gradient computed (δ_L reappears in
δ_{L−1}), and why the cancellation removes the division by z_L ⊙ (1 − z_L). Every
formula is printed from the engine's expressions; the prose is in
``templates/notes/common/answer_*.j2``.
"""
import math

from sympy import Symbol, exp, log
from sympy.matrices.expressions import MatMul, Transpose
from sympy.matrices.expressions.hadamard import HadamardProduct

from ..ir.nodes import Act, Jacobian, MatPartial, Var
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
    (another preset, a single layer, no cancellation at the output, or a network with
    the §1b options, whose hidden error is not the thread's W_Lᵀ δ_L ⊙ σ'(h_{L−1}))."""
    d, net = doc.d, doc.d.net
    if doc.nt.name != "hz" or net.kinds or not (net.symbolic or net.depth > 1):
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
    asked, fixed = _asked(doc, L, net, cancel.rhs)
    return dict(reuse=reuse, division=division, asked=asked, fixed=fixed,
                factors=_factors(doc, L, net, delta_L), floating=_floating(doc),
                error=doc.tex(cancel.rhs.xreplace({dJdz.lhs.wrt: Act(
                    net.activation(L).name, Var("h", L, net.width(L), net.samples))})),
                recursion=doc.tex(delta_below) + " = " + doc.tex(recursion),
                delta_L=doc.tex(delta_L), delta_below=doc.tex(delta_below),
                W_L=doc.tex(W_L), W_L_T=doc.tex(W_L.T), W_below=doc.tex(W_below),
                dJdz=doc.tex(dJdz.lhs), z_L=doc.tex(Var("z", L, net.width(L), net.samples)),
                denominator=doc.tex(local.rhs),
                local=doc.tex(local.lhs) + " = " + doc.tex(local.rhs))


def _asked(doc, L, net, error):
    """The thread's closed form z_{L−1}(z_L − y), read as the outer product
    z_{L−1}(z_L − y)ᵀ, and the chain that corrects it: ∂J/∂W_L = δ_L z_{L−1}ᵀ =
    (z_L − y) z_{L−1}ᵀ = (z_{L−1}(z_L − y)ᵀ)ᵀ."""
    z_in = Var("z", L - 1, net.width(L - 1), net.samples)
    delta_L = Var("delta", L, net.width(L), net.samples)
    outer = MatMul(z_in, Transpose(error))
    fixed = _display([
        _line(doc, MatPartial(LOSS, Var("W", L, net.width(L), net.width(L - 1))),
              MatMul(delta_L, Transpose(z_in))),
        _line(doc, None, MatMul(error, Transpose(z_in))),
        _line(doc, None, Transpose(outer)),
    ])
    literal = rf"{doc.tex(z_in)} \left({doc.tex(error)}\right)"
    return dict(literal=literal, outer=doc.tex(outer)), fixed


def _factors(doc, L, net, delta_L):
    """The thread's chain of five factors for ∂J/∂W_{L−1}, each with what it becomes."""
    w = net.width
    z = {k: Var("z", L - k, w(L - k), net.samples) for k in (0, 1, 2)}
    h = {k: Var("h", L - k, w(L - k), net.samples) for k in (0, 1)}
    W_L = Var("W", L, w(L), w(L - 1))
    rows = [(MatPartial(LOSS, z[0]), None), (Jacobian(z[0], h[0]), delta_L),
            (Jacobian(h[0], z[1]), Transpose(W_L)),
            (Jacobian(z[1], h[1]), Act(net.activation(L - 1).name, h[1], 1)),
            (Jacobian(h[1], Var("W", L - 1, w(L - 1), w(L - 2))), Transpose(z[2]))]
    return [dict(factor=doc.tex(f), becomes=doc.tex(b) if b is not None else "")
            for f, b in rows]


def _floating(doc):
    """Float64 facts computed here, not typed: the smallest integer h at which σ(h)
    rounds to exactly 1 (so log(1 − σ(h)) is log 0), and the stable loss of one output
    written from its logit, J = log(1 + e^h) − y h (equal to the cross-entropy of σ(h))."""
    h = 1
    while 1.0 / (1.0 + math.exp(-h)) != 1.0:
        h += 1
    x, y = Symbol("h"), Symbol("y")
    return dict(h=h, gap=f"{1.0 - 1.0 / (1.0 + math.exp(-(h - 1))):.1e}",
                stable=doc.tex(log(1 + exp(x)) - y * x), logit=doc.tex(x),
                sigma=doc.tex(Act("sigmoid", Var("h", 1, 1, 1))).replace(r"\mathbf{h}_{1}",
                                                                         "h"))
