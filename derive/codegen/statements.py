"""The code of the lines printed from engine expressions.

`printed` binds the subexpressions the lines share to locals (`bind_shared`) and prints
every line with the `ArrayPrinter`. A sum or a Hadamard product with a term that makes
a new full-size array (a matrix product, a scaled array, a product of arrays) is
written as that term followed by in-place updates (``h1 = W1 @ z0`` then ``h1 += b1``):
the new array is held by nobody else, so adding or multiplying into it gives the same
floats with no further temporary of the full size.
"""
from dataclasses import replace

from sympy import HadamardProduct, MatAdd, MatMul
from sympy.matrices.expressions import Identity, OneMatrix, Transpose, ZeroMatrix
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..ir.nodes import Act, MatPartial, Var
from ..printing.numpy_code import scale_broadcast
from .lines import Line
from .shared import Local, bind_shared, locals_in


def _is_product(expr, batch):
    """A matrix product the printer writes as ``A @ B``: a new array of the full shape."""
    if not isinstance(expr, MatMul):
        return False
    coeff, mats = expr.as_coeff_matrices()
    special = (OneMatrix, Identity, ZeroMatrix, DiagMatrix, MatAdd)
    return coeff == 1 and len(mats) >= 2 and (batch or len(mats) == 2) and \
        not any(isinstance(m, special) for m in mats)


def _full(expr, batch):
    """True where the printed array surely has the expression's whole shape (no ones
    left to broadcast it): a layer quantity, a cotangent, a matrix product, and sums,
    products and scalings of such."""
    if isinstance(expr, (Var, MatPartial)) or _is_product(expr, batch):
        return True
    if isinstance(expr, Local):
        return _full(expr.definition, batch)
    if isinstance(expr, (MatAdd, HadamardProduct)):
        return any(_full(a, batch) for a in expr.args)
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        return len(mats) == 1 and _full(mats[0], batch)
    return False


def _fresh(expr, batch):
    """A full-shape operand whose code makes a new array (not a name nor a view), and of
    the arrays' float dtype (an activation's derivative may be a boolean mask)."""
    if isinstance(expr, (Var, MatPartial, Local, Act, Transpose)) or not _full(expr, batch):
        return False
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        if len(mats) == 1:                 # c X: new where c is a scalar other than 1
            return coeff != 1 or _fresh(mats[0], batch)
    return True


def _lower(name, expr, printer, batch):
    """The statements computing ``expr`` into ``name`` with one new array, or None."""
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        scaled = scale_broadcast(coeff, mats)
        # a scalar is not multiplied in place: NumPy's in-place update by a Python
        # number costs more than a new array at small sizes (c (a − b) stays as printed)
        return None if scaled is None else _lower(name, scaled, printer, batch)
    if isinstance(expr, MatAdd) and printer.common_scalar(expr) is not None:
        return None                      # c a + c b: printed c (a + b), as above
    if not isinstance(expr, (MatAdd, HadamardProduct)):
        return None
    terms = list(expr.args)
    if isinstance(expr, MatAdd):      # a term that is added, not subtracted
        terms = [t for t in terms if not _negative(t)] + [t for t in terms if _negative(t)]
    first = next((t for t in terms if _fresh(t, batch) and not _negative(t)), None)
    if first is None:
        return None
    terms.remove(first)
    lines = _lower(name, first, printer, batch) or [f"{name} = {printer.doprint(first)}"]
    for term in terms:
        if isinstance(expr, HadamardProduct):
            lines.append(f"{name} *= {printer.doprint(term)}")
        elif _negative(term):
            lines.append(f"{name} -= {printer.doprint(-term)}")
        else:
            lines.append(f"{name} += {printer.doprint(term)}")
    return lines


def _negative(term):
    coeff, _ = term.as_coeff_mmul()
    return bool(coeff.is_number and coeff < 0)


def statement(name, expr, printer, summed=False):
    """The code assigning ``expr`` to ``name``: one line, or a new array then updates."""
    lines = None if summed else _lower(name, expr, printer, printer._settings["batch"])
    if lines is None:
        code = printer.doprint(expr)
        if summed:
            code = printer.reduce_code(f"({code})", 1)
        return f"{name} = {code}"
    return "\n".join(lines)


def printed(groups, printer, text):
    """The groups of lines (the forward pass, the backward pass) with their code; a
    shared subexpression's line goes before its first use, with the comment
    "``text`` of it: computed once, for <the lines using it>"."""
    flat = [line for group in groups for line in group]
    names = [line.name or line.code.split(" = ")[0] for line in flat]   # taken, too
    pairs = bind_shared(list(zip(names, (line.expr for line in flat))))
    bodies = {name: expr for name, expr in pairs if name not in set(names)}
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
