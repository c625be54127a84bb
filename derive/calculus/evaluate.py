"""The one evaluator: our matrix expressions turned into explicit SymPy matrices over
the entries of an environment (layer quantity -> explicit Matrix).

Activations stay opaque function symbols (their derivative is the `_prime` symbol), so
exact comparisons work on rational functions of those atoms; `normalise` writes σ'
through σ, and `derive.ir.activations.realize` gives the definitions when a number is
needed.

>>> from sympy import Matrix, Symbol
>>> from derive.ir.nodes import Var
>>> w = Matrix([[Symbol("w")]])
>>> evaluate(2 * Var("W", 1, 1, 1), {("W", 1): w})
Matrix([[2*w]])
"""
from sympy import Heaviside, Matrix, OneMatrix, S, exp, log, ones, zeros
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, Transpose
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..ir import activations
from ..ir.nodes import Act, Var, act_function
from ..vocab import ACTIVATION_INPUT, ACTIVATION_OUTPUT

#: elementwise functions that are not activations (a "tanh" Act is the activation)
_ELEMENTARY = {"exp": exp, "log": log, "heaviside": lambda e: Heaviside(e, 0)}


def apply_activation(rule, h):
    """σ applied to an explicit matrix: elementwise, or column-wise for softmax."""
    if rule.is_identity:
        return h
    if not rule.elementwise:   # softmax, column by column
        out = zeros(h.rows, h.cols)
        for c in range(h.cols):
            col = [exp(h[r, c]) for r in range(h.rows)]
            total = sum(col)
            for r in range(h.rows):
                out[r, c] = col[r] / total
        return out
    fn = act_function(rule.name, 0)
    return h.applyfunc(fn)


def evaluate(expr, env):
    """An explicit Matrix (or scalar) for a matrix expression over ``env``."""
    if isinstance(expr, Var):
        key = (expr.kind, int(expr.layer))
        if key not in env:
            raise KeyError(f"no value for {expr}")
        return env[key]
    if isinstance(expr, Transpose):
        return evaluate(expr.arg, env).T
    if isinstance(expr, MatMul):
        result = S.One
        for arg in expr.args:
            result = result * evaluate(arg, env)
        return result
    if isinstance(expr, MatAdd):
        parts = [evaluate(arg, env) for arg in expr.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    if isinstance(expr, HadamardProduct):
        parts = [evaluate(arg, env) for arg in expr.args]
        result = parts[0]
        for p in parts[1:]:
            result = result.multiply_elementwise(p)
        return result
    if isinstance(expr, HadamardPower):
        base = evaluate(expr.base, env)
        return base.applyfunc(lambda e: e ** expr.exp)
    if isinstance(expr, OneMatrix):
        return ones(*map(int, expr.shape))
    if isinstance(expr, DiagMatrix):
        vec = evaluate(expr.args[0], env)
        return Matrix.diag(*list(vec))
    if isinstance(expr, BlockMatrix):
        return Matrix.vstack(*[Matrix.hstack(*[evaluate(blk, env) for blk in row])
                               for row in expr.blocks.tolist()])
    if isinstance(expr, Act):
        arg = evaluate(expr.arg, env)
        if expr.name in _ELEMENTARY:
            return arg.applyfunc(_ELEMENTARY[expr.name])
        rule = activations.definition(expr.name)
        if expr.order == 0:
            return apply_activation(rule, arg)
        if rule.is_identity:
            return ones(arg.rows, arg.cols)
        return arg.applyfunc(act_function(rule.name, 1))
    if isinstance(expr, MatrixExpr):
        raise TypeError(f"cannot evaluate {type(expr).__name__}")
    return expr  # a scalar


def normalise(expr):
    """Write every σ' atom through σ (its output form) or through its definition, so
    that two expressions built from the same atoms compare exactly."""
    def is_prime(f):
        return activations.is_atom(f) and type(f).order == 1

    def rewrite(f):
        row = activations.definition(type(f).rule_name)
        arg = f.args[0]
        if row.derivative_out is not None:
            return row.derivative_out.xreplace({ACTIVATION_OUTPUT: act_function(row.name, 0)(arg)})
        return row.derivative.xreplace({ACTIVATION_INPUT: arg})

    return expr.replace(is_prime, rewrite)
