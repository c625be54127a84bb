"""The loss/activation cancellation for the NumPy export of a network of calls: the one
named rewrite of the walker's cotangents that the export makes.

The walk gives ∂J/∂z_L from the loss row and then ∂J/∂h_L through the output
activation's VJP; printed as they are, a saturated sigmoid (z = 1 exactly) or an
underflowed softmax entry (z = 0) divides 0 by 0. Where the loss term ℓ(u, t) and the
activation cancel, ∂J/∂h_L is printed from the cancelled scalar form instead, derived
here with SymPy from the rule rows (never typed):

* an elementwise σ: c ∂ℓ/∂u · σ' (σ' in the output u where the row gives it), brought
  over one denominator; it is used when the output leaves the denominator (sigmoid with
  binary cross-entropy: u − t) — the engine's criterion for an MLP
  (`derive.engine.layers.cancellation`);
* softmax: (diag(u) − u uᵀ) g with g = c ∂ℓ/∂u is w + u Σ_i v_i for w = u ⊙ g and
  v = −w; it is used when w is free of u (categorical cross-entropy: w = −t, so
  ∂J/∂h = u Σ t − t, exact for any target).

>>> from derive.spec import rules
>>> fused(rules.activation("sigmoid"), rules.loss("bce"))
(-t + u, '')
>>> fused(rules.activation("softmax"), rules.loss("cce"))
(-t + u*v_sum, t)
>>> fused(rules.activation("tanh"), rules.loss("bce")) is None
True
"""
from sympy import Symbol, cancel, diff, fraction, together

from ..spec import rules

#: the column sum Σ_i v_i of a softmax's fused form (printed as a reduction)
V_SUM = Symbol("v_sum")


def fused(act, loss):
    """(the cancelled scalar form of ∂J/∂h in u, t (and `V_SUM`), v or "") for an output
    activation row and a loss row, or None where nothing cancels."""
    u, x = rules.u, rules.x
    g = loss.factor * diff(loss.term, u)
    if g.has(rules.n):
        return None
    if not act.elementwise:
        if act.name != "softmax":
            return None
        w = cancel(u * g)
        return (w + u * V_SUM, -w) if not w.has(u) else None
    prime = act.derivative_out if act.derivative_out is not None else act.derivative
    if prime.has(x):
        return None
    den = fraction(together(g))[1]
    cancelled = cancel(together(g * prime))
    if not (den.has(u) and not fraction(cancelled)[1].has(u)):
        return None
    return cancelled, ""


def fused_line(act, loss, names, printer):
    """The code of the fused ∂J/∂h (``names``: u, t → the output's and the target's array
    names), and its text; None where nothing cancels."""
    form = fused(act, loss)
    if form is None:
        return None
    value, v = form
    sub = {rules.u: names[0], rules.t: names[1]}
    if v != "":
        total = printer.reduce_code(printer.doprint(v.xreplace(sub)), 0)
        value = value.xreplace({V_SUM: type(names[0])(total)})
    return printer.doprint(value.xreplace(sub)), form[0]
