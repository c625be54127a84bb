"""A whitelist parser for custom activations, ``custom:<expression in x>``.

Grammar (no Python evaluation anywhere)::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("-" | "+") unary | power
    power  := atom (("^" | "**") unary)?
    atom   := NUMBER | "x" | "e" | "pi" | FUNC "(" expr ")" | "(" expr ")"

>>> from sympy import Symbol
>>> parse_custom("x/(1+exp(-x))", Symbol("x"))
x/(1 + exp(-x))
"""
import re

from sympy import E, Rational, cos, exp, log, nan, oo, pi, sin, sqrt, tanh, zoo

from ..errors import SpecError

FUNCTIONS = {"exp": exp, "log": log, "tanh": tanh, "sqrt": sqrt, "sin": sin, "cos": cos}
MAX_LENGTH = 400
MAX_DEPTH = 60
MAX_EXPONENT = 1000      # |numeric exponent|: x^1000 is fine, x^(9^9) is not
MAX_BITS = 20000         # size of an exact number such as 9^999 (SymPy computes it)
UNDEFINED = (zoo, nan, oo, -oo)
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|(\*\*|[-+*/^()])|([A-Za-z_]\w*))")


def _fail(message, pos, text):
    raise SpecError(f"custom activation {text!r}: {message} at column {pos + 1}; "
                    f"allowed: numbers, x, e, pi, + - * / ^, parentheses, "
                    f"{', '.join(FUNCTIONS)}")


def _undefined(text):
    raise SpecError(f"custom activation {text!r} is undefined (division by zero)")


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            _fail(f"unexpected character {text[start]!r}", start, text)
        kind = "num" if m.group(1) else "op" if m.group(2) else "name"
        value = m.group(m.lastindex)
        out.append((kind, value, m.start(m.lastindex)))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text, var):
        self.text, self.var = text, var
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.toks[self.i]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            _fail(f"expected {value!r}, found {tok[1] or 'end of input'!r}", tok[2], self.text)
        self.i += 1
        return tok

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            _fail(f"nesting deeper than {MAX_DEPTH}", self.peek()[2], self.text)

    def expr(self):
        self.nest()
        value = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        self.depth -= 1
        return value

    def term(self):
        value = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            rhs = self.unary()
            value = value * rhs if op == "*" else value / rhs
        return value

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            self.nest()
            value = self.unary()
            self.depth -= 1
            return -value if op == "-" else value
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[1] in ("^", "**"):
            pos = self.take()[2]
            self.nest()
            exponent = self.unary()
            self.depth -= 1
            self.check_power(base, exponent, pos)
            return base ** exponent
        return base

    def check_power(self, base, exponent, pos):
        """Refuse powers SymPy would compute exactly for minutes (9^9^9, x^(10^9)), and
        exponents that are undefined numbers SymPy keeps unevaluated."""
        if not exponent.is_number:
            return
        if exponent.is_comparable:
            size = abs(exponent)
            if size.has(zoo, nan):        # comparing it would raise TypeError
                _undefined(self.text)
            if size > MAX_EXPONENT:
                _fail(f"exponent larger than {MAX_EXPONENT}", pos, self.text)
        if base.is_Rational and exponent.is_Rational and abs(base) != 1 and base != 0:
            size = max(abs(base.p).bit_length(), base.q.bit_length()) * abs(exponent)
            if size > MAX_BITS:
                _fail(f"number too large (over {MAX_BITS} bits)", pos, self.text)

    def atom(self):
        kind, value, pos = self.take()
        if kind == "num":
            return Rational(value)
        if kind == "name":
            if value == "x":
                return self.var
            if value == "e":
                return E
            if value == "pi":
                return pi
            if value in FUNCTIONS:
                self.take("(")
                arg = self.expr()
                self.take(")")
                return FUNCTIONS[value](arg)
            _fail(f"unknown name {value!r}", pos, self.text)
        if value == "(":
            inner = self.expr()
            self.take(")")
            return inner
        _fail(f"unexpected {value or 'end of input'!r}", pos, self.text)


def parse_custom(text, var):
    """Parse ``text`` into a SymPy expression in ``var``; raise SpecError otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("custom activation is empty; write e.g. custom:x/(1+exp(-x))")
    if len(text) > MAX_LENGTH:
        raise SpecError(f"custom activation is longer than {MAX_LENGTH} characters")
    parser = _Parser(text, var)
    value = parser.expr()
    kind, tok, pos = parser.peek()
    if kind != "end":
        _fail(f"unexpected {tok!r}", pos, text)
    if var not in value.free_symbols:
        raise SpecError(f"custom activation {text!r} does not depend on x")
    if value.has(*UNDEFINED):
        _undefined(text)
    return value
