"""A NumPy printer for the engine's matrix expressions (whole-array code).

`ArrayPrinter` subclasses SymPy's `NumPyPrinter`: layer quantities print as variable
names (``W2``, ``z1``, ``delta2``), ``MatMul`` as ``@``, ``Transpose`` as ``.T``,
``HadamardProduct`` as ``*``, a ones matrix as a broadcast or a column/row sum, and an
activation σ or σ' as the scalar expression of its rule row (σ' in terms of the stored
output where the row gives that form) printed elementwise. Columns are samples, so an
expression derived for one sample column runs unchanged on an (n, m) array.

>>> from derive.ir.nodes import Var, Act
>>> ArrayPrinter().doprint(Act("tanh", Var("h", 1, 3, 1), 1))
'1 - z1**2'
"""
from sympy import Heaviside, S, Symbol
from sympy.matrices.expressions import (
    HadamardProduct,
    Identity,
    MatAdd,
    MatMul,
    OneMatrix,
    Transpose,
)
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.printing.numpy import NumPyPrinter

from ..errors import SpecError
from ..ir import quantities
from ..ir.nodes import Var
from ..spec import rules
from ..vocab import BATCH, EPSILON, LAMBDA, WIDTH

#: layer quantities whose columns are samples (the others are parameters)
PER_SAMPLE = quantities.PER_SAMPLE
#: the constants of the §1b options, as the keyword arguments of the generated functions
CONSTANTS = {EPSILON: "eps", LAMBDA: "weight_decay"}


class Code(Symbol):
    """A symbol that prints as the given Python text (an array variable or expression)."""

    def _sympystr(self, printer):
        return self.name


def var_name(kind, layer):
    """The Python name of a layer quantity: W2, b2, h2, z2, delta2, zaug1, gamma1,
    hhat1, Y."""
    if kind == "y":
        return "Y"
    return f"{kind}{int(layer)}"


def cotangent_name(var):
    """The Python name of a named cotangent ∂J/∂v_l: dJ_dz2, dJ_da2, dJ_dhhat2."""
    return f"dJ_d{var_name(var.kind, var.layer)}"


def _is_one(expr, rows=None, cols=None):
    return isinstance(expr, OneMatrix) and (cols is None or expr.shape[1] == cols)


def _per_sample(expr):
    vars_ = expr.atoms(Var)
    return bool(vars_) and all(v.kind in PER_SAMPLE for v in vars_) and expr.shape[1] == 1


def sigma_prime(rule, h_name, z_name):
    """σ' of an activation row as a scalar expression over array names.

    In the output u = z where the row gives that form (z(1 − z), 1 − z²); else the
    derivative in x = h, through another row's stable forward when the derivative is
    that row's activation (softplus' = sigmoid)."""
    if rule.is_identity:
        return S.One
    if rule.derivative_out is not None:
        return rule.derivative_out.xreplace({rules.u: Code(z_name)})
    body = rule.derivative
    for other in rules.ACTIVATIONS.values():
        if other.elementwise and other.forward == body:
            body = other.stable_forward()
            break
    return body.xreplace({rules.x: Code(h_name)})


def _enclosed(text):
    """True where ``text`` is one parenthesized group: ``(a + b)``, not ``(a) + (b)``."""
    if not text.startswith("("):
        return False
    depth = 0
    for k, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return k == len(text) - 1
    return False


def _broadcast_part(expr):
    """r of 1 r (r a row) or of r 1ᵀ (r a column): the small array NumPy broadcasts."""
    if not isinstance(expr, MatMul) or len(expr.args) != 2:
        return None
    first, last = expr.args
    if _is_one(first, cols=1) and last.shape[0] == 1:
        return last
    if isinstance(last, OneMatrix) and last.shape[0] == 1 and first.shape[1] == 1:
        return first
    return None


def scale_broadcast(coeff, mats):
    """c (1 r ⊙ X) as (1 (c r)) ⊙ X: the scalar multiplies the broadcast row or column
    r, not the full array (one pass fewer); None where there is no such factor."""
    if coeff in (S.One, S.NegativeOne) or len(mats) != 1 or \
            not isinstance(mats[0], HadamardProduct):
        return None
    args = list(mats[0].args)
    at = next((k for k, a in enumerate(args) if _broadcast_part(a) is not None), None)
    if at is None:
        return None
    part = _broadcast_part(args[at])
    ones = [a for a in args[at].args if a is not part]
    small = MatMul(coeff, part)
    args[at] = MatMul(ones[0], small) if args[at].args[0] is not part else MatMul(small, ones[0])
    return HadamardProduct(*args)


class ArrayPrinter(NumPyPrinter):
    """Prints Var/Act matrix expressions and scalar rule rows as NumPy array code."""

    printmethod = "_numpyarraycode"
    #: ``outputs`` maps an activation's input name to its output name where that is not
    #: h_l -> z_l (a network with options: ĥ_l -> a_l, h_l -> a_l, ĥ_l -> z_l), so that
    #: σ' is read from σ's own output, never from a masked or residual z_l
    _default_settings = dict(NumPyPrinter._default_settings, batch=True, outputs={})

    #: the name the generated module imports its array library as
    module_alias = "np"

    # -- names ------------------------------------------------------------------------
    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        prefix = self.module_alias + "."
        return prefix + text[len("numpy."):] if text.startswith("numpy.") else text

    def fn(self, name):
        """The code naming the array library's function ``name`` (``np.log``)."""
        return self._module_format("numpy." + name)

    # -- the operations a framework spells its own way (a target's printer overrides) ---
    def reduce_code(self, text, axis, how="sum"):
        """``text`` summed (or maxed) along ``axis``, keeping that axis (length 1)."""
        return f"{self._paren(text)}.{how}(axis={axis}, keepdims=True)"

    def cast_code(self, text, like):
        """The boolean array ``text`` as numbers of the dtype of the array ``like``."""
        return f"{self._paren(text)}.astype({like}.dtype)"

    def mask_code(self, text):
        """A 0/1 mask σ' = [h > 0] multiplying a float array (NumPy keeps the dtype)."""
        return f"({text} > 0)"

    def ones_code(self, rows, ref):
        """A block of ones with ``rows`` rows, as many columns and the dtype of ``ref``."""
        return f"{self.fn('ones')}(({rows}, {ref}.shape[1]), dtype={ref}.dtype)"

    def concat_code(self, parts):
        return f"{self.fn('concatenate')}(({', '.join(parts)}), axis=0)"

    def _print_Code(self, expr):
        return expr.name

    def _print_Var(self, expr):
        if expr.kind == "Wbar":   # the weights without their bias column: a view
            return f"{var_name('W', expr.layer)}[:, :-1]"
        return var_name(expr.kind, expr.layer)

    def _print_MatPartial(self, expr):   # a named cotangent ∂J/∂z_l, ∂J/∂ĥ_l, …
        return cotangent_name(expr.wrt)

    def _print_Identity(self, expr):
        if expr.shape == (1, 1):           # a 1×1 statistic: a scalar per column
            return "1"
        raise SpecError(f"cannot print the identity {expr} as array code")

    def _print_Trace(self, expr):
        """tr(Aᵀ B) = Σ A ⊙ B (the Frobenius inner product of the penalty)."""
        arg = expr.arg
        if isinstance(arg, MatMul):
            _, mats = arg.as_coeff_matrices()
            if len(mats) == 2 and isinstance(mats[0], Transpose):
                left, right = self._wrap(mats[0].arg), self._wrap(mats[1])
                return f"{self._module_format('numpy.sum')}({left} * {right})"
        raise SpecError(f"cannot print the trace {expr} as array code")

    def _print_Indexed(self, expr):
        if expr.base == WIDTH:     # n_l: the rows of h_l (of the input X for n_0)
            layer = expr.indices[0]
            return f"{var_name('z' if layer == 0 else 'h', layer)}.shape[0]"
        raise SpecError(f"cannot print {expr} as array code")

    def _print_Symbol(self, expr):
        if expr == BATCH:
            return "m"
        if expr in CONSTANTS:
            return CONSTANTS[expr]
        return super()._print_Symbol(expr)

    # -- scalar functions -------------------------------------------------------------
    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp.is_Integer and exp < 0:   # 1/m, 1/m**2: exact and dtype-neutral
            inv = base if exp == -1 else base ** (-exp)
            return f"1/{self._wrap(inv)}"
        if exp.is_Integer:
            return f"{self._wrap(base)}**{int(exp)}"
        return super()._print_Pow(expr, rational)

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else S.Half
        arg = self._print(expr.args[0])
        if h0 == 0 and arg.isidentifier():   # a step of the array's own dtype, fast
            return self.cast_code(f"({arg} > 0)", arg)
        return f"{self._module_format('numpy.heaviside')}({self._print(expr.args[0])}, " \
               f"{self._print(h0)})"

    def _print_Max(self, expr):
        args = [self._print(a) for a in expr.args]
        text = args[0]
        for arg in args[1:]:
            text = f"{self._module_format('numpy.maximum')}({text}, {arg})"
        return text

    def _print_Abs(self, expr):
        return f"{self._module_format('numpy.abs')}({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        if len(expr.args) == 2 and expr.args[1].cond == True:  # noqa: E712
            (a, cond), (b, _) = expr.args
            return (f"{self._module_format('numpy.where')}({self._print(cond)}, "
                    f"{self._print(a)}, {self._print(b)})")
        return super()._print_Piecewise(expr)

    # -- matrix expressions -------------------------------------------------------------
    def _wrap(self, expr):
        text = self._print(expr)
        atomic = isinstance(expr, (Var, Code, Symbol, Transpose, OneMatrix)) or \
            (expr.is_Number and expr >= 0) or text.isidentifier()
        return text if atomic else f"({text})"

    def _print_Transpose(self, expr):
        return f"{self._wrap(expr.arg)}.T"

    def _print_OneMatrix(self, expr):
        return "1"  # broadcasts against the arrays it is combined with

    def common_scalar(self, expr):
        """c and the terms divided by c when every term carries c (up to a number)."""
        def split(term):
            args = term.args if isinstance(term, MatMul) else (term,)
            scalar = [a for a in args if not getattr(a, "is_Matrix", False)]
            return MatMul(*scalar).doit() if scalar else S.One, \
                [a for a in args if getattr(a, "is_Matrix", False)]
        parts = [split(t) for t in expr.args]
        c = parts[0][0]
        if c.is_number and abs(c) == 1:
            return None
        if c.could_extract_minus_sign():
            c = -c
        terms = []
        for scalar, mats in parts:
            ratio = scalar / c
            if not ratio.is_number:
                return None
            terms.append(MatMul(ratio, *mats) if ratio != 1 else MatMul(*mats))
        return c, terms

    def _print_MatAdd(self, expr):
        common = self.common_scalar(expr)
        if common is not None:      # c a + c b = c (a + b): one scaling, not one per term
            c, terms = common
            return f"({self._print(c)}) * ({self._print_MatAdd(MatAdd(*terms))})"
        plus, minus = [], []
        for term in expr.args:
            coeff, rest = term.as_coeff_mmul()
            if coeff.is_number and coeff < 0:
                minus.append(self._wrap(-term) if coeff != -1 else self._wrap(rest))
            else:
                plus.append(self._print(term))
        text = " + ".join(plus) if plus else "0"
        for term in minus:
            text = f"{text} - {term}"
        return text

    def _print_HadamardProduct(self, expr):
        return " * ".join(self._wrap(a) for a in expr.args)

    def _print_HadamardPower(self, expr):
        if expr.exp == -1:
            return f"1 / {self._wrap(expr.base)}"
        if expr.exp == S.Half or expr.exp == -S.Half:
            root = f"{self._module_format('numpy.sqrt')}({self._print(expr.base)})"
            return root if expr.exp > 0 else f"1 / {root}"
        return f"{self._wrap(expr.base)}**{self._print(expr.exp)}"

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_matrices()
        scaled = scale_broadcast(coeff, mats)
        if scaled is not None:      # c (r ⊙ X), r a broadcast row or column: (c r) ⊙ X
            return self._print(scaled)
        if len(mats) > 1 and isinstance(mats[0], MatAdd):   # (A + B) C = A C + B C
            terms = [MatMul(*(t.args if isinstance(t, MatMul) else (t,)), *mats[1:])
                     for t in mats[0].args]
            body = self._print(MatAdd(*terms))
            body = f"({body})"
        else:
            body = self._chain(list(mats))
        if len(mats) == 1 and isinstance(mats[0], (OneMatrix, Identity)) and coeff != 1:
            return self._print(coeff)              # c 1: the scalar, broadcast
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}" if body.isidentifier() else f"-({body})"
        return f"({self._print(coeff)}) * {body if body.isidentifier() else f'({body})'}"

    def _chain(self, mats):
        """A product of matrix factors, with ones and diagonals turned into array ops."""
        if not mats:
            return "1"
        if len(mats) == 1:
            return self._print(mats[0])
        first, last = mats[0], mats[-1]
        if isinstance(first, DiagMatrix):          # diag(v) R = v ⊙ R, column by column
            return f"{self._wrap(first.args[0])} * {self._paren(self._chain(mats[1:]))}"
        if _is_one(first) and first.shape[1] == 1:  # 1 r (r one row): r, broadcast down
            return self._chain(mats[1:])
        if _is_one(first):                         # 1 R: column sums, broadcast down
            return self.reduce_code(self._chain(mats[1:]), 0)
        if _is_one(last, cols=1):                  # R 1: row sums (a sum over samples)
            return self.reduce_code(self._chain(mats[:-1]), 1)
        if (isinstance(last, Transpose) and _is_one(last.arg, cols=1)) or \
                (_is_one(last) and last.shape[0] == 1):
            return self._chain(mats[:-1])          # R 1ᵀ: broadcast over the samples
        if _is_one(last):                          # R 1 1ᵀ: row sums, broadcast across
            return self.reduce_code(self._chain(mats[:-1]), 1)
        if not self._settings["batch"] and len(mats) >= 3 and isinstance(mats[1], Transpose) \
                and all(_per_sample(e) for e in (mats[0], mats[1].arg, mats[2])):
            # a (bᵀ c) for sample columns: the inner product is taken per column
            inner = self.reduce_code(f"({self._wrap(mats[1].arg)} * {self._wrap(mats[2])})", 0)
            rest = mats[3:]
            text = f"{self._wrap(mats[0])} * {inner}"
            return text if not rest else f"({text}) @ {self._paren(self._chain(rest))}"
        return " @ ".join(self._wrap(a) for a in mats)

    @staticmethod
    def _paren(text):
        return text if text.isidentifier() or _enclosed(text) else f"({text})"

    def _print_DiagMatrix(self, expr):
        raise SpecError("a diagonal matrix must multiply a matrix in generated code")

    def _print_BlockMatrix(self, expr):
        blocks = [row[0] for row in expr.blocks.tolist()]
        ref = next(self._print(b) for b in blocks if isinstance(b, Var))
        parts = []
        for block in blocks:
            if isinstance(block, OneMatrix):   # as many columns as samples
                parts.append(self.ones_code(self._print(block.shape[0]), ref))
            else:
                parts.append(self._print(block))
        return self.concat_code(parts)

    def _print_Act(self, expr):
        if not isinstance(expr.arg, Var) or expr.arg.kind not in ("h", "hhat"):
            raise SpecError(f"activation of {expr.arg} cannot be printed from stored values")
        rule = rules.activation(expr.name)
        h_name = var_name(expr.arg.kind, expr.arg.layer)
        if expr.order == 1:
            out = self._settings["outputs"].get(h_name, var_name("z", expr.arg.layer))
            prime = sigma_prime(rule, h_name, out)
            if isinstance(prime, Heaviside) and prime.args[1] == 0:
                return self.mask_code(self._print(prime.args[0]))   # bool ⊙ float keeps dtype
            return self._print(prime)
        if not rule.elementwise:
            raise SpecError(f"{rule.name} is not elementwise; the forward pass prints it")
        return self._print(rule.stable_forward().xreplace({rules.x: Code(h_name)}))


def array_code(expr, batch=True):
    """NumPy code for one matrix or scalar expression."""
    return ArrayPrinter(dict(batch=batch)).doprint(expr)


__all__ = ["ArrayPrinter", "CONSTANTS", "Code", "array_code", "cotangent_name", "scale_broadcast",
           "sigma_prime", "var_name"]
