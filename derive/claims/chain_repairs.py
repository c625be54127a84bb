"""The mistakes a chain step is diagnosed with (SPEC §3b): each is a rewrite of the
student's own tree, and a mistake is named only when its rewrite verifies.

The catalogue, in the order tried (the first repair that verifies names the mistake):

* ``sigma_of_z``: σ' taken of z_k where h_k belongs;
* ``delta_layer``: δ of the wrong layer (δ_k for δ_{k±1});
* ``batch_mean``: the 1/m of the batch mean dropped;
* ``factor``: off by a constant factor (2, 1/2, −1, −2, −1/2), the §3 hints' factors;
* ``transpose``: a transpose missing, on the wrong factor, or one too many;
* ``diag``: an elementwise map's Jacobian written as the vector σ'(h) in a matrix
  product, where diag(σ'(h)) (or a ⊙) belongs;
* ``chain_transpose``: a Jacobian chain (a row) turned into a matrix product without
  the transposes: gᵀ W diag(σ') … becomes (Wᵀ g) ⊙ σ' as a column;
* ``order``: two factors of a product in the wrong order;
* ``residual``: the residual (skip) path forgotten in ∂J/∂z_{k-1} = W_kᵀ δ_k + ∂J/∂z_k;
* ``softmax``: softmax's Jacobian handled as elementwise (it is diag(z) − z zᵀ);
* ``missing_sigma``: a missing ⊙ σ'(h_k) factor;
* ``z_for_h``: z_k where h_k belongs (outside σ').

Each candidate is (mistake, tree); `Spelling.respell` keeps the student's spelling of
a renamed quantity.
"""
from sympy import Integer, Rational

from ..errors import ClaimError

LEAVES = ("var", "num", "batch", "width", "const", "loss", "jac")
NAMES = {
    "sigma_of_z": "σ' taken of z where h belongs",
    "delta_layer": "δ of the wrong layer",
    "batch_mean": "1/m dropped (the loss is the mean over the batch)",
    "factor": "off by a constant factor",
    "transpose": "a transpose missing, misplaced or one too many",
    "diag": "an elementwise map's Jacobian written as the vector σ'(h) in a matrix "
            "product (it is diag(σ'(h)): a ⊙)",
    "chain_transpose": "a transpose missing where the Jacobian chain (a row) becomes a "
                       "matrix product (the column is … (Wᵀ g) ⊙ σ')",
    "order": "two factors in the wrong order",
    "residual": "the residual path forgotten (∂J/∂z_{k-1} = W_kᵀ δ_k + ∂J/∂z_k)",
    "softmax": "softmax's Jacobian handled as elementwise (it is diag(z) − z zᵀ)",
    "missing_sigma": "a missing ⊙ σ'(h) factor",
    "z_for_h": "z where h belongs",
    "dropped_term": "a term of the derivation dropped",
}
FACTORS = (Integer(2), Rational(1, 2), Integer(-1), Integer(-2), Rational(-1, 2))


def nodes(tree, path=()):
    """(path, node) of every node, the root first (Jacobians are leaves)."""
    yield path, tree
    if tree[0] in LEAVES:
        return
    kids = [3] if tree[0] == "call" else \
        [i for i in range(1, len(tree)) if isinstance(tree[i], tuple)]
    for i in kids:
        yield from nodes(tree[i], path + (i,))


def put(tree, path, new):
    if not path:
        return new
    i = path[0]
    return tree[:i] + (put(tree[i], path[1:], new),) + tree[i + 1:]


def at(tree, path):
    for i in path:
        tree = tree[i]
    return tree


def factors(tree):
    if tree[0] != "matmul":
        return [tree]
    return factors(tree[1]) + [tree[2]]


def product(items):
    out = items[0]
    for f in items[1:]:
        out = ("matmul", out, f)
    return out


def _is_elementwise_derivative(t):
    return (t[0] == "call" and t[2] == 1) or (t[0] == "had" and any(
        _is_elementwise_derivative(k) for k in t[1:]))


def _had_factors(t):
    return _had_factors(t[1]) + _had_factors(t[2]) if t[0] == "had" else [t]


def _mentions(t, spec):
    """Does ``t`` name h or z of the layer ``spec`` (Jacobians are opaque)?"""
    return any(n[0] == "var" and n[1] in ("h", "z") and n[2] == spec for _, n in nodes(t))


class Repairs:
    """The candidate repairs of one step's tree, for one network (`Reading`) and one
    spelling (renamed quantities keep the student's spelling)."""

    def __init__(self, tree, reading, spelling, kind, pspec):
        self.tree, self.reading, self.spell = tree, reading, spelling
        self.kind, self.pspec = kind, pspec
        self.net = reading.net
        self.all = list(nodes(tree))

    def candidates(self):
        for name in ("sigma_of_z", "delta_layer", "batch_mean", "factor", "transpose",
                     "diag", "chain_transpose", "order", "residual", "softmax",
                     "missing_sigma", "z_for_h"):
            for tree in getattr(self, "c_" + name)():
                yield name, tree

    def renamed(self, path, old, kind=None, spec=None):
        new = ("var", kind or old[1], spec or old[2])
        return put(self.tree, path, self.spell.respell(old, new))

    def c_sigma_of_z(self):
        for path, t in self.all:
            if t[0] == "call" and t[2] == 1 and t[3][0] == "var" and t[3][1] == "z":
                yield self.renamed(path + (3,), t[3], "h")

    def c_delta_layer(self):
        for path, t in self.all:
            if t[0] == "var" and t[1] == "delta":
                for by in (1, -1):
                    yield self.renamed(path, t, spec=(t[2][0], t[2][1] + by))

    def c_batch_mean(self):
        if self.net.batch:
            yield ("matmul", ("div", ("num", Integer(1)), ("batch",)), self.tree)

    def c_factor(self):
        for f in FACTORS:
            yield ("matmul", ("num", f), self.tree)

    def c_transpose(self):
        for path, t in self.all:
            if t[0] in ("var", "jac", "call", "sub", "add"):
                yield put(self.tree, path, ("T", t))
        for path, t in self.all:
            if t[0] == "T":
                without = put(self.tree, path, t[1])
                yield without
                for other, leaf in nodes(without):
                    if leaf[0] == "var" and other != path:
                        yield put(without, other, ("T", leaf))

    def c_diag(self):
        for path, t in self.all:
            if t[0] != "matmul":
                continue
            for side in (1, 2):
                if _is_elementwise_derivative(t[side]):
                    yield put(self.tree, path, ("had", t[1], t[2]))
                    yield put(self.tree, path + (side,), ("call", "diag", 0, t[side]))

    def c_chain_transpose(self):
        """The row chain g W_k σ'(h) … (z^T) rewritten as the column … (W_kᵀ g) ⊙ σ'."""
        for path, t in self.all:
            items = factors(t)
            if len(items) < 2:
                continue
            tail = []
            if self.kind in ("W",) and path == () and items[-1][0] == "T":
                items, tail = items[:-1], [items[-1]]
            column = items[0][1] if items[0][0] == "T" else items[0]
            for f in items[1:]:
                if _is_elementwise_derivative(f) or (f[0] == "call" and f[1] == "diag"):
                    column = ("had", column, f[3] if f[1] == "diag" else f)
                else:
                    column = ("matmul", f[1] if f[0] == "T" else ("T", f), column)
            yield put(self.tree, path, product([column] + tail))

    def c_order(self):
        for path, t in self.all:
            if t[0] != "matmul":
                continue
            items = factors(t)
            for k in range(len(items) - 1):
                swapped = items[:k] + [items[k + 1], items[k]] + items[k + 2:]
                yield put(self.tree, path, product(swapped))
                a, b = items[k], items[k + 1]
                flipped = items[:k] + [b, a[1] if a[0] == "T" else ("T", a)] + items[k + 2:]
                yield put(self.tree, path, product(flipped))

    def c_residual(self):
        if not self.net.residual:
            return
        for path, t in self.all:
            if t[0] == "matmul" and t[1][0] == "T" and t[1][1][0] == "var" and \
                    t[1][1][1] in ("W", "Wbar") and t[2][0] == "var" and t[2][1] == "delta":
                spec = t[2][2]
                try:
                    if not self.reading.is_residual(spec):
                        continue
                    skip = self.reading.dJdz(spec)
                except ClaimError:    # a layer of unknown position names no repair
                    continue
                yield put(self.tree, path, ("add", t, skip))

    def c_softmax(self):
        """G ⊙ (an elementwise derivative of the softmax layer) becomes J G, J the
        softmax Jacobian diag(z_L) − z_L z_Lᵀ."""
        if self.net.activations[-1] != "softmax":
            return
        spec = ("L", 0) if self.net.symbolic else (None, self.net.depth)
        z = ("var", "z", spec)
        jac = ("sub", ("call", "diag", 0, z), ("matmul", z, ("T", z)))
        for path, t in self.all:
            if t[0] != "had":
                continue
            items = _had_factors(t)
            kept = [f for f in items if not _mentions(f, spec)]
            groups = [kept] if kept and len(kept) < len(items) else []
            groups += [items[:k] for k in range(1, len(items))]   # G ⊙ (the derivative)
            for group in groups:
                rest = group[0]
                for f in group[1:]:
                    rest = ("had", rest, f)
                yield put(self.tree, path, ("matmul", jac, rest))

    def c_missing_sigma(self):
        specs = sorted({t[2] for _, t in self.all if t[0] == "var" and
                        t[1] in ("h", "z", "W", "delta")} | {self.pspec}, key=str)
        for spec in specs:
            factor = ("call", "sigma", 1, ("var", "h", spec))
            for path, t in self.all:
                if t[0] not in ("num", "batch", "width", "const"):
                    yield put(self.tree, path, ("had", t, factor))

    def c_z_for_h(self):
        for path, t in self.all:
            if t[0] == "var" and t[1] in ("z", "h") and t[2] != (None, 0):
                yield self.renamed(path, t, "h" if t[1] == "z" else "z")
