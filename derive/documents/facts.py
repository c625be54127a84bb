"""Facts a document states in words and formulas: the activations' definitions and
the derivation's assumptions (printed from the rule rows and the engine's facts)."""
import re

from sympy import Symbol, exp

from ..printing.notation import act_latex
from ..spec import rules


def activations(doc):
    """Definitions of the activations used: σ(x) = …, σ'(x) = … (printed from rules)."""
    out, seen = [], []
    names = doc.d.net.activations
    xs = Symbol("x")
    for name in names:
        if name in seen:
            continue
        seen.append(name)
        row = rules.activation(name)
        f = act_latex(name)
        body = row.forward.xreplace({rules.x: xs})
        if body.func != Symbol and body.args == (xs,):    # tanh(x) = tanh(x) says nothing
            body = body.rewrite(exp)
        fwd = doc.tex(body)
        if name == "softmax":
            fwd = None
        der = None if not row.elementwise else doc.tex(row.derivative.xreplace({rules.x: xs}))
        outf = None if row.derivative_out is None or not row.elementwise else \
            doc.tex(row.derivative_out.xreplace({rules.u: Symbol("u")}))
        out.append(dict(name=name, f=f, forward=fwd and f"{f}(x) = {fwd}",
                        derivative=der and f"{f}'(x) = {der}", derivative_out=outf,
                        note=row.note))
    return out


_DEPTH_FACT = re.compile(r"the depth L is at least (\d+)")


def assumptions(doc, escape):
    """The engine's assumptions as printed facts: the depth's lower bound names the
    output layer in the notation's own letter (in ``gh`` L is the loss, the output
    layer is F)."""
    out = []
    for fact in doc.d.assumptions:
        least = _DEPTH_FACT.fullmatch(str(fact))
        if least:
            L = doc.layer(doc.d.net.L)
            out.append(f"the network has at least {least.group(1)} layers, the output "
                       f"layer being ${L}$")
        else:
            out.append(escape(fact))
    return out
