"""`Derivation`: the one intermediate representation every output consumes, the
ordered `derive.ir.steps.Step`s of one network's backpropagation with its results.
"""
from sympy import Basic, Integer

from ..errors import SpecError, shown
from ..ir import display
from ..ir.nodes import MatPartial, Var
from ..ir.quantities import PARAMETERS
from ..vocab import DEPTH, LAYER
from .certificate import certify


class Derivation:
    """The derived backpropagation of one network.

    Matrix results are keyed by layer (an int for a concrete depth; ``L``, ``L-1`` and
    a general ``l`` for a symbolic depth). Built by `derive.backprop`.
    """

    def __init__(self, net, steps, deltas, grads, index_forms, dJdz, assumptions,
                 cotangents=None):
        self.net = net
        self._cotangents = cotangents or {}
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
        if isinstance(spec, str):
            text = spec.replace(" ", "").strip("{}")
            names = {"L": DEPTH, "L-1": DEPTH - 1, "l": LAYER}
            if text in names:
                spec = names[text] if self.net.symbolic else \
                    {"L": self.net.L, "L-1": self.net.L - 1}.get(text, text)
            elif text.isdigit() and len(text) <= 9:     # longer: no layer, said below
                spec = int(text)
        if isinstance(spec, bool):
            spec = None
        key = Integer(spec) if isinstance(spec, int) else spec
        if isinstance(key, Basic) and key in self._deltas:
            return key
        allowed = ", ".join(str(key) for key in reversed(self.layers))
        raise SpecError(f"layer {shown(spec)} does not exist in this network; allowed: {allowed}")

    def delta(self, layer):
        """δ_l = ∂J/∂h_l as a matrix expression (in terms of δ_{l+1} for hidden layers)."""
        return self._deltas[self.layer(layer)]

    def grad(self, kind, layer):
        """∂J/∂W_l (kind "W") or ∂J/∂b_l (kind "b") in δ form."""
        key = (self._kind(kind), self.layer(layer))
        if key not in self._grads:
            raise SpecError(f"{kind}: layer {key[1]} has no {kind} (only the hidden layers "
                            "of a normalized network do)")
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

    def cotangents(self, layer):
        """The cotangents a layer's backward walk names, in the order they are computed:
        [(∂J/∂z_l, its form), (∂J/∂a_l, …), (∂J/∂ĥ_l, …)] (empty for a plain layer)."""
        return list(self._cotangents.get(self.layer(layer), ()))

    def adjoint(self, q):
        """∂J/∂q for one quantity ``q`` (`derive.ir.quantities.Q`, or a (kind, layer) pair):
        h (δ_l), z, the named cotangents of a block with options (a, ĥ) and the trained
        parameters, each in the form the derivation gives it (in terms of the next
        cotangents; `substitute_deltas` writes it out).

        >>> from derive import Network, backprop
        >>> from derive.ir.quantities import Q
        >>> d = backprop(Network.uniform(depth=2, activation="tanh", loss="mse", dropout=True))
        >>> d.adjoint(Q("a", 1))
        HadamardProduct(M_1, dJ/dz_1)
        >>> d.adjoint(Q("h", 2)) == d.delta(2)
        True
        """
        kind, layer = q[0], self.layer(q[1])
        if kind in ("h", "delta"):
            return self._deltas[layer]
        if kind == "z":
            return self._dJdz[layer]
        if (kind, layer) in self._grads:
            return self._grads[(kind, layer)]
        for sym, form in self._cotangents.get(layer, ()):
            if getattr(sym.wrt, "kind", None) == kind:
                return form
        known = sorted({"h", "z"} | {k for k, at in self._grads if at == layer} |
                       {s.wrt.kind for s, _ in self._cotangents.get(layer, ())})
        raise SpecError(f"adjoint: no {kind} at layer {layer} in this network; allowed "
                        f"kinds there: {', '.join(known)}")

    def substitute_deltas(self, expr):
        """Replace δ symbols (and the named cotangents ∂J/∂z_l, ∂J/∂ĥ_l … of a network
        with options) by their forms, repeatedly, until none is left."""
        named = {sym: form for pairs in self._cotangents.values() for sym, form in pairs}
        for _ in range(3 * len(self._deltas) + 2):
            found = {v for v in expr.atoms(Var) if v.kind == "delta"}
            found |= {p for p in expr.atoms(MatPartial) if p in named}
            if not found:
                return expr
            mapping = {}
            for v in found:
                if isinstance(v, MatPartial):
                    mapping[v] = named[v]
                    continue
                if v.layer not in self._deltas:
                    raise SpecError(f"δ at layer {v.layer} has no closed form in a network "
                                    "of symbolic depth; ask for layer L or L-1")
                mapping[v] = self._deltas[v.layer]
            expr = expr.xreplace(mapping)
        raise SpecError("could not substitute every δ")

    def _kind(self, kind):
        allowed = tuple(k for k in PARAMETERS if any(g == k for g, _ in self._grads))
        if kind not in allowed:
            raise SpecError(f"parameter kind {kind!r} is not in this network; "
                            f"allowed: {', '.join(allowed)}")
        return kind

    # -- checks and summaries ---------------------------------------------------------
    def certify(self, widths=None, exact=True, points=2, seed=0):
        """Prove the matrix forms equal the componentwise derivative of the expanded J.

        See `derive.engine.certificate.certify`.
        """
        return certify(self, widths=widths, exact=exact, points=points, seed=seed)

    def summary(self):
        """The boxed equations: (lhs, rhs) pairs of the matrix-form results."""
        rows = []
        for layer in self.layers:
            d = [s for s in self.steps if s.topic in ("output", "hidden") and s.layer == layer
                 and s.form == "matrix" and getattr(s.lhs, "kind", "") == "delta"]
            rows.append((d[-1].lhs, self._deltas[layer]))
            for kind in PARAMETERS:
                if (kind, layer) in self._grads:
                    g = [s for s in self.steps if s.layer == layer and s.form == "matrix"
                         and isinstance(s.lhs, MatPartial) and s.lhs.wrt.kind == kind]
                    rows.append((g[-1].lhs, self._grads[(kind, layer)]))
        return rows

    def equation(self, kind, layer):
        r"""δ_l = … (kind ``"delta"``) or ∂J/∂W_l = … (``"W"``, ``"b"``) as typeset math:
        a notebook shows it in the notes' notation, at this network's depth.

        >>> from derive import Network, backprop
        >>> d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
        >>> print(d.equation("delta", 1))
        \boldsymbol{\delta}_{1} = \left(W_{2}^{\top} \boldsymbol{\delta}_{2}\right) \odot \sigma'(\mathbf{h}_{1})
        """
        rhs = self.delta(layer) if kind == "delta" else self.grad(kind, layer)
        lhs = next(left for left, right in self.summary() if right == rhs)
        return display.equation(self, lhs, rhs)

    def _repr_markdown_(self):
        """Notebook display: the boxed results and the network diagram (SVG inline)."""
        return display.markdown(self)

    def document(self, fmt="markdown", **options):
        """The full notes (`derive.render` with ``options``: notation, layout, …); in
        Markdown the diagram is embedded, and a notebook shows the text as Markdown.

        >>> from derive import Network, backprop
        >>> d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
        >>> d.document().startswith("#") and "data:image/svg+xml" in d.document()
        True
        """
        return display.document(self, fmt, **options)

    def __repr__(self):
        return f"<Derivation of {self.net.describe()}: {len(self.steps)} steps>"
