"""`verify` for a recurrent network (SPEC §1c, §3): is a closed form for the gradient of a
shared weight, or for a cotangent through time, right? With hints for the classic
mistakes of backpropagation through time.

Names (the claim names of §1c): the shared weights ``W``, ``U``, ``b`` (the tanh cell),
``W_i``, ``U_i``, ``b_i`` … (a gate's), ``c_n`` (the GRU's), ``V``, ``c`` (the readout);
per step, with a subscript ``t``, ``T``, ``{t+1}``, ``{T-1}`` or a number: ``x``, ``y``,
``h``, ``a``, ``s``, ``yhat``, the gates ``i f g o r u n``, ``c`` (the LSTM's cell state),
``k``, ``m``, ``q``, ``delta`` (δ_t, the cotangent of the network's `pre_activation`) and
the cotangents ``dJ/dh_t`` …. Operators as in §3: juxtaposition, ``@`` or ``*`` (product),
``⊙``/``.*`` (Hadamard), ``+ -``, ``^T``/``ᵀ``; ``tanh``, ``σ``/``sigma``/``sigmoid`` and their
derivatives ``tanh'(…)``, ``σ'(…)``; a number added to a matrix is that number times ones.

A claim is checked numerically (30 digits, relative 1e-9) on the network unrolled over
concrete steps (T = 3 and 4 for a symbolic T; a claim at the general step t at every
t < T) at two random points, against the derivation's own values. A failing claim whose
shape fits gets a hint where one of the classic mistakes reproduces it: the last step's
term alone for a shared weight's gradient, δ_t or ∂J/∂h_t without the recurrent term
from step t + 1, ∂J/∂c_t without the cell path f_{t+1} ⊙ ∂J/∂c_{t+1}.

>>> from derive.spec.rnn import RNNNetwork
>>> net = RNNNetwork("tanh", steps="T", inputs=2, hidden=3, outputs=2)
>>> verify_rnn(net, "delta_t", "(W^T delta_{t+1} + V^T (yhat_t - y_t)) ⊙ (1 - h_t ⊙ h_t)").holds
True
>>> verify_rnn(net, "W", "delta_T h_{T-1}^T").hint[:45]
"the last step's term alone: W is read at ever"
"""
import random
from dataclasses import replace

from sympy import Float, Matrix, exp, ones, tanh
from sympy.matrices.expressions import MatAdd

from ..calculus.evaluate import evaluate
from ..engine.graph import backprop_graph, leaves
from ..engine.ops import Shapes
from ..engine.through_time import backprop_through_time
from ..errors import ClaimError
from ..ir.nodes import MatPartial
from ..ir.quantities import GATES, KINDS, Q
from ..printing.text import text
from ..spec.rnn import STEP, STEPS
from .lexer import tokenize
from .verdict import Verdict

#: the letters of the per-step quantities, and of the shared weights, as kinds
STEP_NAMES = {"x": "xt", "y": "yt", "h": "ht", "a": "at", "s": "st", "yhat": "yh", "k": "kt",
              "m": "mt", "q": "qt"}
SHARED = {"W": "Wh", "U": "Uh", "b": "bh", "V": "V", "c": "cy"}
FUNCTIONS = {"tanh": "tanh", "sigma": "sigmoid", "sigmoid": "sigmoid", "σ": "sigmoid"}
CHECK_STEPS = (3, 4)    # the concrete T a symbolic claim is checked at
TOLERANCE = 1e-9
NO_LATEX = "(not built for rnn yet)"


#: each function of a claim and its derivative, on one number
SCALAR = {("tanh", 0): tanh, ("tanh", 1): lambda v: 1 - tanh(v) ** 2,
          ("sigmoid", 0): lambda v: 1 / (1 + exp(-v)),
          ("sigmoid", 1): lambda v: exp(-v) / (1 + exp(-v)) ** 2}


def _matrix(v):
    return getattr(v, "is_Matrix", False)


class Parser:
    """Recursive descent over the claim lexer's tokens into a tree of tuples: ("num", v),
    ("var", kind, step or None), ("cot", kind, step or None), ("f", name, order, arg),
    ("T", arg), ("+", a, b), ("-", a, b), ("neg", a), ("@", a, b), ("*", a, b)."""

    def __init__(self, text_, net):
        self.tokens, self.pos, self.net = tokenize(text_), 0, net

    def peek(self):
        return self.tokens[self.pos]

    def take(self):
        self.pos += 1
        return self.tokens[self.pos - 1]

    def at(self, *values):
        return self.peek()[1] in values and self.peek()[0] != "END"

    def fail(self, what):
        kind, value, col = self.peek()
        got = "the end" if kind == "END" else repr(value)
        raise ClaimError(f"expected {what}, got {got}", col)

    def expect(self, value):
        return self.take() if self.at(value) else self.fail(repr(value))

    def parse(self):
        tree = self.expr()
        if self.peek()[0] != "END":
            self.fail("an operator or the end")
        return tree

    def expr(self):
        tree = ("neg", self.product()) if self.at("-") and self.take() else self.product()
        while self.at("+", "-"):
            op = self.take()[1]
            tree = (op, tree, self.product())
        return tree

    def product(self):
        tree = self.factor()
        while True:      # ⊙ (.*) is Hadamard; @, * and juxtaposition the matrix product
            if self.peek()[0] in ("HAD", "MATMUL") or self.at("*"):
                tree = ("*" if self.take()[0] == "HAD" else "@", tree, self.factor())
            elif self.peek()[0] in ("NAME", "NUM") or self.at("("):
                tree = ("@", tree, self.factor())
            else:
                return tree

    def factor(self):
        tree = self.primary()
        while self.peek()[0] == "POSTT" or (self.at("^") and self.tokens[self.pos + 1][1] in
                                            ("T", "{")):
            if self.take()[0] != "POSTT":
                braced = self.at("{") and self.take()
                self.expect("T")
                if braced:
                    self.expect("}")
            tree = ("T", tree)
        return tree

    def primary(self):
        kind, value, _ = self.peek()
        if kind == "NUM":
            self.take()
            return ("num", float(value))
        if self.at("(") and self.take():
            tree = self.expr()
            self.expect(")")
            return tree
        if kind != "NAME":
            self.fail("a name, a number or '('")
        self.take()
        if value in FUNCTIONS:
            order = 1 if self.at("'") and self.take() else 0
            self.expect("(")
            arg = self.expr()
            self.expect(")")
            return ("f", FUNCTIONS[value], order, arg)
        if value == "dJ":
            self.expect("/")
            name = self.take()
            if name[0] != "NAME" or not name[1].startswith("d") or len(name[1]) < 2:
                self.pos -= 1
                self.fail("a cotangent dJ/dh_t")
            return ("cot",) + self.name(name[1][1:])
        return ("cot" if value == "delta" else "var",) + self.name(value)   # δ_t: a cotangent

    def name(self, letter):
        """(kind, step) of a name whose letter was just read (its subscript next)."""
        gates = GATES.get(self.net.cell, {})
        if letter not in {*SHARED, *STEP_NAMES, *gates, "delta"}:
            self._unknown(letter)
        sub = self.subscript() if self.at("_") and self.take() else None
        if letter in ("W", "U", "b", "c") and isinstance(sub, str) and sub in gates:
            return (f"{letter}_{sub}", None)
        if letter in SHARED and sub is None:
            kind = SHARED[letter]
            return (kind, None) if kind in self.net.parameters else self._unknown(letter)
        if sub is None or isinstance(sub, str):
            self.pos -= 1
            self.fail(f"a step t, T, {{t+1}}, {{T-1}} or a number after {letter}_")
        kind = self._step_kind(letter)
        return (kind, sub)

    def _step_kind(self, letter):
        if letter == "delta":
            return self.net.pre_activation(1).kind
        if letter == "c" and self.net.cell == "lstm":
            return "ct"
        if letter in GATES.get(self.net.cell, {}):
            return "g" + letter
        if letter in STEP_NAMES and (letter != "a" or self.net.cell == "tanh"):
            return STEP_NAMES[letter]
        return self._unknown(letter)

    def _unknown(self, letter):
        self.pos -= 1
        raise ClaimError(f"unknown name {letter!r} for an rnn with a {self.net.cell} cell",
                         self.peek()[2])

    def subscript(self):
        """A step (base, offset): base None (a number), "t" or "T"; or a gate letter."""
        braced = self.at("{") and self.take()
        kind, value, _ = self.take()
        if kind == "NUM" and value.isdigit():
            step = (None, int(value))
        elif kind == "NAME" and value in ("t", "T"):
            step = (value, 0)
        elif kind == "NAME" and len(value) == 1 and not braced:
            return value
        else:
            self.pos -= 1
            self.fail("a step t, T or a number")
        if braced and self.at("+", "-"):
            sign = 1 if self.take()[1] == "+" else -1
            if self.peek()[0] != "NUM":
                self.fail("a number")
            step = (step[0], sign * int(self.take()[1]))
        if braced:
            self.expect("}")
        return step


class Shape(Exception):
    """Shapes that do not fit: a verdict, not an error."""


def _step(step, T, t):
    base, offset = step
    return offset + {None: 0, "t": t, "T": T}[base]


def value(tree, env, T, t):
    """The claim's value (a float or an array) at steps T and t, from ``env``."""
    op = tree[0]
    if op == "num":
        return Float(tree[1])
    if op in ("var", "cot"):
        layer = 1 if tree[2] is None else _step(tree[2], T, t)
        key = ("d" + tree[1] if op == "cot" else tree[1], layer)
        if key not in env:
            raise Shape(f"{'dJ/d' if op == 'cot' else ''}{tree[1]} at step {layer} does not exist")
        return env[key]
    if op == "f":
        f, arg = SCALAR[tree[1], tree[2]], value(tree[3], env, T, t)
        return arg.applyfunc(f) if _matrix(arg) else f(arg)
    if op == "T":
        arg = value(tree[1], env, T, t)
        return arg.T if _matrix(arg) else arg
    if op == "neg":
        return -value(tree[1], env, T, t)
    a, b = value(tree[1], env, T, t), value(tree[2], env, T, t)
    if not (_matrix(a) and _matrix(b)):
        if op in ("@", "*"):
            return a * b
        a, b = (v if _matrix(v) else v * ones(*(a if _matrix(a) else b).shape) for v in (a, b))
    fits = a.cols == b.rows if op == "@" else a.shape == b.shape
    if not fits:
        raise Shape(f"{a.rows}×{a.cols} and {b.rows}×{b.cols} do not fit for "
                    f"{ {'@': 'a product', '*': 'a Hadamard product'}.get(op, 'a sum')}")
    if op == "@":
        return a * b
    return a.multiply_elementwise(b) if op == "*" else (a + b if op == "+" else a - b)


def _uses(tree, base):
    """Whether a step of the claim's tree reads the symbol ``base`` ("t" or "T")."""
    if tree[0] in ("var", "cot"):
        return tree[2] is not None and tree[2][0] == base
    return any(_uses(a, base) for a in tree[1:] if isinstance(a, tuple))


def _close(got, want):
    """Equal to TOLERANCE relative to the largest entry of ``want``."""
    scale = 1 + max(abs(v) for v in want)
    return max(abs(g - w) for g, w in zip(got, want)) <= TOLERANCE * scale


def _environment(concrete, net, seed):
    """(SymPy env, NumPy env) of every quantity and cotangent at a random point (h_0 = 0)."""
    rng, values = random.Random(seed), {}
    for (kind, layer), (rows, cols) in leaves(net, concrete.sizes()).items():
        zero = layer == 0
        values[kind, layer] = [[0.0 if zero else rng.uniform(-0.8, 0.8) for _ in range(cols)]
                               for _ in range(rows)]
    env = concrete.values(values)
    return env, {key: M for key, M in env.items() if isinstance(M, Matrix)}


def _target(net, param):
    """(kind of the cotangent's key, step or None, its name): what ``param`` asks for."""
    tree = Parser(param, net).parse()
    if tree[0] == "var" and tree[2] is None and tree[1] in net.parameters:
        return tree[1], None
    if tree[0] in ("var", "cot") and tree[2] is not None and KINDS[tree[1]].role == "computed":
        return tree[1], tree[2]
    raise ClaimError("the parameter must be a shared weight (W, U, b, V, c, W_i …), delta_t "
                     "or a cotangent such as dJ/dh_t")


def _formula(sym, kind, T, k):
    """The derived cotangent of ``kind`` at step k of T: the step T's, T − 1's or the
    general step's form, written at T and t = k."""
    base = STEPS if k == T else (STEPS - 1 if k == T - 1 else STEP)
    return sym.walks[base][1][Q(kind, base)].xreplace({STEPS: T, STEP: k})


def _without_next_step(expr, k):
    """``expr`` without its terms read from step k + 1 (None when it has none)."""
    terms = expr.args if isinstance(expr, MatAdd) else (expr,)
    keep = [a for a in terms if not any(p.wrt.layer == k + 1 for p in a.atoms(MatPartial))]
    return None if len(keep) in (0, len(terms)) else (MatAdd(*keep) if len(keep) > 1 else keep[0])


def _hint(sym, net, target, got, env, sizes, T, k):
    """The classic mistake that reproduces the claim's value, in words (or "")."""
    kind, step = target

    def same(expr, at=env):
        return _close(got, evaluate(expr.xreplace(sizes), at))

    name = KINDS[kind].claim
    total = sym.grads.get(kind)
    if step is None:
        last = getattr(total, "term", None)
        if last is not None and same(last.xreplace({STEP: T})):
            return (f"the last step's term alone: {name} is read at every step, so its "
                    f"gradient is the sum over t of the terms: {text(total)}")
        return ""
    state = "ct" if kind == "ct" else "ht"
    if k >= T or (kind != state and kind != net.pre_activation(1).kind):
        return ""
    reduced = _without_next_step(_formula(sym, state, T, k), k)
    if reduced is None:
        return ""
    general = f"∂J/∂{text(Q(state, STEP).var(Shapes('explicit', False)))} = " \
        f"{text(sym.cotangent(Q(state, STEP)))}"
    if kind == state and same(reduced):
        return (f"the {'cell path' if state == 'ct' else 'recurrent term'} from step t + 1 is "
                f"missing: {'c' if state == 'ct' else 'h'}_t is read by step t + 1 too "
                f"({general})")
    if kind != state and same(_formula(sym, kind, T, k), {
            **env, ("d" + state, k): evaluate(reduced.xreplace(sizes), env)}):
        return f"δ_t is missing the recurrent term from δ_{{t+1}}: h_t is read by step t + 1 too ({general})"
    return ""


def _correct(sym, target, T):
    kind, step = target
    if step is None:
        return text(sym.grads[kind])
    base, offset = step
    layer = {"t": STEP, "T": STEPS, None: 0}[base] + offset
    if base is None:
        return text(_formula(sym, kind, T, layer))
    return text(sym.cotangent(Q(kind, layer))) if Q(kind, layer) in sym.cotangents else ""


def verify_rnn(net, param, claim, seed=0, points=2):
    """Check ``claim`` (text) as ∂J/∂``param`` (or the cotangent ``param`` names) for the
    recurrent network ``net`` (module docstring)."""
    target = _target(net, param)
    tree = Parser(claim, net).parse()
    sym = backprop_through_time(replace(net, steps="T"))
    general = _uses(tree, "t") or (target[1] is not None and target[1][0] == "t")
    checked = []
    for T in (CHECK_STEPS if net.symbolic else (net.steps,)):
        concrete = backprop_graph(replace(net, steps=T))
        correct = _correct(sym, target, T)
        for point in range(seed, seed + points):
            env, numbers = _environment(concrete, concrete.net, point)
            for k in (range(1, T) if general else (T,)):
                layer = 1 if target[1] is None else _step(target[1], T, k)
                want = numbers.get(("d" + target[0], layer))
                if want is None:
                    raise ClaimError(f"{param} does not exist at step {layer} of T = {T}")
                try:
                    got = value(tree, numbers, T, k)
                except Shape as exc:
                    return Verdict(False, f"shape mismatch: {exc}", correct=correct,
                                   correct_latex=NO_LATEX)
                got = got if _matrix(got) else got * ones(*want.shape)
                if got.shape != want.shape:
                    flip = " (holds if transposed)" if got.T.shape == want.shape and _close(
                        got.T, want) else ""
                    return Verdict(False, f"shape mismatch: the claim is {got.shape[0]}×"
                                   f"{got.shape[1]} but {param} is {want.shape[0]}×"
                                   f"{want.shape[1]}{flip}", correct=correct,
                                   correct_latex=NO_LATEX)
                if not _close(got, want):
                    return _differs(sym, net, target, (got, want), (env, concrete.sizes()),
                                    (T, k if general else None, point), correct)
        checked.append(T)
    where = "every t < T" if general else "T"
    return Verdict(True, f"holds at T = {', '.join(map(str, checked))} ({where}), to 30 digits at "
                   f"{points} random points", correct=correct, correct_latex=NO_LATEX)


def _differs(sym, net, target, values, env, at, correct):
    """The verdict of a claim that differs at steps ``at`` = (T, t or None, point)."""
    (got, want), (env, sizes), (T, k, point) = values, env, at
    row, col = max(((r, c) for r in range(want.rows) for c in range(want.cols)),
                   key=lambda rc: abs(got[rc] - want[rc]))
    steps = {"T": T} if k is None else {"T": T, "t": k}
    cex = {"sizes": steps, "entry": (row + 1, col + 1), "true": float(want[row, col]),
           "claimed": float(got[row, col]), "point": {"random point": point}}
    hint = _hint(sym, net, target, got, env, sizes, T, T if k is None else k)
    return Verdict(False, "differs", counterexample=cex, correct=correct,
                   correct_latex=NO_LATEX, hint=hint)
