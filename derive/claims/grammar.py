"""Closed-form claims (SPEC §3): the recursive-descent grammar over the lexer's tokens.

The text is never evaluated as Python: it is split into tokens, parsed into a small
tree of tuples (columns kept only for error messages) and the tree is turned into our
SymPy matrix expressions (`Var`, `Transpose`, `MatMul`, `HadamardProduct`, `Act`, …).

Grammar (products of every kind share one precedence and associate to the left, as
in NumPy, so ``W^T δ ⊙ σ'(h) x^T`` reads ((Wᵀδ) ⊙ σ'(h)) xᵀ)::

    expr    := ['-'] product (('+' | '-') product)*
    product := factor ((juxtaposition | '@' | '*' | '⊙' | '/') factor)*
    factor  := primary (transpose | '^' power | '.^' integer)*
    power   := T | \\top | -T | integer | '{' (T | ... | ('∘' | '⊙') integer) '}'
    primary := number | name [layer] | function ['] '(' expr ')' | '(' expr ')'
               | '[' expr ';' '1' ']'     (the augmented input [z_l; 1], zaug_l)
               | '\\frac' '{' expr '}' '{' expr '}'

>>> parse("(z_L - y) z_{L-1}^T") == parse(r"(\\mathbf{z}_L-\\mathbf{y})\\mathbf{z}_{L-1}^\\top")
True
"""
from sympy import Rational

from ..errors import ClaimError
from .lexer import MAX_NESTING, MAX_TREE_DEPTH, tokenize

#: notation -> {letter: (kind, fixed layer or None)}; layers by subscript or superscript
NAMES = {
    "hz": {"W": ("W", None), "b": ("b", None), "h": ("h", None), "z": ("z", None),
           "a": ("a", None)},
    "gh": {"W": ("W", None), "b": ("b", None), "g": ("h", None), "h": ("z", None),
           "f": ("z", ("L", 0)), "a": ("a", None)},
    "pq": {"W": ("W", None), "b": ("b", None), "p": ("h", None), "q": ("z", None),
           "a": ("a", None)},
    "za": {"W": ("W", None), "w": ("W", None), "b": ("b", None), "z": ("h", None),
           "a": ("z", None), "u": ("a", None)},
}
SUPERSCRIPT_LAYERS = ("gh", "za")
LOSS_LETTERS = ("dJ", "dL", "dC")      # dJ/dz_l: J, or the notation's L or C
COTANGENTS = ("z", "a", "hhat")        # the quantities whose cotangent a claim may name
COMMON = {"y": ("y", ("L", 0)), "x": ("z", (None, 0)), "delta": ("delta", None),
          "Wbar": ("Wbar", None), "zaug": ("zaug", None), "m": ("batch", None),
          "n": ("width", None), "gamma": ("gamma", None), "beta": ("beta", None),
          "M": ("M", None), "hhat": ("hhat", None), "xhat": ("xhat", None),
          "mu": ("mu", None), "var": ("var", None),
          "epsilon": ("const", None), "lambda": ("const", None), "I": ("identity", None)}
GENERIC_ACT = ("sigma", "phi", "varphi")
MAX_POWER = 100    # the largest exponent |k| of X^k, X^{∘k}, X.^k
FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax", "identity",
             "exp", "log", "sqrt", "diag") + GENERIC_ACT

class Parser:
    """Recursive descent over the tokens; `parse()` gives the claim's tree."""

    def __init__(self, text, notation="hz"):
        if notation not in NAMES:
            raise ClaimError(f"unknown notation {notation!r}; allowed: {', '.join(NAMES)}")
        self.tokens = tokenize(text)
        self.pos, self.depth, self.notation = 0, 0, notation
        self.names = dict(NAMES[notation], **COMMON)

    # -- helpers ----------------------------------------------------------------------
    def peek(self, ahead=0):
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def at(self, *values):
        tok = self.peek()
        return tok[1] in values and tok[0] in ("OP", "MATMUL", "HAD", "NAME")

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def expect(self, value, what=None):
        tok = self.peek()
        if tok[1] != value or tok[0] not in ("OP", "NAME"):
            self.fail(what or f"'{value}'")
        return self.take()

    def fail(self, expected):
        tok = self.peek()
        found = "the end of the claim" if tok[0] == "END" else repr(tok[1])
        raise ClaimError(f"expected {expected}, found {found}", column=tok[2])

    def enter(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ClaimError(f"claim nested too deeply (more than {MAX_NESTING} levels)",
                             column=self.peek()[2])

    # -- grammar ----------------------------------------------------------------------
    def parse(self):
        tree = self.expr()
        if self.peek()[0] != "END":
            self.fail("an operator or the end of the claim")
        if tree_depth(tree) > MAX_TREE_DEPTH:
            raise ClaimError(f"claim nested too deeply (more than {MAX_TREE_DEPTH} levels of "
                             "operators; a long chain of + or ⊙ counts one level per term)",
                             column=1)
        return tree

    def expr(self):
        self.enter()
        if self.at("-"):
            self.take()
            node = ("neg", self.product())
        else:
            if self.at("+"):
                self.take()
            node = self.product()
        while self.at("+", "-"):
            op = "add" if self.take()[1] == "+" else "sub"
            node = (op, node, self.product())
        self.depth -= 1
        return node

    def starts_primary(self):
        kind, value, _ = self.peek()
        return kind in ("NUM", "NAME", "FRAC") or (kind == "OP" and value in "({[")

    def product(self):
        node = self.factor()
        while True:
            kind, value, _ = self.peek()
            if kind == "MATMUL":
                self.take()
                node = ("matmul", node, self.factor())
            elif kind == "HAD":
                self.take()
                node = ("had", node, self.factor())
            elif kind == "OP" and value in "*/":
                self.take()
                node = ("times" if value == "*" else "div", node, self.factor())
            elif self.starts_primary():
                node = ("matmul", node, self.factor())
            else:
                return node

    def factor(self):
        node = self.primary()
        while True:
            kind, value, _ = self.peek()
            if kind == "POSTT":
                self.take()
                node = ("T", node)
            elif kind == "OP" and value == "^":
                self.take()
                node = self.power(node)
            elif kind == "EPOW":
                self.take()
                node = ("epow", node, self.integer("an integer power after '.^'"))
            else:
                return node

    def integer(self, expected):
        """A signed integer (an exponent): ``2``, ``-1``, ``{3}``, ``(-2)``."""
        close = {"{": "}", "(": ")"}.get(self.peek()[1]) if self.at("{", "(") else None
        if close:
            self.take()
        sign = -1 if self.at("-") else 1
        if sign < 0:
            self.take()
        kind, value, _ = self.peek()
        if kind != "NUM" or "." in value:
            self.fail(expected)
        self.bounded(value)
        self.take()
        if close:
            self.expect(close)
        return sign * int(value)

    def bounded(self, digits):
        """An exponent's digits, refused beyond MAX_POWER (a power is printed and
        evaluated entry by entry)."""
        if int(digits) > MAX_POWER:
            raise ClaimError(f"exponent {digits} too large; at most {MAX_POWER}",
                             column=self.peek()[2])

    def power(self, node):
        braced = self.at("{")
        if braced:
            self.take()
        kind, value, col = self.peek()
        if kind == "TOP" or (kind == "NAME" and value == "T"):
            self.take()
            node = ("T", node)
        elif kind == "HAD" and braced:     # X^{∘k}, X^{\circ k}: the elementwise power
            self.take()
            node = ("epow", node, self.integer("an integer power after '∘'"))
        else:
            sign = -1 if self.at("-") else 1
            if sign < 0:
                self.take()
            kind, value, _ = self.peek()
            if sign < 0 and (kind == "TOP" or (kind == "NAME" and value == "T")):
                self.take()             # X^{-T}: the inverse of the transpose
                node = ("pow", ("T", node), -1)
            elif kind != "NUM" or "." in value:
                self.fail("T, \\top, -T or an integer power after '^'")
            else:
                self.bounded(value)
                node = ("pow", node, sign * int(self.take()[1]))
        if braced:
            self.expect("}")
        return node

    def primary(self):
        self.enter()
        kind, value, col = self.peek()
        if kind == "NUM":
            self.take()
            node = ("num", Rational(value))
        elif kind == "OP" and value in "({[":
            self.take()
            node = self.expr()
            if value == "[" and self.at(";"):
                node = self.stacked(node, col)
            else:
                self.expect({"(": ")", "{": "}", "[": "]"}[value])
        elif kind == "FRAC":
            self.take()
            self.expect("{")
            num = self.expr()
            self.expect("}")
            self.expect("{")
            den = self.expr()
            self.expect("}")
            node = ("div", num, den)
        elif kind == "NAME":
            node = self.name()
        else:
            self.fail("a name, a number or '('")
        self.depth -= 1
        return node

    def stacked(self, inner, col):
        """After '[' v: the rest of [z_l; 1], the augmented input zaug_l."""
        self.take()
        if self.peek()[:2] != ("NUM", "1"):
            self.fail("1 after ';' ([z_l; 1] appends a 1 to z_l)")
        self.take()
        self.expect("]")
        if inner[0] != "var" or inner[1] != "z":
            raise ClaimError("[v; 1] appends a 1 to an activation only: write [z_l; 1] "
                             "or [x; 1]", column=col)
        return ("var", "zaug", inner[2])

    def name(self):
        kind, value, col = self.take()
        if value in FUNCTIONS:
            return self.call(value)
        if value in LOSS_LETTERS and self.at("/") and self.peek(1)[0] == "NAME" \
                and self.peek(1)[1][:1] == "d":
            return self.cotangent()
        if value not in self.names:
            allowed = ", ".join(sorted(set(self.names) | set(FUNCTIONS)))
            raise ClaimError(f"unknown name {value!r}; expected one of {allowed}", column=col)
        var_kind, fixed = self.names[value]
        if var_kind == "batch":
            return ("batch",)
        if var_kind == "const":    # ε of a normalization, λ of weight decay
            return ("const", value)
        if var_kind == "identity":  # I, its size from context
            return ("identity",)
        if fixed is not None:
            if self.at("_"):   # y_L, x_0 are fine
                self.take()
                self.layer()
            return ("var", var_kind, fixed)
        marks = ("_", "^") if self.notation in SUPERSCRIPT_LAYERS else ("_",)
        if self.at("^") and self.is_transpose_next() and not self.at_layer_after_t():
            self.take()           # W^T_L, W^{\top}_{L}: the transpose before the index
            if self.take()[1] == "{":
                self.take()
                self.expect("}")
            return ("T", self.name_layer(value, var_kind, ("_",)))
        node = self.name_layer(value, var_kind, marks)
        return ("width", node[2]) if var_kind == "width" else node

    def cotangent(self):
        """After dJ: the rest of dJ/dz_l, dJ/da_l, dJ/dhhat_l (the derivation's named
        cotangents ∂J/∂z_l, ∂J/∂a_l, ∂J/∂ĥ_l), as ('cot', kind, layer)."""
        self.take()
        _, target, col = self.take()
        kind = self.names.get(target[1:], (None,))[0]
        if kind not in COTANGENTS:
            raise ClaimError(f"{target!r}: the named cotangents are dJ/dz_l, dJ/da_l and "
                             "dJ/dhhat_l (in the notation's letters)", column=col)
        marks = ("_", "^") if self.notation in SUPERSCRIPT_LAYERS else ("_",)
        return ("cot", kind, self.name_layer(target[1:], kind, marks)[2])

    def at_layer_after_t(self):
        """False for W^T_L (the index follows the transpose), True for a^{L}^T."""
        ahead = 4 if self.peek(1)[1] == "{" else 2
        return self.peek(ahead)[1] != "_"

    def name_layer(self, value, var_kind, marks):
        if not self.at(*marks) or (self.at("^") and self.is_transpose_next()):
            self.fail(f"a layer index after {value!r} ({value}_l, {value}_2, {value}_{{L-1}})")
        self.take()
        return ("var", var_kind, self.layer())

    def is_transpose_next(self):
        kind, value, _ = self.peek(1)
        if kind == "OP" and value == "{":
            kind, value, _ = self.peek(2)
        return kind == "TOP" or (kind == "NAME" and value == "T")

    def layer(self):
        close = None
        if self.at("{", "("):
            close = "}" if self.take()[1] == "{" else ")"
            if self.at("("):          # W^{(l)}
                self.take()
                close = ")" + close
        kind, value, col = self.take()
        if kind == "NUM" and value.isdigit():
            spec = (None, int(value))
        elif kind == "NAME" and value in ("L", "l"):
            spec = (value, 0)
        else:
            self.pos -= 1
            self.fail("a layer: a number, L, l, L-1 or {L-2}")
        if close and self.at("+", "-") and spec[0] is not None:
            sign = 1 if self.take()[1] == "+" else -1
            if self.peek()[0] != "NUM" or not self.peek()[1].isdigit():
                self.fail("a number in the layer index")
            spec = (spec[0], sign * int(self.take()[1]))
        for mark in close or "":
            self.expect(mark)
        return spec

    def call(self, fname):
        if self.at("_"):   # σ_l(...): a per-layer activation
            self.take()
            self.layer()
        return self.applied(fname)

    def applied(self, fname):
        """After a function's name (and subscript): its primes and its argument."""
        order = 0
        while self.at("'") or (self.at("^") and self.peek(1)[1] in ("'", "{")):
            if self.take()[1] == "^":
                braced = self.at("{")
                if braced:
                    self.take()
                self.expect("'", "\\prime")
                if braced:
                    self.expect("}")
            order += 1
        if order > 1:
            self.fail("at most one derivative (σ')")
        if not self.at("(", "[", "{"):
            self.fail(f"'(' after {fname}")
        return ("call", fname, order, self.primary())


def parse(text, notation="hz"):
    """The tree of a claim: nested tuples such as ('matmul', a, b), ('T', a),
    ('var', 'z', ('L', -1)), ('call', 'sigma', 1, arg), ('num', 2).

    >>> parse("W_3.T @ delta_3 .* (1 - z_2 .* z_2)")[0]
    'had'
    """
    return Parser(text, notation).parse()


#: the kinds a verified gradient may be taken with respect to
PARAMS = ("W", "b", "gamma", "beta", "delta", "z")


def parse_param(text, notation="hz"):
    """('W'|'b'|'delta'|'z', layer spec) for a parameter name such as 'W_{L-1}'."""
    tree = parse(text, notation)
    if tree[0] != "var" or tree[1] not in PARAMS:
        raise ClaimError(f"parameter {text!r}: expected W_l, b_l, gamma_l, beta_l, delta_l "
                         "or z_l", column=1)
    return tree[1], tree[2]


def tree_depth(tree):
    """The depth of a parse tree (nested tuples), counted without recursion: the checks
    that read a tree recurse, and a chain of n sums is a tree of depth n."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node if isinstance(child, tuple))
    return deepest
