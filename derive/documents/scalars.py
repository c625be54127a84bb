"""One-node chains (all widths 1) written with numbers, as 003 §I–II writes them.

The engine's results are 1 × 1 matrix expressions and index expressions whose indices
range over one value; `scalar` rewrites either into an ordinary SymPy expression by one
named rule: a 1 × 1 quantity or one of its entries is a number (`Scalar`), a matrix
product or an entrywise product of numbers is their product, a transpose of a number is
the number, a Hadamard power is a power, the all-ones 1 × 1 matrix is 1, a sum whose
index takes one value is its only term and an indicator of two indices that can only be
equal is 1. Errors are numbered as 003 numbers them, from the output down: the error of
the output layer is δ_0, the one below δ_1, and so on.

>>> from derive.ir.nodes import Var
>>> from sympy.matrices.expressions import MatMul, Transpose
>>> scalar(MatMul(Transpose(Var("W", 2, 1, 1)), Var("delta", 2, 1, 1)))
Scalar(W_2)*Scalar(delta_2)
"""
from sympy import Add, Expr, Function, Indexed, Integer, KroneckerDelta, Mul, Pow, Sum
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, OneMatrix, Transpose
from sympy.matrices.expressions.matexpr import MatrixElement

from ..ir.activations import act_function
from ..ir.nodes import Act, MatPartial, Partial, Times, Var
from ..vocab import LOSS


class _OneNode(Expr):
    """A number made of one 1 × 1 layer quantity ``var``."""
    is_commutative = True

    def __new__(cls, var):
        return Expr.__new__(cls, var)

    @property
    def var(self):
        return self.args[0]


class Scalar(_OneNode):
    """A 1 × 1 layer quantity as a number: prints without bold (``q_{3}``); an error
    prints with 003's number, counted from the output (δ_0 is the output layer's)."""

    def _notes_latex(self, printer):
        var = self.var
        if var.kind == "delta" and printer.depth is not None:
            var = Var("delta", printer.depth - var.layer, 1, 1)
        return printer.scalar_tex(var)


class ScalarGrad(_OneNode):
    """∂C/∂w for a one-node quantity: a derivative by a number."""

    def _notes_latex(self, printer):
        loss = printer.doprint(LOSS)
        return rf"\frac{{\partial {loss}}}{{\partial {printer.scalar_tex(self.args[0])}}}"


def _label(expr):
    """The layer quantity an entry belongs to (``h_3[i]`` → h_3), else None."""
    if isinstance(expr, Indexed) and isinstance(expr.base.label, Var):
        return expr.base.label
    if isinstance(expr, MatrixElement) and isinstance(expr.parent, Var):
        return expr.parent
    return None


def scalar(expr):
    """The number a 1 × 1 matrix expression or a one-value index expression stands for
    (the rule in the module text)."""
    if isinstance(expr, Var):
        return Scalar(expr)
    if _label(expr) is not None:
        return Scalar(_label(expr))
    if isinstance(expr, Act):
        return act_function(expr.name, expr.order)(scalar(expr.arg))
    if isinstance(expr, (MatMul, HadamardProduct, Mul)):
        return Mul(*[scalar(a) for a in expr.args])
    if isinstance(expr, (MatAdd, Add)):
        return Add(*[scalar(a) for a in expr.args])
    if isinstance(expr, Transpose):
        return scalar(expr.arg)
    if isinstance(expr, (HadamardPower, Pow)):
        return Pow(scalar(expr.args[0]), scalar(expr.args[1]))
    if isinstance(expr, OneMatrix) or isinstance(expr, KroneckerDelta):
        return Integer(1)
    if isinstance(expr, Sum) and all(lo == hi for _, lo, hi in expr.limits):
        return scalar(expr.function.xreplace({v: lo for v, lo, _ in expr.limits}))
    if isinstance(expr, (MatPartial, Partial)):
        wrt = scalar(expr.wrt)
        if expr.num == LOSS and isinstance(wrt, Scalar):
            return ScalarGrad(wrt.var)
        return Partial(scalar(expr.num), wrt)
    if isinstance(expr, Times):
        return Times(*[scalar(a) for a in expr.args])
    if isinstance(expr, Function):
        return expr.func(*[scalar(a) for a in expr.args])
    return expr


def applies(net, notation):
    """003's scalar writing: the pq preset and a concrete chain of one-node layers."""
    return notation.name == "pq" and not net.symbolic and net.widths is not None \
        and all(w == 1 for w in net.widths)
