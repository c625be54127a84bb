"""`Derivation` and `Step`: the one intermediate representation every output consumes.

A step is one equation ``lhs = rhs`` (both SymPy objects the engine produced), tagged
with the rule that produced it, the layer it belongs to, the topic it illustrates
(forward, loss, output, weights, bias, hidden, general, update) and whether it is a
component (index) or a matrix statement. Consecutive steps with the same ``group``
form one chain of equalities.
"""
from dataclasses import dataclass, field

from sympy import Basic

from .errors import SpecError


class Rule:
    """The rule tags a step can carry."""

    DEFINITION = "definition"
    FORWARD = "forward pass"
    LOSS = "loss"
    CHAIN_RULE = "chain rule"
    LINEAR_JACOBIAN = "Jacobian of a linear map"
    ELEMENTWISE = "elementwise derivative"
    OUTPUT_FORM = "derivative in terms of the output"
    KRONECKER = "Kronecker contraction"
    SUBSTITUTION = "substitution"
    HADAMARD = "Hadamard collection"
    OUTER = "outer product"
    MATRIX_PRODUCT = "matrix product"
    SOFTMAX_JACOBIAN = "softmax Jacobian"
    CANCELLATION = "loss/activation cancellation"
    ASSUMPTION = "assumption"
    RECURSION = "recursion"
    GENERAL = "general layer"
    UPDATE = "gradient-descent update"
    INDEX = "index notation"
    COMPONENT = "derivative of a component"
    RENAME = "renaming summation indices"
    REARRANGE = "rearranging the sums"
    MATRIX_FORM = "matrix form"


TOPICS = ("forward", "loss", "output", "weights", "bias", "hidden", "general", "update")


@dataclass(frozen=True)
class Step:
    lhs: Basic
    rhs: Basic
    rule: str
    layer: object
    topic: str
    form: str = "matrix"        # "index" or "matrix"
    group: str = ""             # steps sharing a group form one chain of equalities
    note: str = ""              # a fact in words (an assumption, the value of relu'(0))

    def __post_init__(self):
        if self.topic not in TOPICS:
            raise ValueError(f"unknown topic {self.topic}")

    def subs(self, mapping):
        """The same step with symbols replaced (used to instantiate layer templates)."""
        return Step(self.lhs.xreplace(mapping), self.rhs.xreplace(mapping), self.rule,
                    _sub_layer(self.layer, mapping), self.topic, self.form, self.group,
                    self.note)


def _sub_layer(layer, mapping):
    return layer.xreplace(mapping) if isinstance(layer, Basic) else layer


class Derivation:
    """The derived backpropagation of one network.

    Matrix results are keyed by layer (an int for a concrete depth; ``L``, ``L-1`` and
    a general ``l`` for a symbolic depth). Built by `derive.backprop`.
    """

    def __init__(self, net, steps, deltas, grads, index_forms, dJdz, assumptions):
        self.net = net
        self.steps = list(steps)
        self._deltas = deltas
        self._grads = grads
        self._index = index_forms
        self._dJdz = dJdz
        self.assumptions = list(assumptions)

    # -- layers ---------------------------------------------------------------------
    @property
    def layers(self):
        """The layers this derivation holds results for, last first."""
        return list(self._deltas)

    def layer(self, spec):
        """Normalise a layer given as int, 'L', 'L-1', 'l' or a SymPy expression."""
        from sympy import Integer, sympify
        from .nodes import DEPTH, LAYER

        if isinstance(spec, str):
            text = spec.replace(" ", "").strip("{}")
            names = {"L": DEPTH, "L-1": DEPTH - 1, "l": LAYER}
            if text in names:
                spec = names[text] if self.net.symbolic else \
                    {"L": self.net.L, "L-1": self.net.L - 1}.get(text, text)
            elif text.isdigit():
                spec = int(text)
        if isinstance(spec, bool):
            spec = None
        if isinstance(spec, int):
            spec = Integer(spec)
        if isinstance(spec, Basic) and spec in self._deltas:
            return spec
        allowed = ", ".join(str(key) for key in reversed(self.layers))
        raise SpecError(f"layer {spec!r} does not exist in this network; allowed: {allowed}")

    def delta(self, layer):
        """δ_l = ∂J/∂h_l as a matrix expression (in terms of δ_{l+1} for hidden layers)."""
        return self._deltas[self.layer(layer)]

    def grad(self, kind, layer):
        """∂J/∂W_l (kind "W") or ∂J/∂b_l (kind "b") in δ form."""
        key = (self._kind(kind), self.layer(layer))
        return self._grads[key]

    def dJdz(self, layer):
        """∂J/∂z_l as a matrix expression (W_{l+1}ᵀ δ_{l+1} for hidden layers)."""
        return self._dJdz[self.layer(layer)]

    def index_form(self, kind, layer):
        """∂J/∂(W_l)_{ab} (or ∂J/∂(b_l)_a) in index notation: the chain-rule sum."""
        return self._index[(self._kind(kind), self.layer(layer))]

    def expanded(self, kind, layer):
        """The gradient with every δ substituted by its recursion (no δ symbols left)."""
        expr = self.grad(kind, layer)
        return self.substitute_deltas(expr)

    def substitute_deltas(self, expr):
        """Replace δ symbols by their recursion, repeatedly, until none is left."""
        from .nodes import Var

        for _ in range(len(self._deltas) + 2):
            found = {v for v in expr.atoms(Var) if v.kind == "delta"}
            if not found:
                return expr
            mapping = {}
            for v in found:
                if v.layer not in self._deltas:
                    raise SpecError(f"δ at layer {v.layer} has no closed form in a network "
                                    "of symbolic depth; ask for layer L or L-1")
                mapping[v] = self._deltas[v.layer]
            expr = expr.xreplace(mapping)
        raise SpecError("could not substitute every δ")

    def _kind(self, kind):
        allowed = ("W", "b") if self.net.bias == "explicit" else ("W",)
        if kind not in allowed:
            raise SpecError(f"parameter kind {kind!r} is not in this network; "
                            f"allowed: {', '.join(allowed)}")
        return kind

    # -- checks and summaries ---------------------------------------------------------
    def certify(self, widths=None, exact=True, points=2, seed=0):
        """Prove the matrix forms equal the componentwise derivative of the expanded J.

        See `derive.certify.certify`.
        """
        from .certify import certify
        return certify(self, widths=widths, exact=exact, points=points, seed=seed)

    def summary(self):
        """The boxed equations: (lhs, rhs) pairs of the matrix-form results."""
        from .nodes import LOSS, MatPartial

        rows = []
        for layer in self.layers:
            sample = next(iter(self._grads))  # for shapes only
            d = [s for s in self.steps if s.topic in ("output", "hidden") and s.layer == layer
                 and s.form == "matrix" and getattr(s.lhs, "kind", "") == "delta"]
            rows.append((d[-1].lhs, self._deltas[layer]))
            for kind in ("W", "b"):
                if (kind, layer) in self._grads:
                    g = [s for s in self.steps if s.layer == layer and s.form == "matrix"
                         and isinstance(s.lhs, MatPartial) and s.lhs.wrt.kind == kind]
                    rows.append((g[-1].lhs, self._grads[(kind, layer)]))
        return rows

    def _repr_markdown_(self):
        """Notebook display: the derivation written up as Markdown (see derive.render)."""
        from .render import render
        return render(self, "markdown")

    def __repr__(self):
        return f"<Derivation of {self.net.describe()}: {len(self.steps)} steps>"
