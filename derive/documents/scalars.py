"""One-node chains (all widths 1) written with numbers, as 003 §I–II writes them.

The engine's results are 1 × 1 matrix expressions; `scalar` rewrites one into an
ordinary SymPy expression by a named rule: a 1 × 1 quantity is a number (`Scalar`), a
matrix product or an entrywise product of numbers is their product, a transpose of a
number is the number, a Hadamard power is a power and the all-ones 1 × 1 matrix is 1.
`one_node_chain` collects 003's devices from those expressions: the nested output, the
forward and backward chains listed, each weight's gradient with the error and the
layer output underbraced, and the pattern every gradient follows.
"""
from sympy import Add, Expr, Integer, Mul, Pow, Symbol
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, OneMatrix, Transpose

from ..ir.nodes import Act, MatPartial, Var
from ..printing.notation import act_latex
from ..vocab import LAYER, LOSS


class Scalar(Expr):
    """A 1 × 1 layer quantity as a number: prints without bold (``q_{3}``)."""
    is_commutative = True

    def __new__(cls, var):
        return Expr.__new__(cls, var)

    @property
    def var(self):
        return self.args[0]

    def _notes_latex(self, printer):
        return printer.scalar_tex(self.var)


class ScalarAct(Expr):
    """An activation (or its derivative) applied to a number: ``σ'(p_{3})``."""
    is_commutative = True

    def __new__(cls, name, arg, order):
        return Expr.__new__(cls, Symbol(name), arg, Integer(order))

    def _notes_latex(self, printer):
        name, arg, order = self.args
        return f"{act_latex(str(name))}{chr(39) * int(order)}({printer.doprint(arg)})"


class ScalarGrad(Expr):
    """∂C/∂w for a one-node weight: a derivative by a number."""
    is_commutative = True

    def __new__(cls, var):
        return Expr.__new__(cls, var)

    def _notes_latex(self, printer):
        loss = printer.doprint(LOSS)
        return rf"\frac{{\partial {loss}}}{{\partial {printer.scalar_tex(self.args[0])}}}"


def scalar(expr):
    """The number a 1 × 1 matrix expression stands for (the rule in the module text)."""
    if isinstance(expr, Var):
        return Scalar(expr)
    if isinstance(expr, Act):
        return ScalarAct(expr.name, scalar(expr.arg), expr.order)
    if isinstance(expr, (MatMul, HadamardProduct)):
        return Mul(*[scalar(a) for a in expr.args])
    if isinstance(expr, MatAdd):
        return Add(*[scalar(a) for a in expr.args])
    if isinstance(expr, Transpose):
        return scalar(expr.arg)
    if isinstance(expr, HadamardPower):
        return Pow(scalar(expr.base), expr.exp)
    if isinstance(expr, OneMatrix):
        return Integer(1)
    if isinstance(expr, MatPartial) and isinstance(expr.wrt, Var):
        return ScalarGrad(expr.wrt)
    return expr


def applies(net, notation):
    """003's scalar writing: the pq preset and a concrete chain of one-node layers."""
    return notation.name == "pq" and not net.symbolic and net.widths is not None \
        and all(w == 1 for w in net.widths)


def one_node_chain(doc, forward_steps):
    """The printed devices for a one-node chain (see the module text)."""
    d, tex = doc.d, doc.tex
    forward = {s.lhs: s.rhs for s in forward_steps}
    layers = list(range(d.net.depth, 0, -1))
    nested = _nested_of(Var("z", d.net.L, 1, 1), forward)
    z_L = Var("z", d.net.L, 1, 1)
    fwd = [tex(scalar(s.lhs)) + " = " + tex(scalar(s.rhs)) for s in forward_steps]
    back = [tex(scalar(Var("delta", layer, 1, 1))) + " = " + tex(scalar(d.delta(layer)))
            for layer in layers]
    grads = []
    for layer in layers:
        delta, below = Var("delta", layer, 1, 1), Var("z", layer - 1, 1, 1)
        grads.append(dict(
            lhs=tex(ScalarGrad(Var("W", layer, 1, 1))),
            delta=tex(scalar(d.substitute_deltas(delta))), delta_name=tex(scalar(delta)),
            q=tex(scalar(_nested_of(below, forward))), q_name=tex(scalar(below)),
            short=tex(scalar(d.grad("W", layer)))))
    pattern = tex(ScalarGrad(Var("W", LAYER, 1, 1))) + " = " + tex(
        scalar(MatMul(Var("delta", LAYER, 1, 1), Var("z", LAYER - 1, 1, 1))))
    return dict(nested=tex(scalar(z_L)) + " = " + tex(scalar(nested)), forward=fwd,
                backward=back, grads=grads, pattern=pattern)


def _nested_of(var, forward):
    """``var`` with every layer below substituted in: σ(w_{23} σ(w_{12} …))."""
    expr = var
    for _ in range(2 * len(forward) + 1):
        expr = expr.xreplace(forward)
    return expr
