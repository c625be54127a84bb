"""Concrete instances: a network at small concrete widths with a symbol for every
weight, its fully expanded forward pass and loss, and an evaluator that turns our
matrix expressions into explicit SymPy matrices over those symbols.

Activations stay opaque function symbols (their derivative is the `_prime` symbol), so
exact comparisons work on rational functions of those atoms; `rules.realize` turns
them into their definitions when a number is needed.
"""
from sympy import (Heaviside, Integer, Matrix, OneMatrix, Rational, S, Symbol, exp, log,
                   ones, tanh, zeros)
from sympy.matrices.expressions import (HadamardPower, HadamardProduct, MatAdd, MatMul,
                                        Transpose)
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from . import rules
from .nodes import BATCH, DEPTH, LAYER, WIDTH, Act, Var, act_function

CERTIFY_BATCH = 2   # the batch size used for concrete checks of batch networks

_ELEMENTARY = {"exp": exp, "log": log, "tanh": tanh, "heaviside": lambda e: Heaviside(e, 0)}


class Instance:
    """A network at concrete widths: symbols, forward pass and loss, explicitly."""

    def __init__(self, net, widths):
        self.net = net
        self.widths = tuple(widths)
        self.depth = len(widths) - 1
        self.m = CERTIFY_BATCH if net.batch else 1
        self.env = {}
        self.params = []     # [(kind, layer, Matrix of symbols)]
        self._build()

    def sizes(self):
        """The substitution of symbolic widths, batch size and depth by numbers."""
        mapping = {WIDTH[q]: Integer(w) for q, w in enumerate(self.widths)}
        mapping[BATCH] = Integer(self.m)
        mapping[DEPTH] = Integer(self.depth)
        return mapping

    def _matrix(self, name, rows, cols):
        return Matrix(rows, cols, lambda r, c: Symbol(f"{name}_{r + 1}_{c + 1}", real=True))

    def _build(self):
        net, m = self.net, self.m
        x = self._matrix("x", self.widths[0], m)
        self.env[("z", 0)] = x
        z = x
        for l in range(1, self.depth + 1):
            extra = 1 if net.bias == "augmented" else 0
            W = self._matrix(f"W{l}", self.widths[l], self.widths[l - 1] + extra)
            self.env[("W", l)] = W
            self.params.append(("W", l, W))
            if net.bias == "augmented":
                zin = z.col_join(ones(1, m))
                self.env[("zaug", l - 1)] = zin
                self.env[("Wbar", l)] = W[:, :self.widths[l - 1]]
            else:
                zin = z
            h = W * zin
            if net.bias == "explicit":
                b = self._matrix(f"b{l}", self.widths[l], 1)
                self.env[("b", l)] = b
                self.params.append(("b", l, b))
                h = h + b * ones(1, m)
            rule = self._rule(l)
            z = apply_activation(rule, h)
            self.env[("h", l)], self.env[("z", l)] = h, z
        self.env[("y", self.depth)] = self._matrix("y", self.widths[-1], m)
        self.loss = self.loss_from(z)

    def _rule(self, l):
        if self.net.symbolic:
            return rules.activation(self.net.activations[1 if l == self.depth else 0])
        return rules.activation(self.net.activations[l - 1])

    def loss_from(self, z_out):
        """J as an explicit scalar of the output matrix."""
        row = self.net.loss_rule
        y = self.env[("y", self.depth)]
        factor = row.factor.xreplace({rules.n: Integer(self.widths[-1])})
        total = S.Zero
        for r in range(z_out.rows):
            for c in range(z_out.cols):
                total += row.term.xreplace({rules.u: z_out[r, c], rules.t: y[r, c]})
        return factor * total / self.m

    def evaluate(self, expr):
        """An explicit Matrix (or scalar) for one of our matrix expressions."""
        expr = expr.xreplace(self.sizes())
        return _evaluate(expr, self.env)


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


def _evaluate(expr, env):
    if isinstance(expr, Var):
        key = (expr.kind, int(expr.layer))
        if key not in env:
            raise KeyError(f"no value for {expr}")
        return env[key]
    if isinstance(expr, Transpose):
        return _evaluate(expr.arg, env).T
    if isinstance(expr, MatMul):
        result = S.One
        for arg in expr.args:
            result = result * _evaluate(arg, env)
        return result
    if isinstance(expr, MatAdd):
        parts = [_evaluate(arg, env) for arg in expr.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    if isinstance(expr, HadamardProduct):
        parts = [_evaluate(arg, env) for arg in expr.args]
        result = parts[0]
        for p in parts[1:]:
            result = result.multiply_elementwise(p)
        return result
    if isinstance(expr, HadamardPower):
        base = _evaluate(expr.base, env)
        return base.applyfunc(lambda e: e ** expr.exp)
    if isinstance(expr, OneMatrix):
        return ones(*map(int, expr.shape))
    if isinstance(expr, DiagMatrix):
        vec = _evaluate(expr.args[0], env)
        return Matrix.diag(*list(vec))
    if isinstance(expr, BlockMatrix):
        return Matrix.vstack(*[Matrix.hstack(*[_evaluate(blk, env) for blk in row])
                               for row in expr.blocks.tolist()])
    if isinstance(expr, Act):
        arg = _evaluate(expr.arg, env)
        if expr.name in _ELEMENTARY and expr.name not in rules.ACTIVATIONS:
            return arg.applyfunc(_ELEMENTARY[expr.name])
        rule = rules.activation(expr.name)
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
    from sympy import Function

    def is_prime(f):
        return isinstance(f, Function) and getattr(type(f), "order", 0) == 1

    def rewrite(f):
        row = rules.activation(type(f).rule_name)
        arg = f.args[0]
        if row.derivative_out is not None:
            return row.derivative_out.xreplace({rules.u: act_function(row.name, 0)(arg)})
        return row.derivative.xreplace({rules.x: arg})

    return expr.replace(is_prime, rewrite)
