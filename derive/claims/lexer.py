"""The lexer of the claim syntax (SPEC §3): network claims and catalogue expressions
are split into tokens here. Nothing is ever evaluated.

A token is (type, value, column): NAME, NUM, OP (one of ``-+*/@^_'(){}[],;``; the
elementwise division ``⊘``, ``\\oslash``, ``./`` is the OP ``/``), MATMUL (``@``), HAD
(``⊙``, ``\\odot``, ``.*``), EPOW (the elementwise power ``.^``), POSTT (``ᵀ``, ``.T``),
TOP (``\\top``), NORM (``‖``, ``||``, ``\\|``), FRAC (``\\frac``), END; LaTeX wrappers
such as ``\\mathbf{z}`` and spacing commands are dropped (``\\mathbf{1}`` is the NUM 1).
``sqrt`` and ``\\sqrt`` are the NAME sqrt; an n-th root ``\\sqrt[n]{…}`` is an error.
"""
import re

from ..errors import ClaimError

MAX_LENGTH = 8000   # characters in a claim (a depth-3 normalized net's LaTeX forms: ~2000)
MAX_NESTING = 100   # nested brackets / operators
MAX_TREE_DEPTH = 250   # levels of the parse tree (a chain of n sums is n levels)
MAX_DIGITS = 12     # digits in a number (a layer index, a factor, an exponent)

WRAPPERS = r"mathbf|boldsymbol|bm|mathrm|mathit|vec|operatorname|text"
SKIP = re.compile(r"\s+|\\[,;:! ]|\\(?:left|right|big|Big|bigl|bigr|Bigl|Bigr)\b\.?")
TOKEN = re.compile(r"""
    (?P<WRAP>\\(?:%s)\s*\{\s*\\?(?P<inner>[A-Za-z]+(?:\\?_[A-Za-z]+)*)\s*\})
  | (?P<ONES>\\(?:%s)\s*\{\s*1\s*\})
  | (?P<ROOT>\\sqrt\s*\[)
  | (?P<NUM>\d+(?:\.\d+)?)
  | (?P<CMD>\\[A-Za-z]+)
  | (?P<DOTT>\.T(?![A-Za-z0-9_]))
  | (?P<HADDOT>\.\*)
  | (?P<DOTDIV>\./)
  | (?P<EPOW>\.\^)
  | (?P<NAME>leaky_relu|[A-Za-z]+)
  | (?P<NORM>\|\||\\\||‖)
  | (?P<OP>[-+*/@^_'(){}\[\],;])
  | (?P<UNI>[σδ⊙∘⊘ᵀ⊤·−′φγβελμ√])
""" % (WRAPPERS, WRAPPERS), re.VERBOSE)
COMMANDS = {"odot": ("HAD", "⊙"), "circ": ("HAD", "⊙"), "top": ("TOP", "T"),
            "intercal": ("TOP", "T"), "cdot": ("OP", "*"), "times": ("OP", "*"),
            "prime": ("OP", "'"), "frac": ("FRAC", "frac"), "sigma": ("NAME", "sigma"),
            "delta": ("NAME", "delta"), "exp": ("NAME", "exp"), "log": ("NAME", "log"),
            "ln": ("NAME", "log"), "tanh": ("NAME", "tanh"), "phi": ("NAME", "phi"),
            "varphi": ("NAME", "phi"), "lVert": ("NORM", "‖"), "rVert": ("NORM", "‖"),
            "Vert": ("NORM", "‖"), "tr": ("NAME", "tr"), "det": ("NAME", "det"),
            "partial": ("NAME", "d"),
            "gamma": ("NAME", "gamma"), "beta": ("NAME", "beta"), "lambda": ("NAME", "lambda"),
            "epsilon": ("NAME", "epsilon"), "varepsilon": ("NAME", "epsilon"),
            "mu": ("NAME", "mu"), "sqrt": ("NAME", "sqrt"), "oslash": ("OP", "/")}
UNICODE = {"σ": ("NAME", "sigma"), "δ": ("NAME", "delta"), "φ": ("NAME", "phi"),
           "⊙": ("HAD", "⊙"), "∘": ("HAD", "⊙"), "ᵀ": ("POSTT", "T"), "⊤": ("TOP", "T"),
           "·": ("OP", "*"), "−": ("OP", "-"), "′": ("OP", "'"), "γ": ("NAME", "gamma"),
           "β": ("NAME", "beta"), "ε": ("NAME", "epsilon"), "λ": ("NAME", "lambda"),
           "μ": ("NAME", "mu"), "⊘": ("OP", "/"), "√": ("NAME", "sqrt")}


def tokenize(text):
    """[(type, value, column)] for a claim; column is 1-based. Ends with an END token.

    >>> [t[1] for t in tokenize("W_3.T @ delta_3")]
    ['W', '_', '3', 'T', '@', 'delta', '_', '3', '']
    """
    if not isinstance(text, str):
        raise ClaimError(f"a claim must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ClaimError(f"claim too long: {len(text)} characters, at most {MAX_LENGTH}",
                         column=MAX_LENGTH + 1)
    tokens, pos = [], 0
    while pos < len(text):
        skip = SKIP.match(text, pos)
        if skip and skip.end() > pos:
            pos = skip.end()
            continue
        match = TOKEN.match(text, pos)
        if not match:
            raise ClaimError(f"unexpected character {text[pos]!r}; expected a name, a "
                             "number, an operator or a bracket", column=pos + 1)
        kind, value, col = match.lastgroup, match.group(), pos + 1
        if match.group("WRAP"):
            kind, value = "NAME", match.group("inner").replace("\\", "")   # leaky\_relu
        elif kind == "ONES":
            kind, value = "NUM", "1"
        elif kind == "ROOT":
            raise ClaimError("\\sqrt[n]{…}: only the square root \\sqrt{…} is allowed",
                             column=col)
        elif kind == "DOTDIV":
            kind, value = "OP", "/"
        elif kind == "CMD":
            if value[1:] not in COMMANDS:
                raise ClaimError(f"unknown command {value}", column=col)
            kind, value = COMMANDS[value[1:]]
        elif kind == "UNI":
            kind, value = UNICODE[value]
        elif kind == "DOTT":
            kind, value = "POSTT", "T"
        elif kind == "HADDOT":
            kind, value = "HAD", "⊙"
        elif kind == "NORM":
            value = "‖"
        elif kind == "NUM" and len(value) > MAX_DIGITS:
            raise ClaimError(f"number too long: {len(value)} digits, at most {MAX_DIGITS}",
                             column=col)
        if kind == "OP" and value == "@":
            kind = "MATMUL"
        tokens.append((kind, value, col))
        pos = match.end()
    tokens.append(("END", "", len(text) + 1))
    return tokens
