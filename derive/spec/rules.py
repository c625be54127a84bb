"""The rule tables: one row per activation, one row per loss.

Each activation row holds its definition σ(x) as a SymPy expression (the only place
activation formulas are typed), its derivative σ'(x), the derivative written in terms
of the output u = σ(x) where that is the natural form (z(1 − z), 1 − z²), its range,
and a numerically stable rewrite for generated code. Each loss row holds the
per-component term ℓ(u, t) of output u and target t and the factor in front of the sum.
Everything else (∂J/∂z, δ_L, cancellations) is derived from these rows by the engine.

>>> activation("sigmoid").derivative_out
u*(1 - u)
>>> loss("sse").factor
1
"""
from dataclasses import dataclass
from functools import lru_cache

from sympy import Abs, Expr, Heaviside, Max, Piecewise, Rational, S, diff, exp, log, tanh

from ..errors import SpecError, did_you_mean, shown
from ..vocab import ACTIVATION_INPUT, ACTIVATION_OUTPUT, OUTPUT_WIDTH, TARGET
from .custom import parse_custom

#: the rows are written in x (the input), u = σ(x), t (a target component), n (width)
x, u, t, n = ACTIVATION_INPUT, ACTIVATION_OUTPUT, TARGET, OUTPUT_WIDTH

#: output ranges an activation can guarantee
RANGES = {"real": "ℝ", "unit": "(0, 1)", "symmetric": "(−1, 1)", "positive": "(0, ∞)",
          "nonnegative": "[0, ∞)", "simplex": "probability vectors"}

LEAK = Rational(1, 100)  #: the slope of leaky_relu for x < 0


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Expr                 # σ(x); for softmax, the numerator e^x of a component
    derivative: Expr              # σ'(x)
    derivative_out: Expr = None   # σ'(x) in terms of u = σ(x), where natural
    range: str = "real"
    elementwise: bool = True
    stable: Expr = None           # numerically stable rewrite of σ(x) for generated code
    note: str = ""                # a fact the derivation must state (e.g. relu'(0))

    @property
    def is_identity(self):
        return self.name == "identity"

    def stable_forward(self):
        return self.forward if self.stable is None else self.stable


@dataclass(frozen=True)
class Loss:
    name: str
    term: Expr                    # ℓ(u, t): one output component's contribution
    factor: Expr = S.One          # J = factor · Σ_i ℓ(z_i, y_i) (and a batch mean)
    output_ranges: tuple = ()     # allowed output ranges; empty means any
    target: str = "real"          # what y must be: real, unit, simplex
    title: str = ""


def _activation_rows():
    sig = 1 / (1 + exp(-x))
    rows = [
        # name, forward, derivative, derivative in the output, range, stable form
        Activation("identity", x, S.One, S.One, "real"),
        Activation("sigmoid", sig, diff(sig, x), u * (1 - u), "unit",
                   stable=(1 + tanh(x / 2)) / 2),
        Activation("tanh", tanh(x), 1 - tanh(x) ** 2, 1 - u ** 2, "symmetric"),
        Activation("relu", Max(0, x), Heaviside(x, 0), Heaviside(u, 0), "nonnegative",
                   note="relu'(0) is taken as 0"),
        Activation("leaky_relu", Piecewise((x, x > 0), (LEAK * x, True)),
                   LEAK + (1 - LEAK) * Heaviside(x, 0), LEAK + (1 - LEAK) * Heaviside(u, 0),
                   "real", note="slope 1/100 for x < 0; the derivative at 0 is taken as 1/100"),
        Activation("softplus", log(1 + exp(x)), sig, None, "positive",
                   stable=Max(0, x) + log(1 + exp(-Abs(x)))),
        Activation("softmax", exp(x), S.Zero, None, "simplex", elementwise=False,
                   note="z_i = e^{h_i} / Σ_k e^{h_k}; its Jacobian is diag(z) − z zᵀ"),
    ]
    return {row.name: row for row in rows}


ACTIVATIONS = _activation_rows()

LOSSES = {row.name: row for row in [
    Loss("mse", (u - t) ** 2, Rational(1, 2), title="half squared error"),
    Loss("sse", (u - t) ** 2, S.One, title="squared error"),
    Loss("mean_mse", (u - t) ** 2, 1 / n, title="mean squared error"),
    Loss("bce", -(t * log(u) + (1 - t) * log(1 - u)), S.One, ("unit", "simplex"), "unit",
         title="binary cross-entropy"),
    Loss("cce", -t * log(u), S.One, ("simplex",), "simplex",
         title="categorical cross-entropy"),
]}


def activation(name):
    """The rule row for an activation name (built in or ``custom:<expr in x>``)."""
    if not isinstance(name, str):
        raise SpecError(f"activation must be a string, got {type(name).__name__}; "
                        f"allowed: {allowed_activations()}")
    if name.startswith("custom:"):
        return _custom(name)
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise SpecError(f"unknown activation {shown(name)}{did_you_mean(name, ACTIVATIONS)}; "
                        f"allowed: {allowed_activations()}") from None


def loss(name):
    """The rule row for a loss name."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise SpecError(f"unknown loss {shown(name)}{did_you_mean(name, LOSSES)}; "
                        f"allowed: {', '.join(LOSSES)}") from None


def allowed_activations():
    return ", ".join(ACTIVATIONS) + ", custom:<expression in x>"


@lru_cache(maxsize=256)
def _custom(name):

    body = name[len("custom:"):]
    forward = parse_custom(body, x)
    return Activation(name, forward, diff(forward, x), None, "real")


def check_output(output, loss_name):
    """Refuse, in one line naming the activations that fit, an output activation whose
    range the loss cannot take (binary cross-entropy needs (0, 1), …)."""
    row, out = loss(loss_name), activation(output)
    if row.output_ranges and out.range not in row.output_ranges:
        need = " or ".join(RANGES[r] for r in row.output_ranges)
        fits = [a.name for a in ACTIVATIONS.values() if a.range in row.output_ranges]
        raise SpecError(f"loss {loss_name} needs an output in {need}, but {out.name} gives "
                        f"{RANGES[out.range]}; allowed output activations: {', '.join(fits)}")
