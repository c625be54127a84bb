"""A SymPy `LatexPrinter` that prints our derivation nodes in a chosen notation.

>>> from derive.ir.nodes import Var, Act
>>> h2 = Var("h", 2, 3, 1)
>>> latex(Act("sigmoid", h2, 1))
"\\\\sigma'(\\\\mathbf{h}_{2})"
>>> latex(Act("sigmoid", h2, 1), "za")
"\\\\sigma'(\\\\mathbf{z}^{2})"
"""
from sympy import Abs, Add, Basic, Indexed, KroneckerDelta, Mul, Rational, Sum, Symbol, Transpose, sstr
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul
from sympy.printing.latex import LatexPrinter

from ..ir.nodes import MatPartial, Var
from ..ir.quantities import KINDS, letter
from ..vocab import DATA_LOSS, DEPTH, ETA, LAYER, LOSS, WIDTH
from . import notation as _notation
from .group_forms import GroupLatex
from .human_forms import humanize
from .penalty_latex import PenaltyLatex, is_penalty
from .shape_latex import ShapeLatex

VECTOR_KINDS = tuple(name for name, row in KINDS.items() if row.bold)
#: elementary functions printed name(arg) in human forms (SymPy braces the argument)
HUMAN_CALLS = ("tanh", "log")
_N = Symbol("N")


#: the indicator's letter per output: KaTeX has no blackboard-bold digits (it draws
#: ``\mathbb{1}`` as a plain 1), so Markdown gets the double-struck I both renderers have
INDICATOR = {"latex": r"\mathbb{1}", "markdown": r"\mathbb{I}"}


class NotesLatexPrinter(GroupLatex, ShapeLatex, PenaltyLatex, LatexPrinter):
    """Prints Var, Act, Partial, MatPartial, Jacobian, Times and the matrix algebra
    (⊙, ⊘, ᵀ, 1, diag) the way lecture notes write them."""

    printmethod = "_notes_latex"
    _default_settings = dict(LatexPrinter._default_settings, notation=None, depth=None,
                             indicator=INDICATOR["latex"], order="none",
                             mat_str="bmatrix", mat_delim="", human=False, shapes=False)

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings["notation"] = _notation.get(settings.get("notation") or "hz")
        super().__init__(settings)
        self.nt = self._settings["notation"]
        self.depth = self._settings["depth"]
        self.human = self._settings["human"]

    def doprint(self, expr):
        """The LaTeX of ``expr``; with the ``human`` setting in its human form first
        (`derive.printing.human_forms.humanize`)."""
        return super().doprint(humanize(expr) if self.human else expr)

    # -- layers and symbols ------------------------------------------------------------
    def _is_output(self, layer):
        return layer == DEPTH or (self.depth is not None and layer == self.depth)

    def layer_tex(self, layer):
        """The printed layer index (gh names the output layer F and L−1 … as N …)."""
        nt = self.nt
        if nt.output_name:
            if self._is_output(layer):
                return nt.output_name
            if isinstance(layer, Basic) and DEPTH in layer.free_symbols:
                layer = layer.xreplace({DEPTH: _N + 1})
        if self.nt.general != "l" and isinstance(layer, Basic):
            layer = layer.xreplace({LAYER: Symbol(self.nt.general)})
        return sstr(layer).replace(" ", "")

    def _letter(self, kind):
        return letter(kind, self.nt)    # the quantity table's field or fixed letter

    def _attach(self, base, layer, extra=""):
        """base with the layer index (and component indices ``extra``) attached."""
        if self.nt.script == "super":
            sub = "_{" + extra + "}" if extra else ""
            return f"{base}^{{{layer}}}{sub}"
        if extra:
            return f"{base}_{{{layer},{extra}}}"
        return f"{base}_{{{layer}}}"

    def _special(self, kind, layer, bold):
        """Symbols that carry no layer index: the input, the output f, the target."""
        nt = self.nt
        if kind == "y":
            return self._bold(nt.target) if bold else nt.target, True
        if kind == "z" and layer == 0 and nt.input:
            return self._bold(nt.input) if bold else nt.input, True
        if kind == "z" and nt.output_post and self._is_output(layer):
            return self._bold(nt.output_post) if bold else nt.output_post, True
        return None, False

    @staticmethod
    def _bold(letter):
        if letter.startswith("{") and letter.endswith("{}}"):   # grouped by check_symbol
            return "{" + NotesLatexPrinter._bold(letter[1:-3]) + "{}}"
        if letter.startswith("\\") and not letter.startswith(("\\mathrm", "\\mathcal",
                                                              "\\hat", "\\tilde", "\\bar")):
            return r"\boldsymbol{" + letter + "}"
        if letter.startswith(("\\hat", "\\tilde", "\\bar")):
            return r"\boldsymbol{" + letter + "}"
        return r"\mathbf{" + letter + "}"

    def var_tex(self, var, extra=None):
        """A layer quantity; with ``extra`` (a string of indices) one component of it."""
        kind, layer = var.kind, var.layer
        vector = kind in VECTOR_KINDS
        special, done = self._special(kind, layer, extra is None)
        if done:
            return special if extra is None else f"{special}_{{{extra}}}"
        letter = self._letter(kind)
        if kind in ("W", "Wbar") and self.nt.pair_weights:
            lo = self.layer_tex(layer - 1)
            hi = self.layer_tex(layer)
            sep = "" if len(lo) == 1 and len(hi) == 1 else ","
            name = f"{letter}_{{{lo}{sep}{hi}}}"
            return name if extra is None else f"({name})_{{{extra}}}"
        lay = self.layer_tex(layer)
        if extra is None:
            return self._attach(self._bold(letter) if vector else letter, lay)
        if self.nt.script == "sub" and not vector:
            return f"({letter}_{{{lay}}})_{{{extra}}}"
        return self._attach(letter, lay, extra)

    def scalar_tex(self, var):
        """A 1 × 1 layer quantity written as a number (003's one-node chains): no bold,
        and a one-letter capital weight letter in lower case (w_{23})."""
        special, done = self._special(var.kind, var.layer, False)
        if done:
            return special
        letter = self._letter(var.kind)
        if var.kind == "W" and len(letter) == 1 and letter.isupper():
            letter = letter.lower()
        if var.kind == "W" and self.nt.pair_weights:
            lo, hi = self.layer_tex(var.layer - 1), self.layer_tex(var.layer)
            sep = "" if len(lo) == 1 and len(hi) == 1 else ","
            return f"{letter}_{{{lo}{sep}{hi}}}"
        return self._attach(letter, self.layer_tex(var.layer))

    def _print_Var(self, expr):
        return self.var_tex(expr)

    def _print_Indexed(self, expr):
        label = expr.base.label
        idx = [self._print(i) for i in expr.indices]
        joined = "".join(idx) if all(len(i) == 1 for i in idx) else ",".join(idx)
        if label == WIDTH.label:
            return f"{self.nt.width}_{{{self.layer_tex(expr.indices[0])}}}"
        if isinstance(label, Var):
            return self.var_tex(label, joined)
        return super()._print_Indexed(expr)

    # -- activations ---------------------------------------------------------------------
    def _act(self, name, order, arg_tex):
        return f"{_notation.act_latex(name)}{chr(39) * order}({arg_tex})"

    def _print_Act(self, expr):
        return self._act(expr.name, expr.order, self._print(expr.arg))

    def _print_Function(self, expr, exp=None):
        cls = type(expr)
        if hasattr(cls, "rule_name"):
            text = self._act(cls.rule_name, cls.order, self._print(expr.args[0]))
            return text if exp is None else rf"\left({text}\right)^{{{exp}}}"
        if self.human and type(expr).__name__ in HUMAN_CALLS:
            return self._call(expr, exp)
        return super()._print_Function(expr, exp)

    def _call(self, expr, exp=None):
        """tanh(x), log(1 + e^x): an elementary function as a person writes it."""
        name = _notation.act_latex(type(expr).__name__)
        power = "" if exp is None else f"^{{{exp}}}"
        return rf"{name}{power}\left({self._print(expr.args[0])}\right)"

    def _print_log(self, expr, exp=None):
        if self.human and len(expr.args) == 1:
            return self._call(expr, exp)
        return super()._print_log(expr, exp)

    def _print_Heaviside(self, expr, exp=None):
        if not self.human:
            return super()._print_Heaviside(expr, exp)
        text = rf"{_notation.act_latex('heaviside')}({self._print(expr.args[0])})"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _print_KroneckerDelta(self, expr, exp=None):
        i, j = (self._print(a) for a in expr.args)
        text = rf"{self._settings['indicator']}[{i}={j}]"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    # -- derivatives ---------------------------------------------------------------------
    def _frac(self, num, wrt):
        return rf"\frac{{\partial {num}}}{{\partial {wrt}}}"

    def _print_Partial(self, expr):
        return self._frac(self._print(expr.num), self._print(expr.wrt))

    def _print_MatPartial(self, expr):
        text = self._frac(self._print(expr.num), self._print(expr.wrt))
        if self.nt.layout == "numerator" and expr.wrt.shape[1] == 1:
            return rf"\left({text}\right)^{{\top}}"
        return text

    def _print_Jacobian(self, expr):
        return self._frac(self._print(expr.num), self._print(expr.wrt))

    def _print_Symbol(self, expr, style="plain"):
        if expr == LOSS:
            return self.nt.loss
        if expr == DATA_LOSS:
            return self.data_loss_tex()
        if expr == ETA:
            return self.nt.rate
        return super()._print_Symbol(expr, style)

    # -- algebra -------------------------------------------------------------------------
    def _print_Times(self, expr):
        return r" \cdot ".join(rf"\left({self._print(f)}\right)" for f in expr.args)

    @staticmethod
    def _negative(term):
        coeff = term.as_coeff_mmul()[0] if term.is_Matrix else term.as_coeff_Mul()[0]
        if coeff.is_number:
            return bool(coeff.is_extended_negative)
        return coeff.could_extract_minus_sign()

    def _signed_sum(self, terms):
        terms = [t for t in terms if not self._negative(t) and not t.is_number] + \
                [t for t in terms if not self._negative(t) and t.is_number] + \
                [t for t in terms if self._negative(t)]
        out = ""
        for k, term in enumerate(terms):
            if self._negative(term):
                out += " - " + self._term(self._negate(term))
            else:
                out += (" + " if k else "") + self._term(term)
        return out.lstrip(" ") if not out.startswith(" - ") else "-" + out[3:]

    def _negate(self, term):
        """-term; in human forms without ``doit`` (which would undo them)."""
        if not (self.human and isinstance(term, MatMul)):
            return -term
        coeff, rest = term.as_coeff_mmul()
        factors = list(rest.args)
        if coeff == -1:
            return factors[0] if len(factors) == 1 else MatMul(*factors)
        return MatMul(-coeff, *factors)

    def _term(self, term):
        text = self._print(term)
        if isinstance(term, Add) or getattr(term, "is_MatAdd", False):
            return rf"\left({text}\right)"
        return text

    def _print_Mul(self, expr):
        if is_penalty(expr):
            return self.penalty_tex(expr)

        def rank(f):
            if f.is_number:
                return 0
            if isinstance(f, KroneckerDelta):
                return 1
            if isinstance(f, Indexed) and isinstance(f.base.label, Var):
                return {"W": 2, "Wbar": 2, "delta": 3}.get(f.base.label.kind, 5)
            return 4 if f.__class__.__name__ == "Partial" else 6
        args = sorted(expr.args, key=rank)
        if not expr.is_Mul or args == list(expr.args) or any(a.is_Pow for a in args):
            return super()._print_Mul(expr)
        return super()._print_Mul(Mul(*args, evaluate=False))

    def _print_Add(self, expr, order=None):
        return self._signed_sum(list(expr.args))

    def _print_MatAdd(self, expr):
        coeffs = [t.as_coeff_mmul()[0] for t in expr.args]
        c = Abs(coeffs[0])
        if c.is_number and c not in (0, 1) and all(Abs(k) == c for k in coeffs):
            inner = MatAdd(*[t / c for t in expr.args])
            return rf"{self._print(c)} \left({self._signed_sum(list(inner.args))}\right)"
        return self._signed_sum(list(expr.args))

    def _wrap(self, arg):
        text = self._print(arg)
        if isinstance(arg, (MatAdd, MatMul, HadamardProduct)):
            return rf"\left({text}\right)"
        return text

    def _print_MatMul(self, expr):
        coeff, rest = expr.as_coeff_mmul()
        factors = list(rest.args) if hasattr(rest, "args") and rest.is_MatMul else [rest]
        wrapped = (MatAdd, HadamardProduct) if len(factors) > 1 else (MatAdd,)
        parts = [rf"\left({self._print(f)}\right)" if isinstance(f, wrapped) or
                 (len(factors) > 1 and isinstance(f, HadamardPower) and f.exp < 0) or
                 (f.is_Add if hasattr(f, "is_Add") else False) else self._print(f)
                 for f in factors]
        parts = [r"\mathbf{1} \mathbf{1}^{\top}" if _ones_block(f) else self.shaped(f, p)
                 for f, p in zip(factors, parts)]     # a block of ones spreads a sum back
        body = " ".join(parts)
        if coeff == 1:
            return body
        if coeff == -1:
            return "-" + body
        ctext = self._print(coeff)
        if isinstance(coeff, Add):
            ctext = rf"\left({ctext}\right)"
        return f"{ctext} {body}"

    def _print_HadamardProduct(self, expr):
        num = [a for a in expr.args if not (isinstance(a, HadamardPower) and a.exp == -1)]
        den = [a.base for a in expr.args if isinstance(a, HadamardPower) and a.exp == -1]
        top = r" \odot ".join(self.shaped(a, self._wrap(a)) for a in num) if num else r"\mathbf{1}"
        if not den:
            return top
        bottom = r" \odot ".join(self._wrap(a) for a in den)
        if len(num) > 1:
            top = rf"\left({top}\right)"
        if len(den) > 1:
            bottom = rf"\left({bottom}\right)"
        return rf"{top} \oslash {bottom}"

    def _print_HadamardPower(self, expr):
        if expr.exp == -1:
            return rf"\mathbf{{1}} \oslash {self._wrap(expr.base)}"
        if expr.exp in (Rational(1, 2), Rational(-1, 2)):     # an entrywise square root
            root = rf"\sqrt{{{self._print(expr.base)}}}"
            return root if expr.exp > 0 else rf"\mathbf{{1}} \oslash {root}"
        return rf"{self._wrap_sup(expr.base)}^{{\circ {self._print(expr.exp)}}}"

    def _wrap_sup(self, arg):
        text = self._wrap(arg)
        if isinstance(arg, Var) and (self.nt.script == "super" or
                                     (self.nt.output_post and self._is_output(arg.layer))):
            return rf"\left({text}\right)"
        return text if not isinstance(arg, Var) or "^" not in text else rf"\left({text}\right)"

    def _print_Transpose(self, expr):
        arg = expr.arg
        if isinstance(arg, MatPartial) and self.nt.layout == "numerator" and arg.wrt.shape[1] == 1:
            return self._frac(self._print(arg.num), self._print(arg.wrt))   # a row
        if isinstance(arg, Transpose) and isinstance(arg.arg, MatPartial) and \
                arg.arg.wrt.shape[1] != 1:     # a batch's rows transposed back: the columns
            return self._print(arg.arg)
        if isinstance(arg, MatPartial) or (isinstance(arg, Transpose)
                                           and isinstance(arg.arg, MatPartial)):
            return rf"\left({self._print(arg)}\right)^{{\top}}"
        return rf"{self._wrap_sup(arg)}^{{\top}}"

    def _print_Pow(self, expr):
        if expr.exp == -1 and isinstance(expr.base, Indexed):     # 1/n_l as a fraction
            return rf"\frac{{1}}{{{self._print(expr.base)}}}"
        if isinstance(expr.base, Indexed) or getattr(expr.base, "rule_name", None):
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Sum(self, expr):
        layers = self.layer_sum_tex(expr)
        if layers is not None:
            return layers
        if expr.function.could_extract_minus_sign():
            return "-" + super()._print_Sum(Sum(-expr.function, *expr.limits))
        return super()._print_Sum(expr)

    def _print_OneMatrix(self, expr):
        """A ones vector: 1 as a column (or a full block of ones), 1ᵀ as a row."""
        rows, cols = expr.shape
        if rows == 1 and cols != 1:
            return r"\mathbf{1}^{\top}"
        return r"\mathbf{1}"

    def _print_Identity(self, expr):
        """The 1 × 1 identity (SymPy's form of a 1 × 1 block of ones) is a ones entry."""
        return r"\mathbf{1}" if expr.shape == (1, 1) else super()._print_Identity(expr)

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _print_ElementwiseApplyFunction(self, expr):
        return rf"{self._print(expr.function)}\left({self._print(expr.expr)}\right)"


def _ones_block(f):
    """A factor that is a square or wide block of ones (1 1ᵀ, as SymPy merges it)."""
    return getattr(f, "is_Matrix", False) and type(f).__name__ == "OneMatrix" and \
        all(d != 1 for d in f.shape)


def latex(expr, notation="hz", depth=None, **settings):
    """Print ``expr`` in ``notation``; ``depth`` is the concrete output layer if any."""
    return NotesLatexPrinter(dict(settings, notation=notation, depth=depth)).doprint(expr)


def equation(lhs, rhs, notation="hz", depth=None):
    return latex(lhs, notation, depth) + " = " + latex(rhs, notation, depth)
