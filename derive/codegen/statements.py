"""The code of the lines printed from engine expressions.

`printed` binds the subexpressions the lines share to locals (`bind_shared`) and prints
every line with the `ArrayPrinter`. A sum or a Hadamard product with a matrix-product
term is written as that product followed by in-place updates (``h1 = W1 @ z0`` then
``h1 += b1``): the product is a new array nobody else holds, so adding or multiplying
into it gives the same floats without a second temporary of the full size.
"""
from dataclasses import replace

from sympy import HadamardProduct, MatAdd, MatMul
from sympy.matrices.expressions import Identity, OneMatrix, ZeroMatrix
from sympy.matrices.expressions.diagonal import DiagMatrix

from .lines import Line
from .shared import bind_shared, locals_in


def _is_product(expr, batch):
    """A matrix product the printer writes as ``A @ B``: a new array of the full shape."""
    if not isinstance(expr, MatMul):
        return False
    coeff, mats = expr.as_coeff_matrices()
    special = (OneMatrix, Identity, ZeroMatrix, DiagMatrix, MatAdd)
    return coeff == 1 and len(mats) >= 2 and (batch or len(mats) == 2) and \
        not any(isinstance(m, special) for m in mats)


def _updates(expr, batch):
    """(the product, [(operator, operand)]) where ``expr`` is a sum or a Hadamard product
    with a matrix-product term, else None."""
    if not isinstance(expr, (MatAdd, HadamardProduct)):
        return None
    terms = list(expr.args)
    first = next((t for t in terms if _is_product(t, batch)), None)
    if first is None:
        return None
    terms.remove(first)
    if isinstance(expr, HadamardProduct):
        return first, [("*", t) for t in terms]
    ops = []
    for term in terms:
        coeff, _ = term.as_coeff_mmul()
        ops.append(("-", -term) if coeff.is_number and coeff < 0 else ("+", term))
    return first, ops


def statement(name, expr, printer, summed=False):
    """The code assigning ``expr`` to ``name`` (one line, or a product then updates)."""
    updates = None if summed else _updates(expr, printer._settings["batch"])
    if updates is None:
        code = printer.doprint(expr)
        if summed:
            code = f"({code}).sum(axis=1, keepdims=True)"
        return f"{name} = {code}"
    first, ops = updates
    lines = [f"{name} = {printer.doprint(first)}"]
    lines += [f"{name} {op}= {printer.doprint(term)}" for op, term in ops]
    return "\n".join(lines)


def printed(groups, printer, text):
    """The groups of lines (the forward pass, the backward pass) with their code; a
    shared subexpression's line goes before its first use, with the comment
    "``text`` of it: computed once, for <the lines using it>"."""
    flat = [line for group in groups for line in group]
    pairs = bind_shared([(line.name, line.expr) for line in flat])
    bodies = {name: expr for name, expr in pairs if name not in {ln.name for ln in flat}}
    users = _users(flat, pairs, bodies)
    out, k = [[] for _ in groups], 0
    where = [g for g, group in enumerate(groups) for _ in group]
    for name, expr in pairs:
        if name in bodies:
            comment = f"{text(expr)}: computed once, for {', '.join(users[name])}"
            out[where[k]].append(Line(statement(name, expr, printer), comment, name=name,
                                      expr=expr))
            continue
        line = flat[k]
        code = line.code if expr is None else statement(name, expr, printer, line.summed)
        out[where[k]].append(replace(line, code=code, expr=expr))
        k += 1
    return out


def _users(flat, pairs, bodies):
    """{local: labels of the lines whose code reads it, directly or through a local}."""
    users = {name: [] for name in bodies}
    labels = {line.name: line.label for line in flat}

    def reach(expr, seen):
        for loc in locals_in(expr):
            if loc.name not in seen:
                seen.add(loc.name)
                reach(bodies[loc.name], seen)
        return seen
    for name, expr in pairs:
        if name in bodies or expr is None:
            continue
        for loc in reach(expr, set()):
            users[loc].append(labels[name])
    return users
