"""Structural repairs of a network claim's tree: the common mistakes, each undone.

`derive.claims.hints` tries every repair at the point where the claim failed and
verifies those that match there; a repair that verifies is the hint. Each repair is
(tree, what), ``what`` a function of a namer (kind, layer spec) -> the name in the
claim's own notation, so that a gh claim's hint says ``g^1`` where hz says ``h_1``.

The mistakes (SPEC §3, issue 21):

* a transpose on the wrong factor, too many or missing;
* a missing ⊙ σ'(h_l), a missing ⊙ M_l (dropout), ⊙ γ_l (normalization), or one
  applied twice (a factor too many);
* the activation derivative written in the wrong variable or form (``1 - z_l`` for
  tanh', ``h_l ⊙ (1 - h_l)`` for σ'): a subexpression of one layer's h/z replaced by
  σ'(h_l);
* a variable mistaken everywhere it occurs (z_l for h_l, a_l for z_l, ĥ_l for h_l, the
  layer one off, m for n_l);
* softmax's Jacobian treated as elementwise: ``g ⊙ s(z_L)`` for (diag(z_L) − z_L z_Lᵀ) g;
* a term's sign flipped, a term too many (a sum's operand dropped);
* weight decay's λW_l forgotten, doubled or halved;
* a residual network's skip path forgotten.

>>> from derive.claims.grammar import parse
>>> trees = [t for t, _ in repairs(parse("(z_2 - y) h_1^T"), ("L", 0), ())]
>>> parse("(z_2 - y) z_1^T") in trees
True
"""
from sympy import Integer

LEAVES = ("var", "num", "batch", "width", "const", "identity", "cot")
SIGMA_PRIME = lambda spec: ("call", "sigma", 1, ("var", "h", spec))     # noqa: E731
OTHER_KIND = {"z": ("h", "a"), "h": ("z", "hhat"), "a": ("z",), "hhat": ("h",),
              "xhat": ("hhat",)}


def kids(tree):
    op = tree[0]
    if op in LEAVES:
        return []
    if op == "call":
        return [3]
    if op in ("pow", "epow"):
        return [1]
    return [i for i in range(1, len(tree)) if isinstance(tree[i], tuple)]


def nodes(tree, path=()):
    """(path, subtree) for every node, without recursion."""
    stack = [(path, tree)]
    while stack:
        path, sub = stack.pop()
        yield path, sub
        stack.extend((path + (i,), sub[i]) for i in reversed(kids(sub)))


def put(tree, path, new):
    for depth in range(len(path), 0, -1):
        parent = _at(tree, path[:depth - 1])
        i = path[depth - 1]
        new = parent[:i] + (new,) + parent[i + 1:]
    return new


def _at(tree, path):
    for i in path:
        tree = tree[i]
    return tree


def layer_text(spec):
    base, off = spec
    text = str(off) if base is None else base + (f"{off:+d}" if off else "")
    return text if len(text) == 1 else "{" + text + "}"


def specs(tree, pspec):
    named = {t[2] for _, t in nodes(tree) if t[0] == "var" and t[1] in ("h", "z", "W", "delta")}
    return sorted((named | {pspec}) - {(None, 0)}, key=str)


def _vars(sub):
    return {(t[1], t[2]) for _, t in nodes(sub) if t[0] == "var"}


def transposes(tree, all_nodes):
    """A transpose moved to another name, removed, or added to one name."""
    for path, sub in all_nodes:
        if sub[0] != "T":
            continue
        without = put(tree, path, sub[1])
        for other, leaf in nodes(without):
            if leaf[0] == "var" and other != path:
                yield put(without, other, ("T", leaf)), lambda n: "a transpose on the wrong factor"
        yield without, lambda n: "a transpose too many"
    for path, sub in all_nodes:
        if sub[0] == "var":
            yield put(tree, path, ("T", sub)), lambda n: "a missing transpose"


def factors(tree, all_nodes, layers, options):
    """A factor missing (⊙ σ'(h_l), ⊙ M_l, ⊙ γ_l) on any subexpression, or one too many
    (an operand of a Hadamard product dropped)."""
    kinds = [("sigma", "⊙ σ'({h})")]
    kinds += [("M", "⊙ {M}")] if "dropout" in options else []
    kinds += [("gamma", "⊙ {gamma}")] if "norm" in options else []
    for spec in layers:
        for kind, text in kinds:
            factor = SIGMA_PRIME(spec) if kind == "sigma" else ("var", kind, spec)
            for path, sub in all_nodes:
                if sub[0] not in ("num", "batch", "width", "const"):
                    yield put(tree, path, ("had", sub, factor)), \
                        lambda n, t=text, s=spec: "a missing " + t.format(
                            h=n("h", s), M=n("M", s), gamma=n("gamma", s)) + " factor"
    for path, sub in all_nodes:
        if sub[0] == "had":
            for keep in (1, 2):
                yield put(tree, path, sub[keep]), lambda n: "a factor too many (⊙ applied twice?)"


def derivative_forms(tree, all_nodes):
    """A subexpression of one layer's h or z (``1 - z_l``, ``h_l ⊙ (1 - h_l)``) that
    should be the activation's derivative σ'(h_l)."""
    for path, sub in all_nodes:
        found = _vars(sub)
        if sub[0] in LEAVES or sub[0] == "call" or len(found) != 1:
            continue
        kind, spec = next(iter(found))
        if kind in ("z", "h", "a", "hhat") and spec != (None, 0):
            yield put(tree, path, SIGMA_PRIME(spec)), \
                lambda n, s=spec: f"the activation's derivative written wrong: σ'({n('h', s)})"


def renamed(tree, pspec):
    """A variable mistaken everywhere it occurs: another kind at its layer, or its kind
    at the layer one off; m for n_l and back."""
    seen = sorted(_vars(tree), key=str)
    for kind, spec in seen:
        swaps = [(other, spec) for other in OTHER_KIND.get(kind, ())]
        if spec[0] is not None or spec[1] > 0:
            swaps += [(kind, (spec[0], spec[1] + d)) for d in (-1, 1)]
        for new in swaps:
            yield _replace_var(tree, (kind, spec), new), \
                lambda n, a=(kind, spec), b=new: f"{n(*a)} where {n(*b)} belongs"
    if any(t[0] == "batch" for _, t in nodes(tree)):
        spec = ("L", 0) if pspec[0] == "L" else pspec
        width = ("width", spec)
        yield _swap_leaf(tree, ("batch",), width), \
            lambda n, s=spec: f"1/m where 1/{n('width', s)} belongs"


def _replace_var(tree, old, new):
    for path, sub in list(nodes(tree)):
        if sub[0] == "var" and (sub[1], sub[2]) == old:
            tree = put(tree, path, ("var",) + new)
    return tree


def _swap_leaf(tree, old, new):
    for path, sub in list(nodes(tree)):
        if sub == old:
            tree = put(tree, path, new)
    return tree


def signs(tree, all_nodes):
    """A term's sign flipped (a + b ↔ a − b), a term too many (an operand dropped)."""
    for path, sub in all_nodes:
        if sub[0] in ("add", "sub"):
            flipped = ("sub" if sub[0] == "add" else "add",) + sub[1:]
            yield put(tree, path, flipped), lambda n: "a term with the wrong sign"
            for keep in (1, 2):
                yield put(tree, path, sub[keep] if keep == 1 or sub[0] == "add"
                          else ("neg", sub[2])), lambda n: "a term too many"


def softmax_jacobian(tree, all_nodes, depth_spec):
    """g ⊙ f(z_L) (softmax's derivative taken elementwise) → (diag(z_L) − z_L z_Lᵀ) g."""
    z = ("var", "z", depth_spec)
    jacobian = ("sub", ("call", "diag", 0, z), ("matmul", z, ("T", z)))
    for path, sub in all_nodes:
        if sub[0] != "had":
            continue
        operands = _run(sub)
        kept = [o for o in operands
                if not _vars(o) <= {("z", depth_spec), ("h", depth_spec)}]
        if kept and len(kept) < len(operands):
            rest = kept[0]
            for o in kept[1:]:
                rest = ("had", rest, o)
            yield put(tree, path, ("matmul", jacobian, rest)), \
                lambda n: "softmax's Jacobian is not elementwise: " \
                          f"(diag({n('z', depth_spec)}) - {n('z', depth_spec)} " \
                          f"{n('z', depth_spec)}^T) g, not g ⊙ s'"


def _run(tree):
    """The operands of a left-associated run of ⊙."""
    out = []
    while tree[0] == "had":
        out.append(tree[2])
        tree = tree[1]
    return [tree] + out[::-1]


def skip_paths(tree, all_nodes):
    """A residual network's forgotten skip path: W_kᵀ δ_k where the sum over the layers
    the skip reaches, W_kᵀ δ_k + W_{k+1}ᵀ δ_{k+1}, belongs."""
    for path, sub in all_nodes:
        if sub[0] == "matmul" and sub[1][0] == "T" and sub[1][1][0] == "var" \
                and sub[1][1][1] == "W" and sub[2][0] == "var" and sub[2][1] == "delta":
            base, off = sub[2][2]
            later = (base, off + 1)
            term = ("matmul", ("T", ("var", "W", later)), ("var", "delta", later))
            yield put(tree, path, ("add", sub, term)), \
                lambda n, k=later: f"a forgotten skip path: + {n('W', k)}^T {n('delta', k)}"


def weight_decay(tree, pspec):
    """λW_l forgotten (+ λW_l), doubled (− λW_l) or halved (+ λW_l/2)."""
    lw = ("matmul", ("const", "lambda"), ("var", "W", pspec))
    for new, what in ((("add", tree, lw), "λW forgotten: + λ{W}"),
                      (("sub", tree, lw), "λW doubled (2λW, from λ‖W‖² without the 1/2?): "
                                          "- λ{W}"),
                      (("add", tree, ("div", lw, ("num", Integer(2)))), "λW halved: + λ{W}/2")):
        yield new, lambda n, w=what: w.format(W=n("W", pspec))


def repairs(tree, pspec, options, kind="W", depth_spec=("L", 0)):
    """Every repair of ``tree`` (a claim for ∂J/∂(kind, pspec)); ``options`` the
    network's options that bring their own mistakes: "dropout", "norm", "decay",
    "softmax", "residual"."""
    all_nodes = list(nodes(tree))
    yield from transposes(tree, all_nodes)
    if "decay" in options and kind == "W":
        yield from weight_decay(tree, pspec)
    yield from renamed(tree, pspec)
    yield from derivative_forms(tree, all_nodes)
    yield from factors(tree, all_nodes, specs(tree, pspec), options)
    yield from signs(tree, all_nodes)
    if "residual" in options:
        yield from skip_paths(tree, all_nodes)
    if "softmax" in options:
        yield from softmax_jacobian(tree, all_nodes, depth_spec)
