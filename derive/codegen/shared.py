"""Common subexpressions of the generated lines, computed once and bound to a local.

The engine's expressions repeat work when printed one line at a time: the layer norm's
forward centres h_l − 1 μ_l for the variance and again for x̂_l, and its δ_l takes
1 ⊘ sqrt(ε 1 + v_l) (already formed for x̂_l) and γ_l ⊙ ∂J/∂ĥ_l three times. `bind_shared`
finds every matrix subexpression that occurs at least twice in the ordered assignments
(a Hadamard product also counts where its factors are part of a longer one), replaces
it by a `Local` and puts the local's own assignment right before its first use. The
local's definition is the engine's subexpression itself, so its line is printed by the
same printer, and the text of an expression holding a local is the text of the
original expression.

>>> from sympy import HadamardProduct as H
>>> from derive.ir.nodes import Var
>>> a, b, c = (Var(k, 1, 2, 3) for k in "abc")
>>> out = bind_shared([("x", H(a, b)), ("y", H(a, b, c))])
>>> from derive.printing.numpy_code import array_code
>>> [f"{name} = {array_code(expr)}" for name, expr in out]
['a1_b1 = a1 * b1', 'x = a1_b1', 'y = a1_b1 * c1']
"""
from sympy import Basic, HadamardPower, HadamardProduct, MatAdd, MatMul, S
from sympy.core.symbol import Str
from sympy.matrices.expressions import Identity, OneMatrix, Transpose, ZeroMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..ir.nodes import Act, MatPartial, Var
from ..printing.numpy_code import CONSTANTS, cotangent_name, var_name

#: the longest name a local is given from its structure (longer ones are numbered)
MAX_NAME = 32


class Local(MatrixExpr):
    """A subexpression bound once to the Python name ``name``; ``definition`` is it.

    Its args hold the definition, so SymPy rebuilds it whole and ``atoms(Var)`` sees the
    layer quantities inside it (the printer asks whether a factor is per-sample)."""

    def __new__(cls, name, definition):
        return Basic.__new__(cls, name if isinstance(name, Str) else Str(name), definition)

    @property
    def name(self):
        return self.args[0].name

    @property
    def definition(self):
        return self.args[1]

    @property
    def shape(self):
        return self.definition.shape

    def _numpycode(self, printer):      # the hook NumPyPrinter (so ArrayPrinter) calls
        return self.name

    def _textprint(self, printer):
        return printer._print(self.definition)

    def _sympystr(self, printer):
        return self.name


def _free(expr):
    """True where the printed code does no arithmetic: a name, a view, a broadcast."""
    if isinstance(expr, (Var, MatPartial, Local, OneMatrix, Identity, ZeroMatrix)):
        return True
    if isinstance(expr, Transpose):
        return _free(expr.arg)
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        if all(isinstance(m, OneMatrix) for m in mats):      # ε 1: a scalar, broadcast
            return coeff.is_Atom
        core = _broadcast_core(mats)
        return coeff in (S.One, S.NegativeOne) and core is not None and _free(core)
    return False


def _broadcast_core(mats):
    """X of the factors [1 (k×1)] X [1 (1×k)] (ones only as broadcasts), else None."""
    mats = list(mats)
    if len(mats) > 1 and isinstance(mats[0], OneMatrix) and mats[0].shape[1] == 1:
        mats = mats[1:]
    if len(mats) > 1 and isinstance(mats[-1], OneMatrix) and mats[-1].shape[0] == 1:
        mats = mats[:-1]
    return mats[0] if len(mats) == 1 else None


def _candidate(expr):
    if not isinstance(expr, MatrixExpr) or _free(expr) or isinstance(expr, Act):
        return False
    if isinstance(expr, MatMul):     # a broadcast of something costly: bind the core
        coeff, mats = expr.as_coeff_matrices()
        return not (coeff == 1 and _broadcast_core(mats) is not None and len(mats) > 1)
    return True


def _children(expr):
    if isinstance(expr, (Var, MatPartial, Local, Act)) or not isinstance(expr, Basic):
        return ()
    return expr.args


def _count(exprs):
    """{subexpression: occurrences} over the expressions, a Hadamard product also
    counting once per longer product holding all its factors."""
    counts, products = {}, []

    def walk(expr):
        if _candidate(expr):
            counts[expr] = counts.get(expr, 0) + 1
            if isinstance(expr, HadamardProduct):
                products.append(expr)
        for arg in _children(expr):
            walk(arg)
    for expr in exprs:
        walk(expr)
    for short in [p for p in counts if isinstance(p, HadamardProduct)]:
        factors = set(short.args)
        counts[short] += sum(1 for p in products
                             if len(p.args) > len(factors) and factors <= set(p.args))
    return counts


def _replace(expr, target, local):
    """``expr`` with ``target`` (and the factors of a target Hadamard product inside a
    longer one) replaced by ``local``."""
    if expr == target:
        return local
    if isinstance(target, HadamardProduct) and isinstance(expr, HadamardProduct) and \
            len(expr.args) > len(target.args) and set(target.args) <= set(expr.args):
        rest = [a for a in expr.args if a not in target.args]
        return HadamardProduct(local, *(_replace(a, target, local) for a in rest))
    args = _children(expr)
    if not args:
        return expr
    new = tuple(_replace(a, target, local) for a in args)
    return expr if new == args else expr.func(*new)


def _size(expr):
    return 1 + sum(_size(a) for a in _children(expr))


def local_name(expr, taken):
    """A name that says what the local holds: ``gamma3_dJ_dhhat3``, ``h3_minus_mu3``,
    ``rsqrt_eps_plus_var3``; ``shared<k>`` where that grows long or is taken."""
    name = _describe(expr)
    if name is None or len(name) > MAX_NAME or name in taken:
        k = 1
        while f"shared{k}" in taken:
            k += 1
        return f"shared{k}"
    return name


def _describe(expr):
    if isinstance(expr, Var):
        return var_name(expr.kind, expr.layer)
    if isinstance(expr, MatPartial):
        return cotangent_name(expr.wrt)
    if isinstance(expr, Local):
        return expr.name
    if isinstance(expr, Transpose):
        inner = _describe(expr.arg)
        return inner and f"{inner}T"
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        if mats and all(isinstance(m, OneMatrix) for m in mats):    # ε 1: eps
            return CONSTANTS.get(coeff) if coeff.is_Symbol else None
        core = _broadcast_core(mats)
        parts = [_describe(m) for m in ([core] if core is not None else mats)]
        return None if None in parts or coeff not in (1, -1) else "_".join(parts)
    if isinstance(expr, HadamardProduct):
        parts = [_describe(a) for a in expr.args]
        return None if None in parts else "_".join(parts)
    if isinstance(expr, MatAdd):
        return _describe_sum(expr)
    if isinstance(expr, HadamardPower):
        base = _describe(expr.base)
        prefix = {S.Half: "sqrt", -S.Half: "rsqrt", S(-1): "inv", S(2): "sq"}.get(expr.exp)
        return base and prefix and f"{prefix}_{base}"
    return None


def _describe_sum(expr):
    """The terms joined by plus and minus, the added ones first, a constant last."""
    plus, minus = [], []
    for term in expr.args:
        coeff, _ = term.as_coeff_mmul()
        (minus if coeff.is_number and coeff < 0 else plus).append(
            _describe(-term if coeff.is_number and coeff < 0 else term))
    if None in plus + minus or not plus:
        return None
    plus.sort(key=lambda part: part in CONSTANTS.values())
    return "_plus_".join(plus) + "".join(f"_minus_{part}" for part in minus)


def bind_shared(assignments):
    """[(name, expr or None)] with each repeated subexpression bound once: the
    assignments of the locals are inserted before their first use, in order.

    An expr of None (a line not printed from an expression) is passed through. The
    expressions are bound group by group first (`_groups`: those sharing a
    subexpression of some layer's quantities), then once more all together for what
    spans groups (a constant such as ε 1), so the work grows with the network's depth,
    not with its square."""
    exprs = [e for _, e in assignments]
    taken = {name for name, _ in assignments}
    bodies = {}                 # local name -> its definition, itself with locals
    groups = _groups(exprs)
    for group in groups:
        bound, own = _bind_group([exprs[i] for i in group], {}, taken, layered=True)
        bodies.update(own)
        exprs = _put(exprs, group, bound)
    everything = sorted(i for group in groups for i in group)
    bound, bodies = _bind_group([exprs[i] for i in everything], bodies, taken)
    exprs = _put(exprs, everything, bound)
    return _place(assignments, exprs, bodies)


def _put(exprs, indices, values):
    out = list(exprs)
    for i, value in zip(indices, values):
        out[i] = value
    return out


def _bind_group(exprs, bodies, taken, layered=False):
    """Bind the repeated subexpressions of ``exprs`` and ``bodies`` (the definitions
    of the locals so far), the largest first: (exprs, bodies) with the new locals.
    ``layered``: only those holding a layer quantity (the rest span groups)."""
    while True:
        counts = _count(exprs + list(bodies.values()))
        shared = [e for e, n in counts.items() if n >= 2 and not
                  (layered and not e.atoms(Var, MatPartial))]
        if not shared:
            return exprs, bodies
        largest = max(_size(e) for e in shared)
        target = max((e for e in shared if _size(e) == largest), key=str)
        local = Local(local_name(target, taken), target)
        taken.add(local.name)
        exprs = [_replace(e, target, local) for e in exprs]
        bodies = {name: _replace(body, target, local) for name, body in bodies.items()}
        bodies[local.name] = target


def _groups(exprs):
    """The indices of the non-None expressions, grouped: two are in one group when a
    subexpression holding a layer quantity (`Var`, `MatPartial`) that `_count` counts
    occurs in both, or a Hadamard product in a longer one holding all its factors."""
    parent = {i: i for i, e in enumerate(exprs) if e is not None}

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first, by_factor, products = {}, {}, []
    for i in parent:
        for sub in _subtrees(exprs[i]):
            parent[root(i)] = root(first.setdefault(sub, i))
            if isinstance(sub, HadamardProduct):
                products.append((sub, i))
                for factor in sub.args:
                    by_factor.setdefault(factor, []).append((set(sub.args), i))
    for short, i in products:
        factors = set(short.args)
        for longer, j in min((by_factor[f] for f in factors), key=len):
            if len(longer) > len(factors) and factors <= longer:
                parent[root(i)] = root(j)
    groups = {}
    for i in parent:
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _subtrees(expr):
    """The subexpressions of ``expr`` that `_count` counts and that hold a layer
    quantity (walked without recursion)."""
    out, stack = set(), [expr]
    while stack:
        e = stack.pop()
        if _candidate(e) and e.atoms(Var, MatPartial):
            out.add(e)
        stack.extend(_children(e))
    return out


def _place(assignments, exprs, bodies):
    out, done = [], set()

    def emit_locals(expr):
        for loc in sorted(locals_in(expr), key=lambda loc: loc.name):
            if loc.name not in done:
                done.add(loc.name)
                emit_locals(bodies[loc.name])
                out.append((loc.name, bodies[loc.name]))
    for (name, _), expr in zip(assignments, exprs):
        if expr is not None:
            emit_locals(expr)
        out.append((name, expr))
    return out


def locals_in(expr):
    found = set()

    def walk(e):
        if isinstance(e, Local):
            found.add(e)
            return
        for arg in _children(e):
            walk(arg)
    walk(expr)
    return found
