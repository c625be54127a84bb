"""Human forms: the forms a person writes, from the orderings SymPy keeps.

SymPy stores ``1/(1 + exp(-x))`` as ``1/(exp(-x) + 1)``, multiplies ``2(f − y)`` out to
``2f − 2y`` and transposes a difference term by term, ``1 − yᵀ``. `humanize` applies an
ordered list of small named rewrite rules (`RULES`), each a function from a SymPy
expression to an equal one, in the spirit of SymPy's ``hadamard.canonicalize``:

1. ``one_plus_exp``: a number plus exponentials keeps the number first, 1 + e^{−x}
   (an `InOrder` sum, printed in the order given);
2. ``common_number``: a sum whose terms share a number has it taken out, 2(f − y)
   (an unevaluated product);
3. ``transpose_of_sum``: a sum of transposed row vectors is the transpose of the sum
   of the columns, (1 − y)ᵀ;

Every rule returns an expression equal to its input (``doit`` undoes the written
forms). `NotesLatexPrinter` applies `humanize` when its ``human`` setting is on; with
it on, the printer also writes one form for ReLU's derivative, H(x) for both SymPy's
``Heaviside(x)`` and ``Heaviside(x, 0)`` (a printer method, not a rule: the two differ
at 0, and the value there is stated in prose).

>>> from sympy import Symbol, exp
>>> x, f, y = Symbol("x"), Symbol("f"), Symbol("y")
>>> humanize(1 / (1 + exp(-x)))
1/(1 + exp(-x))
>>> humanize(2*f - 2*y)
2*(f - y)
"""
from functools import lru_cache

from sympy import Add, Expr, Mul, OneMatrix, S, Transpose, exp
from sympy.matrices.expressions import MatAdd, MatMul
from sympy.printing.precedence import PRECEDENCE


class InOrder(Expr):
    """A sum printed in the order of its terms (``doit`` gives SymPy's Add).

    >>> from sympy import Symbol, latex
    >>> latex(InOrder(1, -Symbol("u")))
    '1 - u'
    """

    is_commutative = True
    precedence = PRECEDENCE["Add"]

    def __new__(cls, *terms):
        return Expr.__new__(cls, *map(S, terms))

    def doit(self, **hints):
        return Add(*(t.doit(**hints) for t in self.args))

    def _latex(self, printer):
        out = ""
        for k, term in enumerate(self.args):
            if term.could_extract_minus_sign():
                out += (" - " if k else "-") + printer.parenthesize(-term, self.precedence)
            else:
                out += (" + " if k else "") + printer.parenthesize(term, self.precedence)
        return out

    _notes_latex = _latex

    def _sympystr(self, printer):
        return " + ".join(printer.parenthesize(t, self.precedence) for t in self.args)


# -- the rules, in the order they apply ---------------------------------------------------
def one_plus_exp(expr):
    """1 + e^{−x}, not e^{−x} + 1: the number of a sum of a number and exponentials first.

    >>> from sympy import Symbol
    >>> one_plus_exp(exp(Symbol("x")) + 1).args
    (1, exp(x))
    """
    def is_target(e):
        if not isinstance(e, Add):
            return False
        numbers = [t for t in e.args if t.is_number]
        return len(numbers) == 1 and all(isinstance(t, exp) for t in e.args
                                         if not t.is_number)

    def written(e):
        number = next(t for t in e.args if t.is_number)
        return InOrder(number, *(t for t in e.args if not t.is_number))
    return expr.replace(is_target, written)


def common_number(expr):
    """2(f − y), not 2f − 2y: a whole number all terms of a sum share is taken out.

    >>> from sympy import Symbol
    >>> common_number(4 * Symbol("f") - 2).args
    (2, 2*f - 1)
    """
    def is_target(e):
        c = e.primitive()[0] if isinstance(e, Add) and not e.is_number else S.One
        return c.is_Integer and c.p > 1

    def written(e):
        c, rest = e.primitive()
        return Mul(c, rest, evaluate=False)
    return expr.replace(is_target, written)


def _column(term):
    """The column vector whose transpose ``term`` is (with its coefficient), or None."""
    coeff, body = (term.as_coeff_mmul() if isinstance(term, MatMul) else (S.One, term))
    body = body.args[0] if isinstance(body, MatMul) and len(body.args) == 1 else body
    if isinstance(body, Transpose):
        return coeff * body.arg
    if isinstance(body, OneMatrix) and body.shape[0] == 1:
        return coeff * OneMatrix(body.shape[1], 1)
    return None


def transpose_of_sum(expr):
    """(1 − y)ᵀ, not 1 − yᵀ: a sum of transposed columns is the transpose of their sum.

    >>> from sympy import MatrixSymbol
    >>> y = MatrixSymbol("y", 3, 1)
    >>> transpose_of_sum(OneMatrix(1, 3) - y.T)
    (-y + 1).T
    """
    def is_target(e):
        return isinstance(e, MatAdd) and e.shape[0] == 1 and \
            all(_column(t) is not None for t in e.args)

    def written(e):
        return Transpose(MatAdd(*(_column(t) for t in e.args)))
    return expr.replace(is_target, written)


#: (name, rule) in the order `humanize` applies them
RULES = (
    ("one_plus_exp", one_plus_exp),
    ("common_number", common_number),
    ("transpose_of_sum", transpose_of_sum),
)


@lru_cache(maxsize=4096)
def humanize(expr):
    """``expr`` with every rule of `RULES` applied, in order (remembered per
    expression: a document prints most of its expressions several times, and every
    notation and layout of one derivation prints the same ones)."""
    for _, rule in RULES:
        expr = rule(expr)
    return expr
