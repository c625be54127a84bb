r"""A chain step's tree back to text in the student's own syntax (SPEC §3b).

A repair rewrites a few nodes of the tree a student wrote; `Spelling` prints the new
tree so that every node the student wrote keeps its own text (found by identity in the
parser's spans) and only the new nodes are printed, in the student's style: LaTeX or
plain, their transpose (``^T``, ``^\top``, ``ᵀ``, ``.T``), their Hadamard product (``⊙``,
``\odot``, ``.*``), their σ and δ, and the letters of their notation.

>>> from derive.claims.chain_read import read_chain
>>> s = read_chain(r"dJ/dW_L = (\mathbf{z}_L - \mathbf{y}) \mathbf{z}_{L-1}")[0]
>>> new = ("matmul", s.tree[1], ("T", s.tree[2]))
>>> Spelling(s).text(new)
'(\\mathbf{z}_L - \\mathbf{y}) \\mathbf{z}_{L-1}^\\top'
>>> Spelling(read_chain("delta_2 = W_3^T delta_3")[0]).text(("var", "delta", (None, 2)))
'delta_2'
"""
import re

from sympy import Rational

from .grammar import NAMES

ATOMS = ("var", "num", "batch", "width", "const", "call", "jac", "loss")
PRODUCTS = ("matmul", "had", "times", "div")
#: the spellings a student may use, most specific first: (text marker, spelling)
TRANSPOSES = (("^{\\top}", "^{\\top}"), ("^\\top", "^\\top"), ("^{T}", "^{T}"),
              ("ᵀ", "ᵀ"), (".T", ".T"), ("^T", "^T"))
HADAMARDS = (("\\odot", " \\odot "), ("⊙", " ⊙ "), (".*", " .* "), ("∘", " ∘ "),
             ("\\circ", " \\circ "))
SIGMAS = (("\\sigma", "\\sigma"), ("σ", "σ"), ("sigma", "sigma"))
DELTAS = (("\\delta", "\\delta"), ("\\boldsymbol{\\delta}", "\\delta"), ("δ", "δ"),
          ("delta", "delta"))


def _pick(text, table, default):
    for marker, spelling in table:
        if marker in text:
            return spelling
    return default


class Spelling:
    """Prints trees in the style of one step's text (``step.text``, ``step.spans``)."""

    def __init__(self, step, notation="hz", style_text=None):
        self.source, self.spans = step.text, step.spans
        text = style_text if style_text is not None else step.text
        self.latex = "\\" in text
        self.T = _pick(text, TRANSPOSES, "^\\top" if self.latex else "^T")
        self.had = _pick(text, HADAMARDS, " \\odot " if self.latex else " ⊙ ")
        self.sigma = _pick(text, SIGMAS, "\\sigma" if self.latex else "σ")
        self.delta = _pick(text, DELTAS, "\\delta" if self.latex else "δ")
        self.letters = {kind: letter for letter, (kind, fixed) in NAMES[notation].items()
                        if fixed is None}
        self.letters.setdefault("delta", self.delta)
        self.own = {}     # id(new node) -> its text, for nodes respelled from the student's

    def respell(self, old, new):
        """``new`` (a var) spelled like the student's ``old`` var: the letter and the
        layer replaced in their text (``\\mathbf{z}_{L-1}`` -> ``\\mathbf{h}_{L-1}``)."""
        text = self.original(old)
        if text is not None and old[0] == new[0] == "var":
            if old[1] != new[1] and old[1] in self.letters and new[1] in self.letters:
                letter = re.escape(self.letters[old[1]])
                text = re.sub(rf"(?<![A-Za-z\\]){letter}(?![A-Za-z])",
                              self.letters[new[1]].replace("\\", "\\\\"), text, count=1)
            marks = [m for m in re.finditer(r"([_^])(\{\(?[^{}]*\)?\}|\w)", text)
                     if re.search(r"[Ll0-9]", m.group(2))]     # a layer, not ^T
            if old[2] != new[2] and marks:
                last = marks[-1]
                text = (text[:last.start()] + last.group(1) + self.layer(new[2])
                        + text[last.end():])
            self.own[id(new)] = text
        return new

    def original(self, node):
        if id(node) in self.own:
            return self.own[id(node)]
        span = self.spans.get(id(node))
        return None if span is None else self.source[span[0]:span[1]]

    def text(self, node):
        """The text of a tree: the student's own where a node is theirs."""
        own = self.original(node)
        if own is not None:
            return own
        return getattr(self, "p_" + node[0])(node)

    def wrapped(self, node, allow=()):
        """The node's text, bracketed unless it is atomic (or of an ``allow``ed kind)."""
        text = self.text(node)
        if node[0] in ATOMS + allow or (node[0] == "T" and node[1][0] in ATOMS) or \
                (text.startswith("(") and text.endswith(")") and _balanced(text[1:-1])):
            if node[0] == "num" and Rational(node[1]).q != 1:
                return self.paren(text)
            return text
        return self.paren(text)

    def paren(self, text):
        return f"\\left({text}\\right)" if self.latex and "\\left" in self.source \
            else f"({text})"

    def layer(self, spec):
        base, off = spec
        text = str(off) if base is None else base + (f"{off:+d}" if off else "")
        return text if len(text) == 1 else "{" + text + "}"

    # -- nodes ---------------------------------------------------------------------------
    def p_var(self, node):
        kind, spec = node[1], node[2]
        if kind == "y":
            return "y"
        if kind == "z" and spec == (None, 0):
            return "x"
        letter = self.letters.get(kind, kind)
        return f"{letter}_{self.layer(spec)}"

    def p_num(self, node):
        value = Rational(node[1])
        if value.q == 1:
            return str(value)
        return f"\\frac{{{value.p}}}{{{value.q}}}" if self.latex else f"{value.p}/{value.q}"

    def p_batch(self, node):
        return "m"

    def p_width(self, node):
        return f"n_{self.layer(node[1])}"

    def p_const(self, node):
        return f"\\{node[1]}" if self.latex else node[1]

    def p_loss(self, node):
        return node[1]

    def p_jac(self, node):
        num, wrt = self.text(node[1]), self.text(node[2])
        if self.latex:
            return f"\\frac{{\\partial {num}}}{{\\partial {wrt}}}"
        return f"d{num}/d{wrt}"

    def p_T(self, node):
        return self.wrapped(node[1]) + self.T

    def p_neg(self, node):
        return "-" + self.wrapped(node[1], PRODUCTS)

    def p_add(self, node):
        return f"{_bare(self.text(node[1]))} + {self.wrapped(node[2], PRODUCTS)}"

    def p_sub(self, node):
        return f"{_bare(self.text(node[1]))} - {self.wrapped(node[2], PRODUCTS)}"

    def _product(self, node, op):
        left = self.wrapped(node[1], (node[0],))
        return f"{left}{op}{self.wrapped(node[2])}"

    def p_matmul(self, node):
        if node[1][0] == "num" and node[2][0] == "matmul":   # 2 (z - y) xᵀ: a scalar leads
            return f"{self.wrapped(node[1])} {self.text(node[2])}"
        return self._product(node, " ")

    def p_had(self, node):
        return self._product(node, self.had)

    def p_times(self, node):
        return self._product(node, " * ")

    def p_div(self, node):
        if self.latex:
            return f"\\frac{{{self.text(node[1])}}}{{{self.text(node[2])}}}"
        return self._product(node, " / ")

    def p_pow(self, node):
        return f"{self.wrapped(node[1])}^{{{node[2]}}}"

    def p_epow(self, node):
        return f"{self.wrapped(node[1])}^{{\\circ {node[2]}}}" if self.latex else \
            f"{self.wrapped(node[1])}.^{node[2]}"

    def p_call(self, node):
        name, order, arg = node[1], node[2], node[3]
        if name in ("sigma", "phi", "varphi"):
            name = self.sigma
        elif self.latex and name in ("exp", "log", "tanh"):
            name = "\\" + name
        elif self.latex:
            name = f"\\operatorname{{{name}}}"
        inner = self.text(arg)
        if inner.startswith("(") and inner.endswith(")") and _balanced(inner[1:-1]):
            inner = inner[1:-1]
        return f"{name}{chr(39) * order}({inner})"


def _bare(text):
    """A sum's first term without the brackets it needs no more: (W^T δ) + … → W^T δ + …"""
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        return text[1:-1]
    return text


def _balanced(text):
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0
