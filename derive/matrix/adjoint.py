"""The matrix form of d(scalar)/d(matrix) by reverse accumulation over the expression.

Each node passes its adjoint G (∂C/∂node, shaped like the node) to its children by one
rule per node type, the rules of the matrix-derivative catalogue:

- product F_1 ⋯ F_n:   F_k receives (F_1 ⋯ F_{k-1})ᵀ G (F_{k+1} ⋯ F_n)ᵀ (a power
                       Xⁿ, n ≥ 1, is the product X ⋯ X; X⁻ⁿ is X⁻¹ ⋯ X⁻¹)
- inverse M⁻¹:         M receives −M⁻ᵀ G M⁻ᵀ         (d(M⁻¹) = −M⁻¹ dM M⁻¹)
- transpose Pᵀ:        P receives Gᵀ
- sum:                 every term receives G
- Hadamard P ⊙ Q:      P receives G ⊙ Q
- elementwise f(P):    P receives G ⊙ f'(P)
- scalar s times M:    M receives s G; s receives tr(Gᵀ M)
- tr(P):               P receives g I;   ‖P‖²: P receives 2 g P   (g the scalar adjoint)
- det(M):              M receives g det(M) M⁻ᵀ     (d det M = det M tr(M⁻¹ dM); log det M
                       is the chain rule through log: M receives g M⁻ᵀ)
- scalar functions:    the ordinary chain rule.

The result is the sum of what the variable receives. It is checked entry by entry
against the brute-force derivative (`derive.matrix.derivation.MatrixDerivation.certify`), so a missed
rule cannot pass silently (SymPy's own ``MatrixSymbol.diff`` returns 0 for a sum of
traces, sympy#26561).

>>> from sympy import MatrixSymbol, symbols
>>> m, n = symbols("m n", integer=True, positive=True)
>>> A, x, y = MatrixSymbol("A", m, n), MatrixSymbol("x", n, 1), MatrixSymbol("y", m, 1)
>>> gradient(y.T * A * x, A)
y*x.T
"""
from sympy import (
    Add,
    Determinant,
    Dummy,
    Identity,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    Mul,
    Pow,
    Trace,
    ZeroMatrix,
    exp,
    log,
    tanh,
)
from sympy.matrices.expressions import HadamardPower, HadamardProduct, Transpose
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ClaimError
from ..ir.matrix_nodes import AsScalar, Elem, SqNorm, derivative, scalar_function


def gradient(expr, wrt):
    """∂expr/∂wrt, shaped like ``wrt``, for a scalar ``expr`` (a number-valued expression
    or a 1×1 matrix expression)."""
    out = []
    if isinstance(expr, MatrixExpr):
        _matrix(expr, Identity(1), wrt, out)
    else:
        _scalar(expr, 1, wrt, out)
    if not out:
        return ZeroMatrix(*wrt.shape)
    total = MatAdd(*out).doit() if len(out) > 1 else out[0].doit()
    return _tidy(total)


def _tidy(e):
    """Drop 1×1 identities left between factors; keep the rest as SymPy built it."""
    if isinstance(e, MatMul):
        args = [a for a in e.args if not (isinstance(a, Identity) and a.shape == (1, 1))]
        return MatMul(*args).doit() if len(args) != len(e.args) else e
    return e


def _product(factors):
    factors = [f for f in factors if not (isinstance(f, Identity) and f.shape == (1, 1))]
    if not factors:
        return Identity(1)
    return MatMul(*factors).doit() if len(factors) > 1 else factors[0]


def _matrix(e, G, wrt, out):
    """Send the adjoint G of matrix node e down to its children."""
    if not e.has(wrt):
        return
    if e == wrt:
        out.append(G)
    elif isinstance(e, Transpose):
        _matrix(e.arg, Transpose(G).doit(), wrt, out)
    elif isinstance(e, MatAdd):
        for term in e.args:
            _matrix(term, G, wrt, out)
    elif isinstance(e, MatMul):
        scalars = [a for a in e.args if not isinstance(a, MatrixExpr)]
        mats = [a for a in e.args if isinstance(a, MatrixExpr)]
        _product_rule(Mul(*scalars), mats, G, wrt, out)
        for k, s in enumerate(scalars):
            if s.has(wrt):
                rest = Mul(*(scalars[:k] + scalars[k + 1:]))
                _scalar(s, rest * Trace(_product([Transpose(G).doit(), _product(mats)])),
                        wrt, out)
    elif isinstance(e, Inverse):            # d(M⁻¹) = −M⁻¹ dM M⁻¹
        inverse_t = Transpose(e).doit()
        _matrix(e.arg, -_product([inverse_t, G, inverse_t]), wrt, out)
    elif isinstance(e, MatPow) and e.exp.is_Integer and e.exp > 0:     # X^n = X ⋯ X
        _product_rule(1, [e.base] * int(e.exp), G, wrt, out)
    elif isinstance(e, MatPow) and e.exp.is_Integer and e.exp < 0:     # X⁻¹ ⋯ X⁻¹
        _product_rule(1, [Inverse(e.base)] * int(-e.exp), G, wrt, out)
    elif isinstance(e, HadamardProduct):
        for k, factor in enumerate(e.args):
            others = e.args[:k] + e.args[k + 1:]
            _matrix(factor, HadamardProduct(G, *others), wrt, out)
    elif isinstance(e, Elem):
        _matrix(e.arg, HadamardProduct(G, derivative(e.name, e.order, e.arg)), wrt, out)
    elif isinstance(e, HadamardPower) and e.exp.is_Integer:
        inner = HadamardPower(e.base, e.exp - 1) if e.exp != 2 else e.base
        _matrix(e.base, e.exp * HadamardProduct(G, inner), wrt, out)
    else:
        raise ClaimError(f"no derivative rule for {type(e).__name__}")


def _product_rule(coeff, mats, G, wrt, out):
    """F_1 ⋯ F_n with adjoint G: F_k receives (F_1 ⋯ F_{k-1})ᵀ G (F_{k+1} ⋯ F_n)ᵀ."""
    for k, factor in enumerate(mats):
        if factor.has(wrt):
            left = Transpose(_product(mats[:k])).doit() if k else Identity(factor.shape[0])
            right = Transpose(_product(mats[k + 1:])).doit() if k + 1 < len(mats) \
                else Identity(factor.shape[1])
            _matrix(factor, coeff * _product([left, G, right]), wrt, out)


def _scalar(e, g, wrt, out):
    """Send the scalar adjoint g of scalar node e down to its children."""
    if not e.has(wrt):
        return
    if isinstance(e, AsScalar):
        _matrix(e.matrix, g * Identity(1), wrt, out)
    elif isinstance(e, Trace):
        _matrix(e.arg, g * Identity(e.arg.shape[0]), wrt, out)
    elif isinstance(e, SqNorm):
        _matrix(e.arg, 2 * g * e.arg, wrt, out)
    elif isinstance(e, Determinant):        # d det M = det M tr(M⁻¹ dM)
        _matrix(e.arg, g * e * Transpose(Inverse(e.arg)).doit(), wrt, out)
    elif isinstance(e, Add):
        for term in e.args:
            _scalar(term, g, wrt, out)
    elif isinstance(e, Mul):
        for k, factor in enumerate(e.args):
            rest = Mul(*(e.args[:k] + e.args[k + 1:]))
            _scalar(factor, g * rest, wrt, out)
    elif isinstance(e, Pow) and e.exp.is_number:
        _scalar(e.base, g * e.exp * e.base ** (e.exp - 1), wrt, out)
    elif isinstance(e, (exp, log, tanh)):
        _scalar(e.args[0], g * _d_builtin(e), wrt, out)
    elif hasattr(type(e), "catalogue_name"):
        f = type(e)
        _scalar(e.args[0], g * scalar_function(f.catalogue_name, f.order + 1)(e.args[0]),
                wrt, out)
    else:
        raise ClaimError(f"no derivative rule for {type(e).__name__}")


def _d_builtin(e):
    """f'(u) for u the argument of exp(u), log(u) or tanh(u)."""
    t = Dummy("t")
    return type(e)(t).diff(t).xreplace({t: e.args[0]})
