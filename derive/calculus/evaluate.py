"""The one evaluator: our matrix expressions turned into explicit SymPy matrices over
the entries of an environment.

An `Evaluator` dispatches on the node type, as SymPy's printers do: the method
``_eval_<Class>`` of the most specific class in the node's MRO, else ``_eval_default``.
Two environments, two subclasses:

* `NetworkEvaluator` (entry point `evaluate`): a network's layer quantities, the env
  mapping (kind, layer) to an explicit Matrix (`derive.engine.instance.Instance`);
* `FreeEvaluator` (entry point `explicit`): the catalogue's free matrix expressions,
  the env mapping a variable's name to its Matrix of symbols, filled as needed.

Activations stay opaque function symbols (their derivative is the `_prime` symbol), so
exact comparisons work on rational functions of those atoms; `normalise` writes σ'
through σ, and `derive.ir.activations.realize` gives the definitions when a number is
needed.

>>> from sympy import Matrix, MatrixSymbol, Symbol, Trace
>>> from derive.ir.nodes import Var
>>> w = Matrix([[Symbol("w")]])
>>> evaluate(2 * Var("W", 1, 1, 1), {("W", 1): w})
Matrix([[2*w]])
>>> explicit(Trace(MatrixSymbol("A", 2, 2)), {})
A[1,1] + A[2,2]
"""
from sympy import Heaviside, Matrix, Mul, Rational, S, Symbol, exp, eye, log, ones, zeros
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.matrices.utilities import dotprodsimp

from ..errors import ClaimError
from ..ir import activations
from ..ir.conv import is_kernel
from ..ir.matrix_nodes import scalar_function
from ..ir.nodes import act_function
from ..vocab import ACTIVATION_INPUT, ACTIVATION_OUTPUT
from .dispatch import ByNodeClass
from .numeric_matrix import NotNumeric, fast_evaluate

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


class Evaluator(ByNodeClass):
    """Explicit values of matrix expressions over ``env``: one ``_eval_<Class>`` method
    per node type (the most specific class of the node's MRO that has one)."""

    def __init__(self, env):
        self.env = env

    def _eval_Transpose(self, e):
        return self(e.arg).T

    def _eval_MatAdd(self, e):
        parts = [self(arg) for arg in e.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total

    def _eval_HadamardProduct(self, e):
        parts = [self(arg) for arg in e.args]
        result = parts[0]
        for p in parts[1:]:
            result = result.multiply_elementwise(p)
        return result

    def _eval_HadamardPower(self, e):
        return self(e.base).applyfunc(lambda v: v ** e.exp)

    def _eval_OneMatrix(self, e):
        return ones(*(int(s) for s in e.shape))


class NetworkEvaluator(Evaluator):
    """A network's layer quantities over an env of (kind, layer) -> explicit Matrix."""

    def _eval_Var(self, e):
        key = (e.kind, int(e.layer))
        if key not in self.env:
            raise KeyError(f"no value for {e}")
        return self.env[key]

    def _eval_MatPartial(self, e):
        """A named cotangent ∂J/∂v_l: its value, entered under ("d" + kind, layer)."""
        key = ("d" + e.wrt.kind, int(e.wrt.layer))
        if key not in self.env:
            raise KeyError(f"no value for {e}")
        return self.env[key]

    def _eval_Identity(self, e):
        return eye(int(e.shape[0]))

    def _eval_MatMul(self, e):
        result = S.One
        for arg in e.args:
            result = result * self(arg)
        return result

    def _eval_DiagMatrix(self, e):
        return Matrix.diag(*list(self(e.args[0])))

    def _eval_BlockMatrix(self, e):
        return Matrix.vstack(*[Matrix.hstack(*[self(blk) for blk in row])
                               for row in e.blocks.tolist()])

    def _eval_Act(self, e):
        arg = self(e.arg)
        if e.name in _ELEMENTARY:
            return arg.applyfunc(_ELEMENTARY[e.name])
        rule = activations.definition(e.name)
        if e.order == 0:
            return apply_activation(rule, arg)
        if rule.is_identity:
            return ones(arg.rows, arg.cols)
        return arg.applyfunc(act_function(rule.name, 1))

    # --- a convolution's nodes (derive.ir.conv); a kernel's value is O × Cκ, [o, cκ + j]
    def _eval_Corr(self, e):
        X, W, taps = self(e.args[0]), self(e.args[1]), int(e.args[2])
        if is_kernel(e.args[1]):
            return Matrix(W.rows, X.cols - taps + 1, lambda o, t: sum(
                W[o, c * taps + j] * X[c, t + j] for c in range(X.rows) for j in range(taps)))
        return Matrix(W.rows, X.rows * taps, lambda o, cj: sum(
            W[o, t] * X[cj // taps, t + cj % taps] for t in range(W.cols)))

    def _eval_Flip(self, e):
        K, taps = self(e.args[0]), int(e.args[1])
        return Matrix(K.cols // taps, K.rows * taps, lambda c, oj: K[
            oj // taps, c * taps + taps - 1 - oj % taps])

    def _eval_Pad(self, e):
        G, w = self(e.args[0]), int(e.args[1])
        return Matrix(G.rows, G.cols + 2 * w,
                      lambda o, u: G[o, u - w] if 0 <= u - w < G.cols else 0)

    def _eval_Spread(self, e):
        G, p, n = self(e.args[0]), int(e.args[1]), int(e.args[2])
        return Matrix(G.rows, n, lambda c, t: G[c, t // p] if t // p < G.cols else 0)

    def _eval_Scatter(self, e):
        G, mask, p, n = self(e.args[0]), self(e.args[1]), int(e.args[2]), int(e.args[3])
        return Matrix(G.rows, n, lambda c, t: G[c, t // p] * mask[c, t] if t // p < G.cols
                      else 0)

    def _eval_Unflatten(self, e):
        g, positions = self(e.args[0]), int(e.args[2])
        return Matrix(int(e.args[1]), positions, lambda c, t: g[c * positions + t, 0])

    def _eval_Pool(self, e):
        A, p, n, mask = self(e.args[0]), int(e.args[1]), int(e.args[2]), e.args[3]
        if mask == 0:
            return Matrix(A.rows, n, lambda c, u: sum(A[c, u * p + j] for j in range(p)) / p)
        S = self(mask)
        return Matrix(A.rows, n, lambda c, u: sum(S[c, u * p + j] * A[c, u * p + j]
                                                  for j in range(p)))

    def _eval_Flatten(self, e):
        Z = self(e.args[0])
        return Matrix(Z.rows * Z.cols, 1, lambda r, _: Z[r // Z.cols, r % Z.cols])

    def _eval_ColumnSoftmax(self, e):
        """softmax of each column (derive.ir.attention); causal: keys after the query get
        weight 0 (their e^{S} is left out, never e^{−∞})."""
        S = self(e.arg)
        keep = [[not e.causal or t <= s for s in range(S.cols)] for t in range(S.rows)]
        E = Matrix(S.rows, S.cols, lambda t, s: exp(S[t, s]) if keep[t][s] else 0)
        totals = [sum(E[t, s] for t in range(S.rows)) for s in range(S.cols)]
        return Matrix(S.rows, S.cols, lambda t, s: E[t, s] / totals[s])

    def _eval_MatrixExpr(self, e):
        if hasattr(e, "explicit"):     # a node that evaluates itself (derive.ir.conv2d)
            return e.explicit(self)
        raise TypeError(f"cannot evaluate {type(e).__name__}")

    def _eval_default(self, e):
        return e  # a scalar


def explicit_symbols(X):
    """The entries of variable X (concrete size) as a Matrix of named symbols."""
    rows, cols = (int(s) for s in X.shape)
    if cols == 1 and rows == 1:
        return Matrix([[Symbol(X.name)]])
    if cols == 1:
        return Matrix(rows, 1, lambda r, c: Symbol(f"{X.name}[{r + 1}]"))
    if rows == 1:
        return Matrix(1, cols, lambda r, c: Symbol(f"{X.name}[{c + 1}]"))
    return Matrix(rows, cols, lambda r, c: Symbol(f"{X.name}[{r + 1},{c + 1}]"))


class FreeEvaluator(Evaluator):
    """The catalogue's free matrix expressions (sizes concrete) over an env of variable
    name -> Matrix of symbols, filled as variables are met."""

    def _eval_MatrixSymbol(self, e):
        if e.name not in self.env:
            self.env[e.name] = explicit_symbols(e)
        return self.env[e.name]

    def _eval_MatMul(self, e):
        coeff = Mul(*(self(a) for a in e.args if not isinstance(a, MatrixExpr)))
        mats = [self(a) for a in e.args if isinstance(a, MatrixExpr)]
        out = mats[0]
        for m in mats[1:]:
            out = out * m
        return coeff * out

    def _eval_MatPow(self, e):
        base = inverse(self(e.base)) if e.exp < 0 else self(e.base)
        out = base
        for _ in range(abs(int(e.exp)) - 1):     # plain products: ** would simplify
            out = out * base
        return out

    def _eval_Inverse(self, e):
        return inverse(self(e.arg))

    def _eval_Determinant(self, e):
        return determinant(self(e.arg))

    def _eval_Elem(self, e):
        return self(e.arg).applyfunc(scalar_function(e.name, e.order))

    def _eval_Identity(self, e):
        return eye(int(e.shape[0]))

    def _eval_ZeroMatrix(self, e):
        return zeros(*(int(s) for s in e.shape))

    def _eval_AsScalar(self, e):
        return self(e.matrix)[0, 0]

    def _eval_Trace(self, e):
        return self(e.arg).trace()

    def _eval_SqNorm(self, e):
        return sum(v ** 2 for v in self(e.arg))

    def _eval_Indexed(self, e):
        raise ClaimError("index expressions have no explicit form")

    def _eval_default(self, e):
        if e.is_Atom:
            return e
        args = [self(a) for a in e.args]
        if any(isinstance(a, Matrix) for a in args):   # a 1×1 matrix inside a scalar
            args = [a[0, 0] if isinstance(a, Matrix) else a for a in args]
        return e.func(*args)


def determinant(M):
    """det M by Berkowitz's division-free method, without SymPy's intermediate
    simplification (`dotprodsimp` expands every product of sums: minutes for a 3×3
    matrix whose entries are sums of twenty products)."""
    with dotprodsimp(False):
        return M.det(method="berkowitz")


def inverse(M):
    """The inverse of an explicit square matrix as adj(M) / det(M) (division-free up
    to the one determinant); a matrix that is singular for every value is a ClaimError.

    >>> inverse(Matrix([[2, 1], [0, 1]]))
    Matrix([
    [1/2, -1/2],
    [  0,    1]])
    """
    det = determinant(M)
    if _identically_zero(det):
        raise ClaimError(f"a {M.rows}×{M.cols} matrix that is singular for every value "
                         "of its entries has no inverse (its determinant is 0)")
    with dotprodsimp(False):
        return M.adjugate(method="berkowitz") / det


def _identically_zero(poly):
    """Whether a polynomial in the entries is 0 for every value: a nonzero value at one
    fixed rational point says no at once; only a zero there is settled by expanding."""
    point = {s: Rational(2 * n + 3, n + 5) for n, s in enumerate(sorted(
        poly.free_symbols, key=str))}
    if poly.xreplace(point) != 0:
        return False
    return poly.expand() == 0


def evaluate(expr, env):
    """An explicit Matrix (or scalar) for a network matrix expression over ``env``
    ((kind, layer) -> Matrix); a layer quantity missing from ``env`` is a KeyError.
    Over an environment of numbers the work is done by mpmath (`fast_evaluate`: the
    same values as SymPy's matrices give, at the environment's precision, many times
    faster); anything else, and any error, takes SymPy's route."""
    try:
        return fast_evaluate(expr, env)
    except NotNumeric:
        return NetworkEvaluator(env)(expr)


def explicit(e, env):
    """``e`` (sizes already concrete) as a SymPy Matrix, or a scalar; ``env`` maps
    variable names to their Matrix of symbols (filled as needed)."""
    return FreeEvaluator(env)(e)


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
