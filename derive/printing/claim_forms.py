"""Readable correct forms: a verdict's correct form as the notes write it (SPEC §3).

The engine's gradient keeps σ'(h_l) as a node and a scalar wherever the chain rule left
it: ``((2 (z_L - y)) ⊙ sigmoid'(h_L)) z_{L-1}^T``. `readable` applies an ordered list of
small named rewrite rules (`RULES`), each a function ``(expr, net) -> expr`` returning
an expression equal to its input for that network:

1. ``derivative_in_output``: σ'(h_l) becomes the activation row's derivative written in
   the output (``derivative_out``) at z_l, where that is a polynomial — sigmoid's
   z_l ⊙ (1 − z_l), tanh's 1 − z_l ⊙ z_l — for a layer whose z_l is σ(h_l);
2. ``nested_hadamard``: a Hadamard product inside another is opened,
   (z_L − y) ⊙ z_L ⊙ (1 − z_L);
3. ``scalar_out_of_sum``: a sum whose terms share a scalar has it taken out,
   2 (z_L − y) rather than 2 z_L − 2 y;
4. ``scalar_to_front``: a scalar inside a Hadamard product or a nested matrix product
   moves to the front of the product, 2 (z_L − y) z_{L-1}^T rather than
   (2 (z_L − y)) z_{L-1}^T.

>>> from derive import Network
>>> from derive.ir.nodes import Act, Var
>>> net = Network.uniform(depth=2, activation="sigmoid", loss="mse")
>>> z, h = Var("z", 2, 3, 1), Var("h", 2, 3, 1)
>>> from derive.printing.claim_text import to_claim
>>> to_claim(readable(MatMul(2, z) - MatMul(2, Var("y", 2, 3, 1)), net))
'2 (z_2 - y)'
>>> derivative_in_output(Act("sigmoid", h, 1), net)
HadamardProduct(z_2, 1 - z_2)
"""
from sympy import Add, Integer, Mul, OneMatrix
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..ir.nodes import Act, Var
from ..vocab import ACTIVATION_OUTPUT, DEPTH


def _bottom_up(expr, rule):
    """``rule`` applied to every matrix node of ``expr``, children first."""
    if isinstance(expr, Var) or not isinstance(expr, MatrixExpr):
        return rule(expr) if isinstance(expr, MatrixExpr) else expr
    args = tuple(_bottom_up(a, rule) if isinstance(a, MatrixExpr) else a for a in expr.args)
    if args != expr.args:
        expr = expr.func(*args)
    return rule(expr)


def _product(coeff, mats):
    """coeff · mats[0] mats[1] …, without a coefficient 1 and without a product of one."""
    if coeff == 1 and len(mats) == 1:
        return mats[0]
    return MatMul(*(([] if coeff == 1 else [coeff]) + list(mats)))


def _plain_output(net, layer):
    """Is z_l = σ_l(h_l) at this layer (no option adding to or masking σ's output)?"""
    if layer == DEPTH or (not net.symbolic and layer == net.depth):
        return True
    return not any(getattr(net, option, False) for option in ("dropout", "residual"))


def _lift(poly, z):
    """A polynomial in u = σ(x) as an elementwise matrix expression in z."""
    if poly == ACTIVATION_OUTPUT:
        return z
    if poly.is_number:
        return _product(poly, [OneMatrix(*z.shape)])
    if isinstance(poly, Add):
        return MatAdd(*(_lift(t, z) for t in poly.args))
    if isinstance(poly, Mul):
        coeff, rest = poly.as_coeff_Mul()
        factors = rest.args if isinstance(rest, Mul) else (rest,)
        lifted = [_lift(f, z) for f in factors]
        return _product(coeff, [lifted[0] if len(lifted) == 1 else HadamardProduct(*lifted)])
    base = _lift(poly.base, z)                        # a whole power p^k, k ≥ 2
    return HadamardProduct(*[base] * int(poly.exp))


def _is_poly(e):
    """A non-constant polynomial in u (what `_lift` can write elementwise)."""
    return e.free_symbols == {ACTIVATION_OUTPUT} and e.is_polynomial(ACTIVATION_OUTPUT)


def derivative_in_output(expr, net):
    """σ'(h_l) → the row's σ' in the output, at z_l (sigmoid: z_l ⊙ (1 − z_l))."""
    def rule(e):
        if not (isinstance(e, Act) and e.order == 1 and isinstance(e.arg, Var)
                and e.arg.kind == "h" and _plain_output(net, e.arg.layer)):
            return e
        row = net.activation(e.arg.layer)
        out = row.derivative_out
        if row.name != e.name or out is None or not _is_poly(out):
            return e
        return _lift(out, Var("z", e.arg.layer, *e.arg.shape))
    return _bottom_up(expr, rule)


def _unsigned(c):
    return -c if c.could_extract_minus_sign() else c


def scalar_out_of_sum(expr, net=None):
    """c a + c b → c (a + b), and c a − c b → c (a − b), for a scalar c ≠ 1."""
    def rule(e):
        if not isinstance(e, MatAdd):
            return e
        parts = [t.as_coeff_mmul() if isinstance(t, MatMul) else (Integer(1), t)
                 for t in e.args]
        common = {_unsigned(c) for c, _ in parts}
        if len(common) != 1 or common == {1} or common == {0}:
            return e
        (c,) = common
        terms = [_product(k / c, t.args if isinstance(t, MatMul) else [t]) for k, t in parts]
        return MatMul(c, MatAdd(*terms))
    return _bottom_up(expr, rule)


def _split(e):
    """(scalar, [matrices]) of a product, or (1, [e])."""
    if isinstance(e, MatMul):
        coeff, mats = e.as_coeff_matrices()
        return coeff, list(mats)
    return Integer(1), [e]


def scalar_to_front(expr, net=None):
    """A scalar inside a Hadamard or a nested matrix product goes to the product's front."""
    def rule(e):
        if isinstance(e, HadamardProduct):
            parts = [_split(a) for a in e.args]
            coeff = Mul(*(c for c, _ in parts))
            if coeff == 1:
                return e
            return _product(coeff, [HadamardProduct(*(_product(1, m) for _, m in parts))])
        if isinstance(e, MatMul):
            coeff, mats = e.as_coeff_matrices()
            flat = []
            for m in mats:
                c, inner = _split(m)
                coeff, flat = coeff * c, flat + (inner if c != 1 else [m])
            return e if flat == list(mats) and coeff == e.as_coeff_matrices()[0] \
                else _product(coeff, flat)
        return e
    return _bottom_up(expr, rule)


def nested_hadamard(expr, net=None):
    """a ⊙ (b ⊙ c) → a ⊙ b ⊙ c: a Hadamard product inside another is opened."""
    def rule(e):
        if not isinstance(e, HadamardProduct) or \
                not any(isinstance(a, HadamardProduct) for a in e.args):
            return e
        return HadamardProduct(*(b for a in e.args
                                 for b in (a.args if isinstance(a, HadamardProduct) else [a])))
    return _bottom_up(expr, rule)


#: (name, rule) in the order `readable` applies them
RULES = (
    ("derivative_in_output", derivative_in_output),
    ("nested_hadamard", nested_hadamard),
    ("scalar_out_of_sum", scalar_out_of_sum),
    ("scalar_to_front", scalar_to_front),
)


def readable(expr, net):
    """``expr`` (a correct form of ``net``) with every rule of `RULES` applied, in order."""
    for _, rule in RULES:
        expr = rule(expr, net)
    return expr
