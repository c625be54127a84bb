"""The numeric fast path of `derive.calculus.evaluate.evaluate`: a network matrix
expression over an environment of numbers, computed with mpmath matrices.

The numeric checks (the verifier's instances, a certificate's δ's at a point) evaluate
matrix forms over an environment whose matrices hold SymPy Floats of 50 significant
digits. SymPy's own Matrix product and Hadamard product on such tiny matrices spend
nearly all their time in SymPy's number construction and assumption queries; mpmath does
the same arithmetic, at the same binary precision (the largest precision among the
environment's Floats), in a small fraction of the time. The result is returned as a SymPy
Matrix of Floats at that precision, so callers see what the SymPy route gives, up to
rounding in the last bits (far below the comparisons' tolerance).

Anything this path does not know (a symbol, a node type it has no rule for, an error)
raises `NotNumeric`, and `evaluate` takes the SymPy route instead, which keeps every
error message and every symbolic result exactly as it was.

>>> from sympy import Float, Matrix
>>> from derive.ir.nodes import Var
>>> env = {("W", 1): Matrix([[Float(1, 50) / 3, Float("0.25", 50)]])}
>>> out = fast_evaluate(2 * Var("W", 1, 1, 2) * Var("W", 1, 1, 2).T, env)
>>> str(out[0, 0]), out[0, 0]._prec == env[("W", 1)][0, 0]._prec
('0.34722222222222222222222222222222222222222222222222', True)
"""
import mpmath
from sympy import Float, Heaviside, Matrix, exp, log
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..ir import activations
from ..ir.nodes import MatPartial, Var, act_function
from ..vocab import ACTIVATION_INPUT
from .dispatch import ByNodeClass
from .numeric import value

#: elementwise functions that are not activations (as in `evaluate._ELEMENTARY`)
_ELEMENTARY = {"exp": exp, "log": log, "heaviside": lambda e: Heaviside(e, 0)}


class NotNumeric(Exception):
    """The fast path cannot evaluate this expression over this environment."""


def _entry(v):
    """A SymPy number as an mpf (at the working precision), else NotNumeric."""
    if v.is_Float:
        return mpmath.mpf(v._mpf_)
    if v.is_Rational:
        return mpmath.mpf(int(v.p)) / int(v.q)
    raise NotNumeric(v)


def _leaves(expr, env):
    """{key: SymPy matrix} of the environment entries ``expr`` reads (its layer
    quantities and named cotangents); NotNumeric when one is missing."""
    keys = {(v.kind, int(v.layer)) for v in expr.atoms(Var)}
    keys |= {("d" + p.wrt.kind, int(p.wrt.layer)) for p in expr.atoms(MatPartial)}
    if not keys <= env.keys():
        raise NotNumeric(expr)
    return {key: env[key] for key in keys}


def _precision(matrices):
    """The largest binary precision of a Float in ``matrices`` (None: no Float, so
    nothing numeric to speed up); NotNumeric when an entry is not a number."""
    prec = None
    for m in matrices:
        if not hasattr(m, "flat"):      # a scalar in the environment (a running loss)
            raise NotNumeric(m)
        for e in m.flat():
            if e.is_Float:
                if prec is None or e._prec > prec:
                    prec = e._prec
            elif not e.is_Rational:
                raise NotNumeric(e)
    return prec


class _MpEvaluator(ByNodeClass):
    """Network matrix nodes over an env of SymPy matrices of numbers, as mpmath
    matrices; dispatch on the node's MRO as `evaluate.Evaluator` does."""

    def __init__(self, leaves, prec):
        self.leaves, self.prec, self.converted = leaves, prec, {}

    def _matrix(self, key):
        hit = self.converted.get(key)
        if hit is None:
            m = self.leaves[key]
            hit = mpmath.matrix([[_entry(v) for v in row] for row in m.tolist()])
            self.converted[key] = hit
        return hit

    def _eval_Var(self, e):
        return self._matrix((e.kind, int(e.layer)))

    def _eval_MatPartial(self, e):
        return self._matrix(("d" + e.wrt.kind, int(e.wrt.layer)))

    def _eval_Transpose(self, e):
        return self._matrix_of(e.arg).T

    def _matrix_of(self, e):
        out = self(e)
        if not isinstance(out, mpmath.matrix):
            raise NotNumeric(e)
        return out

    def _eval_MatAdd(self, e):
        parts = [self._matrix_of(arg) for arg in e.args]
        total = parts[0]
        for p in parts[1:]:
            if (p.rows, p.cols) != (total.rows, total.cols):
                raise NotNumeric(e)
            total = total + p
        return total

    def _eval_MatMul(self, e):
        result = None
        for arg in e.args:
            v = self(arg)
            if result is None:
                result = v
            elif isinstance(result, mpmath.matrix) and isinstance(v, mpmath.matrix):
                if result.cols != v.rows:
                    raise NotNumeric(e)
                result = result * v
            else:
                result = result * v
        if not isinstance(result, mpmath.matrix):
            raise NotNumeric(e)
        return result

    def _elementwise(self, m, fn):
        return mpmath.matrix([[fn(m[r, c]) for c in range(m.cols)] for r in range(m.rows)])

    def _eval_HadamardProduct(self, e):
        parts = [self._matrix_of(arg) for arg in e.args]
        result = parts[0]
        for p in parts[1:]:
            if (p.rows, p.cols) != (result.rows, result.cols):
                raise NotNumeric(e)
            result = mpmath.matrix([[result[r, c] * p[r, c] for c in range(p.cols)]
                                    for r in range(p.rows)])
        return result

    def _eval_HadamardPower(self, e):
        exponent = self(e.exp)
        if isinstance(exponent, mpmath.matrix):
            raise NotNumeric(e)
        return self._elementwise(self._matrix_of(e.base), lambda v: _real(v ** exponent))

    def _eval_OneMatrix(self, e):
        rows, cols = (int(s) for s in e.shape)
        return mpmath.matrix([[1] * cols for _ in range(rows)])

    def _eval_Identity(self, e):
        return mpmath.eye(int(e.shape[0]))

    def _eval_DiagMatrix(self, e):
        v = self._matrix_of(e.args[0])
        return mpmath.diag([v[i] for i in range(v.rows * v.cols)])

    def _eval_Act(self, e):
        arg = self._matrix_of(e.arg)
        if e.name in _ELEMENTARY:
            return self._through(_ELEMENTARY[e.name](ACTIVATION_INPUT), arg)
        rule = activations.definition(e.name)
        if e.order == 0 and not rule.elementwise:
            return self._softmax(arg)
        if rule.is_identity:
            return arg if e.order == 0 else self._eval_OneMatrix(e)
        return self._through(act_function(rule.name, e.order)(ACTIVATION_INPUT), arg)

    def _through(self, template, m):
        """``template`` (a function of ACTIVATION_INPUT) at every entry, by the one
        guarded scalar evaluator."""
        digits = mpmath.libmp.prec_to_dps(self.prec)
        return self._elementwise(m, lambda v: mpmath.mpf(value(
            template, {ACTIVATION_INPUT: Float._new(v._mpf_, self.prec)}, digits)))

    def _softmax(self, m):
        out = mpmath.matrix(m.rows, m.cols)
        for c in range(m.cols):
            col = [mpmath.exp(m[r, c]) for r in range(m.rows)]
            total = mpmath.fsum(col)
            for r in range(m.rows):
                out[r, c] = col[r] / total
        return out

    def _eval_MatrixExpr(self, e):
        raise NotNumeric(e)     # conv nodes and the like: the SymPy route

    def _eval_default(self, e):
        if isinstance(e, MatrixExpr) or not getattr(e, "is_number", False):
            raise NotNumeric(e)
        if e.is_Rational or e.is_Float:
            return _entry(e)
        return mpmath.mpf(value(e, {}, mpmath.libmp.prec_to_dps(self.prec)))


def _real(v):
    if isinstance(v, mpmath.mpc):
        raise NotNumeric(v)
    return v


def _to_sympy(m, prec):
    return Matrix(m.rows, m.cols, [Float._new(mpmath.mpf(v)._mpf_, prec) for v in m])


def product(A, B):
    """The matrix product A·B: by mpmath when both hold numbers and one a Float (the
    result a Matrix of Floats at their largest precision), else SymPy's ``A * B``.

    >>> from sympy import Float, Matrix, Symbol
    >>> product(Matrix([[Float(1, 50) / 3]]), Matrix([[3]]))[0, 0]._prec
    169
    >>> product(Matrix([[Symbol("w")]]), Matrix([[3]]))
    Matrix([[3*w]])
    """
    try:
        prec = _precision((A, B))
    except NotNumeric:
        prec = None
    if prec is None or A.cols != B.rows:
        return A * B
    with mpmath.workprec(prec):
        a, b = ([[_entry(v) for v in row] for row in M.tolist()] for M in (A, B))
        return _to_sympy(mpmath.matrix(a) * mpmath.matrix(b), prec)


def fast_evaluate(expr, env):
    """``expr`` over ``env`` ((kind, layer) -> Matrix of numbers) as a SymPy Matrix of
    Floats at the environment's precision; `NotNumeric` when the environment holds no
    Float or anything here is not a number this path knows."""
    if not isinstance(expr, MatrixExpr):
        raise NotNumeric(expr)
    leaves = _leaves(expr, env)
    prec = _precision(leaves.values())
    if prec is None:
        raise NotNumeric(expr)
    try:
        with mpmath.workprec(prec):
            out = _MpEvaluator(leaves, prec)(expr)
            return _to_sympy(out, prec)
    except NotNumeric:
        raise
    except Exception as exc:  # noqa: BLE001 - any trouble: the SymPy route decides
        raise NotNumeric(exc) from exc
