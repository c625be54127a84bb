"""Notation presets for the lecture-note renderers, and user overrides.

A `Notation` says which letter each layer quantity gets, whether the layer index is a
subscript or a superscript, how the layers are named (002 calls the output layer F,
003 names a weight matrix by the pair of layers it joins) and which layout is the
default for derivatives with respect to vectors.

Presets (SPEC §4): ``hz`` (default, like the Q&A thread 000), ``gh`` (002: superscript
layers, output weights W^F and output f, loss L, row-vector derivatives), ``pq`` (003:
p/q, W_{ij} from layer i to j, cost C, σ_0 applied to the input) and ``za`` (z pre,
a post, superscripts: the "four fundamental equations" style).

The Kronecker delta is printed as an indicator, ``\\mathbb{1}[i=k]``, in every preset.
The backprop error δ_l appears with component indices (δ_{2,k}, δ^{2}_{k}), so a
Kronecker δ_{ik} next to it reads like a component of a backprop δ; renaming the
backprop δ instead would break with every textbook. The indicator is unambiguous,
renders in KaTeX, MathJax and pdflatex (amssymb), and says in the formula what the
symbol does.

User overrides are a dict from a field name (``pre``, ``post``, ``weight``, ``bias``,
``loss``, ``delta``, ``target``, ``input``, ``width``, ``rate``) to a LaTeX symbol.
Values are checked against a whitelist (letters, digits, Greek letters and a few
accent/font commands, balanced braces) so they cannot break the document; anything
else raises `derive.SpecError` naming the key.

>>> get("gh").loss
'L'
>>> get({"preset": "hz", "loss": r"\\mathcal{L}"}).loss
'\\\\mathcal{L}'
>>> get({"loss": "}"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derive.errors.SpecError: notation override 'loss': '}' is not a safe LaTeX symbol (use letters, ...)
"""
import re
from dataclasses import dataclass, replace

from ..errors import SpecError

LAYOUTS = ("numerator", "denominator")


@dataclass(frozen=True)
class Notation:
    name: str
    pre: str = "h"
    post: str = "z"
    weight: str = "W"
    bias: str = "b"
    loss: str = "J"
    delta: str = r"\delta"
    target: str = "y"
    input: str = "x"            # z_0 printed as this letter, or "" for post letter + layer 0
    width: str = "n"
    rate: str = r"\eta"
    script: str = "sub"         # "sub" or "super": where the layer index goes
    output_name: str = ""       # gh: the output layer is called F
    output_post: str = ""       # gh: the network output f (no layer index)
    pair_weights: bool = False  # pq: W_{ij} takes layer i to layer j
    sigma0: bool = False        # pq: the input is q_0 = σ_0(p_0)
    layout: str = "denominator"
    title: str = ""
    general: str = "l"          # the letter of a general layer (002 writes n)
    activated: str = "a"        # σ(ĥ_l) before a dropout mask or a residual add

    @property
    def symbols(self):
        return {f: getattr(self, f) for f in FIELDS}


FIELDS = ("pre", "post", "weight", "bias", "loss", "delta", "target", "input", "width",
          "rate")

PRESETS = {
    "hz": Notation("hz", title="h pre-activation, z post-activation, as in the question-and-answer thread"),
    "gh": Notation("gh", pre="g", post="h", loss="L", input="", width="D",
                   script="super", output_name="F", output_post="f", layout="numerator",
                   general="n",
                   title="g pre-activation, h post-activation, a separate output layer F"),
    "pq": Notation("pq", pre="p", post="q", loss="C", input="", pair_weights=True,
                   sigma0=True, title="p pre-activation, q post-activation, weights named by "
                   "the two layers they join"),
    "za": Notation("za", pre="z", post="a", loss="C", script="super", activated="u",
                   title="z pre-activation, a post-activation, as in the four fundamental equations"),
}

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell",
}
_FONTS = {"mathrm", "mathcal", "mathit", "mathsf"}
_WRAPS = _FONTS | {"hat", "tilde", "bar", "check", "breve"}
_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]|[{}_^' ]")


class _Symbol:
    """A recursive check of the small LaTeX grammar a symbol may use::

        symbol := item+                   (spaces between tokens are ignored)
        item   := base ("'"+ ("_" arg)? | ("_" arg)? ("^" arg)? | ("^" arg)? ("_" arg)?)
        base   := arg | \\mathrm{symbol} | \\hat arg | … (the commands in _WRAPS;
                  no accent inside an accent's argument)
        arg    := letter | digit | \\alpha … (_GREEK) | "{" symbol "}"

    so a symbol can never end a group or a math formula early, leave a script without
    its argument, stack two subscripts, or spell a character code (``^^5c``).

    TeX unwraps a group that holds one accent (``{\\hat a'}``), so scripts after it
    would stack on the accent's own: `text` adds ``{}`` before the closing brace of a
    group or font argument that takes scripts (``{\\hat a'{}}'``), which stops that.
    """

    def __init__(self, value):
        self.value, self.tokens, pos = value, [], 0
        for match in _TOKEN.finditer(value):
            if match.start() != pos:
                break
            pos = match.end()
            if match.group() != " ":
                self.tokens.append((match.group(), match.start()))
        self.ok = pos == len(value)
        self.i = 0
        self.inserts = []     # positions of closing braces that get a {} before them
        self.accents = 0      # accents open around the current token

    def peek(self):
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def symbol(self):
        items = 0
        while self.peek() not in (None, "}"):
            self.item()
            items += 1
        if not items:
            raise ValueError("empty")

    def item(self):
        close = self.base()
        if close is not None and self.peek() in ("'", "_", "^"):
            self.inserts.append(close)
        scripts = set()
        while self.peek() == "'":       # a prime is a superscript: x'_1 is fine, x'^2 not
            self.i += 1
            scripts = {"^"}
        while self.peek() in ("_", "^") and self.peek() not in scripts:
            scripts.add(self.peek())
            self.i += 1
            self.arg()

    def base(self):
        """The position of the closing brace of a group TeX might unwrap, or None."""
        tok = self.peek()
        if tok is not None and tok[1:] in _WRAPS and tok.startswith("\\"):
            self.i += 1
            if tok[1:] in _FONTS:
                return self.arg()
            if self.accents:          # amsmath breaks on \hat{\hat a \hat a}
                raise ValueError("an accent inside an accent")
            self.accents += 1
            self.arg()
            self.accents -= 1
            return None
        return self.arg()

    def arg(self):
        tok = self.peek()
        self.i += 1
        if tok is None:
            raise ValueError("missing argument")
        if tok == "{":
            self.symbol()
            if self.peek() != "}":
                raise ValueError("unbalanced")
            self.i += 1
            return self.tokens[self.i - 1][1]
        if not (tok.isalnum() or (tok.startswith("\\") and tok[1:] in _GREEK)):
            raise ValueError(f"unexpected {tok}")
        return None

    def text(self):
        """The symbol as it is safe to print, or None if it is not in the grammar."""
        if not self.ok:
            return None
        try:
            self.symbol()
        except ValueError:
            return None
        if self.i != len(self.tokens):
            return None
        out = self.value
        for pos in sorted(self.inserts, reverse=True):
            out = out[:pos] + "{}" + out[pos:]
        return out


def check_symbol(key, value):
    """Return ``value`` if it is a safe LaTeX symbol (see `_Symbol`), else raise
    SpecError naming key. A symbol with its own scripts or primes comes back as a group,
    ``{W_1{}}``, so the layer index the renderer attaches cannot make a double script
    (the empty ``{}`` stops TeX unwrapping a lone accent such as ``{\\hat a^2}``)."""
    hint = "use letters, digits, Greek letters, \\mathrm, \\mathcal, \\hat, …"
    text = _Symbol(value).text() if isinstance(value, str) and len(value) <= 40 else None
    if text is None or not text.strip():
        raise SpecError(f"notation override {key!r}: {value!r} is not a safe LaTeX "
                        f"symbol ({hint})")
    return "{" + text + "{}}" if any(c in text for c in "_^'") else text


def get(spec="hz", layout=None):
    """A `Notation` from a preset name, a `Notation`, or a dict of overrides.

    A dict may name its base preset under ``"preset"`` (default ``hz``) and may set
    ``"layout"``; every other key must be one of `FIELDS`.
    """
    if isinstance(spec, Notation):
        base = spec
    elif isinstance(spec, str):
        if spec not in PRESETS:
            raise SpecError(f"unknown notation {spec!r}; allowed: {', '.join(PRESETS)}")
        base = PRESETS[spec]
    elif isinstance(spec, dict):
        spec = dict(spec)
        base = get(spec.pop("preset", "hz"))
        changes = {}
        if "layout" in spec:
            changes["layout"] = _layout(spec.pop("layout"))
        for key, value in spec.items():
            if key not in FIELDS:
                raise SpecError(f"notation override {key!r} is not a symbol name; "
                                f"allowed: {', '.join(FIELDS)}, preset, layout")
            changes[key] = check_symbol(key, value)
        base = replace(base, name=base.name + "+", **changes)
    else:
        raise SpecError(f"notation must be a preset name ({', '.join(PRESETS)}) or a dict")
    if layout is not None:
        base = replace(base, layout=_layout(layout))
    return base


def _layout(value):
    if value not in LAYOUTS:
        raise SpecError(f"layout {value!r} is not allowed; allowed: {', '.join(LAYOUTS)}")
    return value


#: how activation names are printed (custom activations print as φ, defined in prose)
ACT_NAMES = {
    "sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{relu}",
    "leaky_relu": r"\operatorname{lrelu}", "softplus": r"\operatorname{softplus}",
    "softmax": r"\operatorname{softmax}", "identity": r"\operatorname{id}",
    "log": r"\log", "exp": r"\exp", "heaviside": r"\operatorname{H}", "input": r"\sigma_0",
}


def act_latex(name):
    if name.startswith("custom:"):
        return r"\varphi"
    return ACT_NAMES.get(name, r"\operatorname{" + re.sub(r"[^A-Za-z]", "", name) + "}")
