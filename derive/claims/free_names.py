"""Free-standing matrix expressions in the claim syntax (SPEC §3), for the catalogue.

The network claims of `derive.claims.grammar` name layer quantities (W_l, z_l, …); here any
single Latin letter is a name, with an optional subscript (``W_{01}``, ``x_0``):
lower case a column vector, upper case a matrix, unless shapes say otherwise. Letters
written together multiply (``yx^T`` is y xᵀ). Besides the claim operators there are
traces ``tr(…)``, squared norms ``‖…‖^2`` (also ``||…||^2``, ``\\|…\\|^2``,
``\\lVert…\\rVert^2``), unsquared norms ``‖x‖``, determinants ``det(X)`` and
``log det(X)`` (also ``logdet(X)``), inverses and negative powers ``X^{-1}``,
``X^{-T}``, elementwise powers ``X^{∘k}`` (also ``X.^k``), and elementwise functions
``σ``, ``σ_1``, ``φ``, ``exp``, ``log``, ``tanh``, ``sqrt``, ``sigmoid`` and their
derivatives ``σ'``.

The text is tokenized and parsed by recursive descent (the tokenizer and the grammar
are those of `derive.claims.grammar`); nothing is evaluated.

>>> parse_free("1/2 x^T A^T A x")[0]
'matmul'
>>> parse_derivative("d/dA (y^T A x)")[0]
'A'
"""
import re

from ..errors import ClaimError
from .grammar import Parser
from .lexer import tokenize

#: elementwise functions of the catalogue; σ and φ stand for any differentiable function
ELEMENTWISE = ("sigma", "phi", "sigmoid", "tanh", "exp", "log", "sqrt")
TRACE = ("tr", "trace")
DETERMINANT = ("det", "logdet")
WORDS = ELEMENTWISE + TRACE + DETERMINANT


class FreeParser(Parser):
    """The claim grammar with free names, traces and norms."""

    def __init__(self, text):
        self.notation, self.names = "free", {}
        self.pos, self.depth, self.in_norm = 0, 0, False
        self.tokens = _split_words(tokenize(text))

    def starts_primary(self):
        """A '‖' opens a norm, except inside one, where it closes it (norms do not nest)."""
        return super().starts_primary() or (self.peek()[0] == "NORM" and not self.in_norm)

    def primary(self):
        kind, _, col = self.peek()
        if kind != "NORM":
            return super().primary()
        if self.in_norm:
            self.fail("a name, a number or '(' (norms do not nest)")
        self.enter()
        self.take()
        self.in_norm = True
        inner = self.expr()
        if self.peek()[0] != "NORM":
            self.fail("'‖' closing the norm")
        self.take()
        self.in_norm = False
        self.depth -= 1
        if self.at("_") and self.peek(1)[1] == "F":     # ‖X‖_F: the Frobenius norm
            self.take()
            self.take()
        return ("norm", inner, col)

    def name(self):
        kind, value, col = self.take()
        if value in TRACE:
            if not self.at("(", "[", "{"):
                self.fail(f"'(' after {value}")
            return ("tr", self.primary())
        if value in DETERMINANT:
            return self.determinant(value)
        if value == "log" and self.at("det"):     # log det(X)
            self.take()
            return self.determinant("logdet")
        if value in ELEMENTWISE:
            return self.function(value)
        if len(value) != 1:
            raise ClaimError(f"unknown name {value!r}; names are single letters (A, x, W_1) "
                             f"and the functions {', '.join(WORDS)}", column=col)
        label = value + self.subscript() if self.at("_") else value
        return ("name", label, col)

    def subscript(self):
        """'_1', '_{01}', '_k' → the text of the subscript, as '_{…}'."""
        self.take()
        parts = []
        braced = self.at("{")
        if braced:
            self.take()
        while True:
            kind, value, _ = self.peek()
            if kind in ("NUM", "NAME") and value.isalnum() and "." not in value:
                parts.append(self.take()[1])
            else:
                break
            if not braced:
                break
        if not parts:
            self.fail("a subscript: digits or letters, as in W_1 or W_{01}")
        if braced:
            self.expect("}")
        return "_{" + "".join(parts) + "}"

    def determinant(self, word):
        """det(X) → ('det', X); logdet(X) and log det(X) → ('call', 'log', 0, det)."""
        if not self.at("(", "[", "{"):
            self.fail(f"'(' after {word}")
        node = ("det", self.primary(), self.peek()[2])
        return ("call", "log", 0, node) if word == "logdet" else node

    def function(self, fname):
        if self.at("_"):      # σ_1, σ_2: distinct functions
            fname += self.subscript()
        return self.applied(fname)


def _split_words(tokens):
    """Letters written together are separate names (``yx`` is y times x); the words of
    `WORDS` stay whole. A word that is not ours and is followed by '(' is an unknown
    function, reported as such."""
    out = []
    for n, (kind, value, col) in enumerate(tokens):
        if kind != "NAME" or len(value) == 1 or value in WORDS:
            out.append((kind, value, col))
            continue
        follower = tokens[n + 1] if n + 1 < len(tokens) else ("END", "", col)
        if follower[1] == "(" or "_" in value or not value.isalpha():
            raise ClaimError(f"unknown function {value!r}; allowed: {', '.join(WORDS)}",
                             column=col)
        out.extend(("NAME", letter, col + k) for k, letter in enumerate(value))
    return out


def parse_free(text):
    """The tree of a free-standing expression.

    Nodes: ('name', label, column), ('num', r), ('neg', a), ('add'|'sub'|'matmul'|
    'times'|'div'|'had', a, b), ('T', a), ('pow', a, k), ('call', f, order, a),
    ('tr', a), ('norm', a, column), ('det', a, column).
    """
    return FreeParser(text).parse()


_D = r"(?:d|\\partial|∂)"
_NAME = r"(?:\\(?:mathbf|boldsymbol|bm)\s*\{\s*)?(?P<%s>[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?)\s*\}?"
_PREFIX = re.compile(
    r"\s*(?:\\frac\s*\{\s*%s\s*\}\s*\{\s*%s\s*%s\s*\}|%s\s*/\s*%s\s*%s)\s*"
    % (_D, _D, _NAME % "a", _D, _D, _NAME % "b"))
_WRT = re.compile(r"\s*" + _NAME % "a" + r"\s*")


def parse_derivative(text):
    """'d/dA (expr)' (also ∂/∂A, \\frac{\\partial}{\\partial A}) → (wrt label, tree)."""
    if not isinstance(text, str):
        raise ClaimError(f"an identity must be text, got {type(text).__name__}")
    match = _PREFIX.match(text)
    if not match:
        raise ClaimError("expected 'd/dA (expression)': a derivative with respect to a "
                         "named matrix or vector", column=1)
    label = _label(match.group("a") or match.group("b"))
    try:
        tree = parse_free(text[match.end():])
    except ClaimError as exc:
        column = exc.column + match.end() if exc.column is not None else None
        message = str(exc).rsplit(" (column", 1)[0]
        raise ClaimError(message, column=column) from None
    return label, tree


def parse_wrt(text):
    """A variable name such as 'A', 'x' or 'W_{01}' (the ``wrt`` argument).

    >>> parse_wrt("W_01")
    'W_{01}'
    """
    match = _WRT.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ClaimError(f"wrt: expected a variable name such as A, x or W_{{01}}, "
                         f"got {text!r}")
    return _label(match.group("a"))


def _label(text):
    """'W_01', 'W_{01}' → 'W_{01}'; 'A' → 'A'."""
    if "_" not in text:
        return text
    base, sub = text.split("_", 1)
    return base + "_{" + sub.strip("{}") + "}"
