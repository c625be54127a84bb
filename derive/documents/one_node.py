"""003's devices for a chain of one-node layers, built from the engine's objects.

`scalar_steps` turns a section's steps into numbers (`derive.documents.scalars`) and
drops the lines that become repeats (an index line and its matrix line say the same
thing about numbers). `one_node_chain` collects what 003 §I–II shows: the nested
output, the forward and backward chains listed, each weight's gradient written along
the chain (the error underbraced, the weight it is taken by marked in red where it
would stand, the layer output underbraced), the pattern ∂C/∂w_{i,i+1} = δ_{L−1−i} q_i
and the two sanity checks: every gradient vanishes when the output equals the target,
and with every activation the identity the gradients are those of the linear chain.
"""
from sympy import Expr, Integer, Symbol
from sympy.matrices.expressions import MatMul
from sympy.printing.precedence import PRECEDENCE

from ..ir.activations import act_function, is_atom, realize
from ..ir.nodes import Var
from ..ir.steps import Rule, Step
from ..printing.notation import act_latex
from ..spec import rules
from ..vocab import i as INDEX
from .chains import FAMILY
from .scalars import Scalar, ScalarGrad, scalar


def scalar_steps(steps):
    """``steps`` written with numbers. A line that repeats an earlier line of its chain
    is left out, and so is an index line after the chain's last indicator contraction
    when the matrix lines restate its result (unless the chain shows a cancellation)."""
    out, seen = [], {}
    for n, s in enumerate(steps):
        lhs, rhs = scalar(s.lhs), scalar(s.rhs)
        key = (s.layer, FAMILY.get(s.group, s.group) or s.rule)
        if (lhs, rhs) in seen.setdefault(key, set()) or lhs == rhs or _restated(steps, n, key):
            continue
        seen[key].add((lhs, rhs))
        out.append(Step(lhs, rhs, s.rule, s.layer, s.topic, "matrix", s.group, s.note))
    return out


def _restated(steps, n, key):
    family = [s for s in steps if (s.layer, FAMILY.get(s.group, s.group) or s.rule) == key]
    s = steps[n]
    if s.form != "index" or s.rule != Rule.SUBSTITUTION or \
            any(t.rule == Rule.CANCELLATION for t in family):
        return False
    later = family[family.index(s) + 1:]
    return not any(t.rule == Rule.KRONECKER for t in later) and \
        any(t.form == "matrix" for t in later)


class Chain(Expr):
    """A product printed in the order given (003 writes the factors along the chain)."""
    is_commutative = True

    def _notes_latex(self, printer):
        return " ".join(printer.parenthesize(f, PRECEDENCE["Mul"]) for f in self.args)


class At(Expr):
    """``expr`` evaluated where ``old`` equals ``new``: (…)|_{q_3 = y}."""
    is_commutative = True

    def _notes_latex(self, printer):
        expr, old, new = (printer.doprint(a) for a in self.args)
        return rf"\left.{expr}\right|_{{{old} = {new}}}"


def _place(factor, depth):
    """Where a factor stands along the backward chain: the loss derivative first, then
    σ'(p_L), w_{L−1,L}, σ'(p_{L−1}), …; layer outputs last."""
    if factor.is_number:
        return 2 * depth + 3
    layers = [a.var.layer for a in factor.atoms(Scalar)]
    if isinstance(factor, Scalar) and factor.var.kind == "W":
        return 2 * factor.var.layer - 1
    if is_atom(factor):
        return 2 * max(layers)
    if any(a.var.kind == "y" for a in factor.atoms(Scalar)):
        return 2 * depth + 2
    return 0


def chain_order(expr, depth):
    """The factors of the product ``expr`` along the chain (a `Chain`)."""
    factors = sorted(expr.as_ordered_factors(), key=lambda f: -_place(f, depth))
    return Chain(*factors)


def _nested_of(var, forward):
    """``var`` with every layer below substituted in: σ(w_{23} σ(w_{12} …))."""
    expr = var
    for _ in range(2 * len(forward) + 1):
        expr = expr.xreplace(forward)
    return expr


def identity_chain(expr):
    """``expr`` with every activation replaced by the identity (σ(x) = x, σ' = 1)."""
    return realize(expr.replace(is_atom, lambda f: act_function("identity", f.order)(f.args[0])))


def one_node_chain(doc, forward_steps):
    """The printed devices for a one-node chain (see the module text)."""
    d, tex, depth = doc.d, doc.tex, doc.d.net.depth
    forward = {scalar(s.lhs): scalar(s.rhs) for s in forward_steps}
    layers = list(range(depth, 0, -1))
    z_L, y = Scalar(Var("z", depth, 1, 1)), Scalar(Var("y", depth, 1, 1))
    grads, explicit = [], {}
    for layer in layers:
        delta, below = Var("delta", layer, 1, 1), Var("z", layer - 1, 1, 1)
        chain = scalar(d.substitute_deltas(delta))
        q = _nested_of(Scalar(below), forward)
        explicit[layer] = chain * q
        grads.append(dict(lhs=tex(ScalarGrad(Var("W", layer, 1, 1))),
                          delta=tex(chain_order(chain, depth)), delta_name=tex(Scalar(delta)),
                          weight=tex(Scalar(Var("W", layer, 1, 1))), q=tex(chain_order(q, depth)),
                          q_name=tex(Scalar(below)), short=tex(scalar(d.grad("W", layer)))))
    pattern = tex(ScalarGrad(Var("W", INDEX + 1, 1, 1))) + " = " + tex(
        scalar(MatMul(Var("delta", INDEX + 1, 1, 1), Var("z", INDEX, 1, 1))))
    return dict(nested=tex(z_L) + " = " + tex(chain_order(_nested_of(z_L, forward), depth)),
                forward=[tex(k) + " = " + tex(v) for k, v in forward.items()],
                backward=[tex(Scalar(Var("delta", layer, 1, 1))) + " = "
                          + tex(scalar(d.delta(layer))) for layer in layers],
                grads=grads, pattern=pattern, hidden=tex(Integer(depth - 1)),
                index=tex(INDEX), checks=_checks(doc, explicit, z_L, y), explicit=explicit,
                forward_map=forward)


def _checks(doc, explicit, z_L, y):
    """003's two sanity checks, each an equation per weight, kept only where it holds:
    the gradient at q_L = y is zero; with identity activations it is the linear one."""
    tex, depth = doc.tex, doc.d.net.depth
    grad = {layer: ScalarGrad(Var("W", layer, 1, 1)) for layer in explicit}
    zero = [dict(lhs=tex(At(grad[layer], z_L, y)), rhs=tex(value.xreplace({z_L: y}).expand()))
            for layer, value in explicit.items()]
    if any(value.xreplace({z_L: y}).expand() != 0 for value in explicit.values()):
        zero = []
    linear = all(rules.activation(n).is_identity for n in doc.d.net.activations)
    ident = [] if linear else [
        dict(lhs=tex(grad[layer]), rhs=tex(chain_order(identity_chain(value), depth)))
        for layer, value in explicit.items()]
    row = rules.activation("identity")
    xs = Symbol("x")
    name = act_latex("identity")
    return dict(zero=zero, identity=ident,
                id_forward=f"{name}({tex(xs)}) = " + tex(row.forward.xreplace({rules.x: xs})),
                id_derivative=f"{name}'({tex(xs)}) = "
                + tex(row.derivative.xreplace({rules.x: xs})))
