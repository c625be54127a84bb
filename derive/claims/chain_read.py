r"""Reading a student's derivation chain (SPEC §3b): lines and their claim trees.

A chain is a sequence of lines ``lhs = rhs`` or continuation lines ``= rhs`` (several
``=`` on one line are several steps), in plain text or as the body of a LaTeX
``aligned``/``align`` environment (``&`` and ``\\`` are layout, ``$$`` and the
``\begin``/``\end`` lines are dropped). A line without ``=`` continues the step above.
Lines starting with ``#`` or ``%`` are comments.

Each right-hand side is a claim in the §3 syntax plus Jacobian factors ``dA/dB``,
``∂A/∂B`` and ``\frac{\partial A}{\partial B}`` (the tree node ``("jac", A, B)``, A
the loss ``("loss", letter)`` or a layer quantity). The parser keeps the source span
of every node, so that a repair can rewrite one node and leave the student's text
around it untouched.

>>> steps = read_chain("dJ/dW_L = dJ/dh_L dh_L/dW_L\n = delta_L z_{L-1}^T")
>>> [(s.index, s.param, s.text) for s in steps]
[(0, ('W', ('L', 0)), 'dJ/dh_L dh_L/dW_L'), (1, ('W', ('L', 0)), 'delta_L z_{L-1}^T')]
>>> steps[0].tree[0], steps[0].tree[1][0]
('matmul', 'jac')
"""
import re
from dataclasses import dataclass, field

from ..errors import ClaimError
from .grammar import FUNCTIONS, Parser

LOSS_LETTERS = ("J", "L", "C", "E")
#: the quantities a chain's left-hand side may name, as `verify` takes them
TARGETS = {"W": "W", "b": "b", "gamma": "gamma", "beta": "beta", "h": "delta",
           "z": "z", "delta": "delta"}
LATEX_DROP = re.compile(r"\\begin\{(?:aligned|align\*?|split|equation\*?)\}|"
                        r"\\end\{(?:aligned|align\*?|split|equation\*?)\}|\$\$|\\\[|\\\]|"
                        r"\\nonumber|\\notag|\$")
MAX_STEPS = 40


class ChainParser(Parser):
    """The claim grammar plus Jacobian factors; ``spans`` maps id(node) to (start, end)
    offsets in the text (a parenthesized node's span includes its brackets)."""

    def __init__(self, text, notation="hz"):
        super().__init__(text.replace("∂", "d").replace("–", "-"), notation)
        self.text = text
        self.spans = {}
        self.tokens = self._split_d(self.tokens)

    def _split_d(self, tokens):
        """``dJ``, ``dz``, ``dW`` (one NAME to the lexer) become ``d`` and the name."""
        out = []
        for kind, value, col in tokens:
            rest = value[1:]
            if kind == "NAME" and value.startswith("d") and value not in self.names \
                    and value not in FUNCTIONS and (rest in self.names or rest in LOSS_LETTERS):
                out += [("NAME", "d", col), ("NAME", rest, col + 1)]
            else:
                out.append((kind, value, col))
        return out

    def _mark(self, start, node):
        end = self.peek()[2] - 1
        text = self.text[start - 1:end].rstrip()
        self.spans[id(node)] = (start - 1, start - 1 + len(text))
        return node

    def expr(self):
        start = self.peek()[2]
        return self._mark(start, super().expr())

    def product(self):
        start = self.peek()[2]
        return self._mark(start, super().product())

    def factor(self):
        start = self.peek()[2]
        return self._mark(start, super().factor())

    def primary(self):
        start = self.peek()[2]
        if self.at_jacobian():
            self.enter()
            node = self.jacobian()
            self.depth -= 1
        else:
            node = super().primary()
        return self._mark(start, node)

    def at_jacobian(self):
        kind, value, _ = self.peek()
        if kind == "NAME" and value == "d":
            return True
        return kind == "FRAC" and self.peek(1)[1] == "{" and self.peek(2)[:2] == ("NAME", "d")

    def jacobian(self):
        if self.peek()[0] == "FRAC":
            self.take()
            self.expect("{")
            num = self.quantity()
            self.expect("}")
            self.expect("{")
            wrt = self.quantity()
            self.expect("}")
        else:
            num = self.quantity()
            self.expect("/", "'/' in a Jacobian dA/dB")
            wrt = self.quantity()
        if wrt[0] == "loss":
            raise ClaimError("a derivative with respect to the loss: write dJ/dA, not dA/dJ",
                             column=self.peek()[2])
        return ("jac", num, wrt)

    def quantity(self):
        """After ``d``: the loss letter or a layer quantity (``z_L``, ``{W_{L-1}}``)."""
        kind, value, col = self.peek()
        if kind == "NAME" and value.startswith("d") and len(value) > 1:
            raise ClaimError(f"unknown name {value[1:]!r} in {value}: expected the loss J or "
                             "a quantity such as z_L, h_l, W_l", column=col)
        self.expect("d", "d or \\partial")
        braced = self.at("{")
        if braced:
            self.take()
        kind, value, col = self.peek()
        if kind == "NAME" and value in LOSS_LETTERS and self.peek(1)[1] != "_":
            self.take()
            node = ("loss", value)
        elif kind == "NAME":
            node = self.name()
        else:
            self.fail("the loss (J) or a quantity such as z_L, h_{L-1}, W_l")
        if braced:
            self.expect("}")
        if node[0] not in ("loss", "var"):
            raise ClaimError("a Jacobian dA/dB takes a quantity such as z_L or W_l on "
                             "each side", column=col)
        return node


@dataclass
class Step:
    """One step of a chain: ``index`` (from 0), the target ``param`` (kind, layer
    spec) its left-hand side names, the right-hand side ``text`` and its ``tree``;
    ``spans`` maps id(node) of the tree to offsets in ``text``."""
    index: int
    param: tuple
    lhs: str
    text: str
    tree: tuple
    spans: dict = field(repr=False, default_factory=dict)
    line: int = 0
    lhs_tree: tuple = field(repr=False, default=None)


def _clean(text):
    if not isinstance(text, str):
        raise ClaimError(f"a chain must be text, got {type(text).__name__}")
    text = LATEX_DROP.sub(" ", text).replace("&", " ")
    return [part for line in text.split("\n") for part in line.split("\\\\")]


def _segments(text):
    """[(source line, lhs text or None, rhs text)] in the order written."""
    out = []
    for number, raw in enumerate(_clean(text), 1):
        line = raw.strip()
        if not line or line[0] in "#%":
            continue
        parts = [p.strip() for p in line.split("=")]
        if len(parts) == 1:
            if not out:
                raise ClaimError(f"line {number}: the chain starts without '=' (write "
                                 "'dJ/dW_L = …')")
            lineno, lhs, rhs = out[-1]
            out[-1] = (lineno, lhs, f"{rhs} {parts[0]}")
            continue
        lhs = parts[0] or None
        if lhs is None and not out:
            raise ClaimError(f"line {number}: the chain starts with '=': name the quantity "
                             "first ('dJ/dW_L = …')")
        for k, rhs in enumerate(parts[1:]):
            if not rhs:
                raise ClaimError(f"line {number}: nothing after '='")
            out.append((number, lhs if k == 0 else None, rhs))
    if not out:
        raise ClaimError("the chain is empty: write lines 'dJ/dW_L = …' and '= …'")
    if len(out) > MAX_STEPS:
        raise ClaimError(f"the chain has {len(out)} steps; at most {MAX_STEPS}")
    return out


def read_target(text, notation="hz"):
    """(kind, layer spec) of a left-hand side: ``dJ/dW_{L-1}``, ``∂J/∂b_2``,
    ``\\frac{\\partial J}{\\partial W_l}``, ``delta_L``, ``dJ/dh_l`` (= δ_l),
    ``dJ/dz_l``."""
    kind, spec, _ = read_target_tree(text, notation)
    return kind, spec


def read_target_tree(text, notation="hz"):
    """(kind, layer spec, tree) of a left-hand side (see `read_target`)."""
    tree = ChainParser(text, notation).parse()
    if tree[0] == "var" and tree[1] == "delta":
        return "delta", tree[2], tree
    if tree[0] == "jac" and tree[1][0] == "loss" and tree[2][1] in TARGETS:
        return TARGETS[tree[2][1]], tree[2][2], tree
    raise ClaimError(f"left-hand side {text!r}: expected dJ/dW_l, dJ/db_l, dJ/dh_l, "
                     "dJ/dz_l, dJ/dgamma_l, dJ/dbeta_l or delta_l", column=1)


def read_chain(text, notation="hz"):
    """The steps of a chain, each parsed (a `ClaimError` names the line and column)."""
    steps, param, lhs_text, lhs_tree = [], None, None, None
    for number, lhs, rhs in _segments(text):
        if lhs is not None:
            try:
                *param, lhs_tree = read_target_tree(lhs, notation)
                param, lhs_text = tuple(param), lhs
            except ClaimError as exc:
                raise ClaimError(f"line {number}: {exc}") from None
        parser = ChainParser(rhs, notation)
        try:
            tree = parser.parse()
        except ClaimError as exc:
            raise ClaimError(f"line {number}: {exc}") from None
        steps.append(Step(len(steps), param, lhs_text, rhs, tree, parser.spans, number,
                          lhs_tree))
    return steps
