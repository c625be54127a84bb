"""Displays: a section's steps grouped into aligned chains of equalities.

Consecutive steps of one group (a δ written entry by entry and then as a vector are one
family) become one display; a side result derived in the middle of a chain (the local
derivative of an activation, the Jacobian of a linear map) becomes a display of its own,
placed just before the chain that uses it. Each line after the first carries codes for
its justification (which earlier display it uses, whether an indicator was summed out,
whether the line moves from entries to the whole vector); the templates turn the codes
into words. What a display contains (a ⊙, an indicator, a δ of the layer above, a
bias, a softmax Jacobian, the cancellation) is read off the SymPy objects, never off
printed LaTeX, so the lead-in sentence can say only what the equation shows.
"""
from dataclasses import replace

from sympy import Add, Basic, DiagMatrix, Indexed, IndexedBase, KroneckerDelta, Sum, Transpose, fraction
from sympy.matrices.expressions import MatAdd
from sympy.matrices.expressions.hadamard import HadamardProduct

from ..ir.nodes import MatPartial, Partial, Var
from ..ir.steps import Rule, Step
from ..vocab import DATA_LOSS, LOSS

#: groups that continue another group's chain (entries first, then the whole vector)
FAMILY = {"delta_matrix": "delta", "jacobian": "local"}


def chains(steps):
    """The steps in display order, as lists of steps (one list per display)."""
    order, members = [], {}
    for i, s in enumerate(steps):
        key = FAMILY.get(s.group, s.group) or s.rule
        if key not in members:
            order.append(key)
            members[key] = []
        members[key].append((i, s))
    span = {k: (v[0][0], v[-1][0]) for k, v in members.items()}

    def place(key):
        first = span[key][0]
        for other in order:
            lo, hi = span[other]
            if other != key and lo < first < hi:
                return (lo, 0, first)
        return (first, 1, 0)

    return [[s for _, s in members[k]] for k in sorted(order, key=place)]


def _terms(expr):
    return list(expr.args) if isinstance(expr, (MatAdd, Add)) else [expr]


def _cotangent(term):
    """The V of a term ∂J/∂V (or its row (∂J/∂V)ᵀ), else None."""
    term = term.arg if isinstance(term, Transpose) else term
    return term.wrt if isinstance(term, MatPartial) and term.num == LOSS else None


def routes(group):
    """A chain whose last line adds a second route to the loss (the penalty of weight
    decay, a skip connection) told truthfully: every line names what it equals.

    The engine's chain derives one route and then writes ``∂J/∂V = (that route) + (the
    other)`` under the same left-hand side, which read literally says the other route
    is zero. With the penalty λW_l as the other route, the lines before name the data
    loss's partial (∂J_data/∂W_l) and the last line reads ∂J/∂W_l = ∂J_data/∂W_l + λW_l
    = …; with a cotangent ∂J/∂z_{l+1} (a skip connection) as the other route, every
    line carries that route's term (entry by entry in the index lines), so the sum is in
    each line and the closing line, now a repeat, is dropped."""
    at = next((n for n, s in enumerate(group) if n and s.rule == Rule.ACCUMULATION
               and s.lhs == group[n - 1].lhs), None)
    if at is None:
        return group
    prev, acc = group[at - 1], group[at]
    mine = _terms(prev.rhs)
    other = [t for t in _terms(acc.rhs) if t not in mine]
    if not other or any(t not in _terms(acc.rhs) for t in mine):
        return group
    if all(_cotangent(t) is None for t in other):      # the penalty: name J_data's part
        data = [replace(s, lhs=s.lhs.xreplace({LOSS: DATA_LOSS})) for s in group[:at]]
        split = MatAdd(prev.lhs.xreplace({LOSS: DATA_LOSS}), *other)
        return data + [replace(acc, rhs=split),
                       Step(acc.lhs, acc.rhs, Rule.SUBSTITUTION, acc.layer, acc.topic,
                            acc.form, acc.group)] + group[at + 1:]
    if len(other) != 1:
        return group
    carried = [_with_route(s, other[0]) for s in group[:at]]
    return carried + group[at + 1:] if None not in carried else group


def _with_route(step, term):
    """``step`` with the other route's ``term`` added to its right-hand side (its entry
    at the left-hand side's indices in an index line); None if it cannot be written."""
    if step.form == "matrix":
        return replace(step, rhs=MatAdd(step.rhs, term))
    wrt = step.lhs.wrt if isinstance(step.lhs, Partial) else None
    if not isinstance(wrt, Indexed) or step.lhs.num != LOSS:
        return None
    return replace(step, rhs=Add(step.rhs, Partial(LOSS, IndexedBase(_cotangent(term))[
        wrt.indices])))


def _count(expr, cls):
    return sum(1 for a in _nodes(expr) if isinstance(a, cls))


def _nodes(expr):
    return list(expr.atoms(KroneckerDelta, HadamardProduct, Var, Partial, MatPartial,
                           Transpose, DiagMatrix)) if isinstance(expr, Basic) else []


def _derivatives(expr):
    return {a for a in _nodes(expr) if isinstance(a, (Partial, MatPartial))}


def features(lines, layer):
    """What a display contains, from its SymPy objects (for the lead-in)."""
    rhs = [s.rhs for s in lines]
    last = lines[-1]
    above = any((isinstance(a, Var) and a.kind == "delta" and a.layer != layer) or
                (isinstance(a, MatPartial) and isinstance(a.wrt, Var) and a.wrt.kind == "h"
                 and a.wrt.layer != layer)      # the row form of that error
                for r in rhs for a in _nodes(r))
    return dict(
        hadamard=_count(last.rhs, HadamardProduct) > 0,
        indicator=_count(lines[0].rhs, KroneckerDelta) > 0,
        indicator_left=_count(last.rhs, KroneckerDelta) > 0,
        above=above,
        transpose=any(isinstance(a, Transpose) and not isinstance(a.arg, MatPartial)
                      for a in _nodes(last.rhs)),     # a row derivative shows no ᵀ
        softmax=any(s.rule == Rule.SOFTMAX_JACOBIAN for s in lines)
        or any(_count(r, DiagMatrix) for r in rhs),
        cancel=any(s.rule == Rule.CANCELLATION for s in lines),
        paths=any(s.rule == Rule.ACCUMULATION for s in lines),     # a residual / decay term
        matrix=last.form == "matrix", index=lines[0].form == "index",
        vector=any(s.form == "matrix" for s in lines) and lines[0].form == "index")


def _target_sum(expr):
    """Does ``expr`` hold a sum of the target's entries (Σ_i y_i)?"""
    return any(isinstance(a, Sum) and any(isinstance(v, Var) and v.kind == "y"
                                          for v in a.function.atoms(Var))
               for a in expr.atoms(Sum)) if isinstance(expr, Basic) else False


def _one_fraction(expr):
    """Is ``expr`` a single fraction (a denominator other than 1)?"""
    return isinstance(expr, Basic) and not expr.is_Matrix and fraction(expr)[1] != 1 \
        and not isinstance(expr, Add)


def justify(prev, step, known):
    """Codes for why ``step`` follows from ``prev``: ("ref", n) for an earlier numbered
    display whose left-hand side disappeared, "contract" when an indicator was summed
    out, "vector" when the line collects the entries into a vector, "cancel"."""
    if step.rule in Rule.SELF_EVIDENT:
        return [("rule", step.rule)]
    codes = []
    gone = _derivatives(prev.rhs) - _derivatives(step.rhs)
    if step.form == prev.form:
        for number in sorted({n for key, n in known if key in gone}):
            codes.append(("ref", number))
    if _count(step.rhs, KroneckerDelta) < _count(prev.rhs, KroneckerDelta):
        codes.append(("contract", 0))
    if step.rule == Rule.CANCELLATION and step.form == prev.form:
        codes.append(("words", "the targets sum to 1") if _target_sum(prev.rhs) and not
                     _target_sum(step.rhs) else ("cancel", 0))
    if step.rule == Rule.SUBSTITUTION and not codes and not gone:
        codes.append(("words", "one fraction" if _one_fraction(step.rhs) else "simplify"))
    if step.form == "matrix" and prev.form == "index":
        codes.append(("vector", 0))
    if not codes:
        codes.append(("rule", step.rule))
    return codes


def displays(steps, printer, numbers):
    """Printed displays for one section; ``numbers`` (shared by the document) hands out
    equation numbers to displays that a later line refers to."""
    out = []
    for raw in chains(steps):
        group = routes(raw)
        head = group[0]
        lines, prev, shown = [], None, []
        for s in group if head.group != "wbar" else []:
            if prev is not None and s.lhs == prev.lhs and (
                    s.rhs == prev.rhs or printer.tex(s.rhs) == lines[-1]["rhs"]):
                continue        # a line identical to the one before says nothing
            shown.append(s)
            why = [] if prev is None or (s.lhs != prev.lhs and s.group == "norm_delta") \
                else justify(prev, s, numbers.known)
            for code, n in why:
                if code == "ref":
                    numbers.used.add(n)
            same = prev is not None and s.lhs == prev.lhs
            lines.append(dict(lhs="" if same else printer.tex(s.lhs), rhs=printer.tex(s.rhs),
                              rel=r"\leftarrow" if s.topic == "update" else "=", why=why))
            prev = s
        number = numbers.next()
        for s in group:     # a row (numerator layout) is known by its column's name
            numbers.known.append((s.lhs.arg if isinstance(s.lhs, Transpose) else s.lhs,
                                  number))
        out.append(dict(kind=FAMILY.get(head.group, head.group) or "rule", rule=head.rule,
                        lines=lines, number=number, layer=printer.layer(head.layer),
                        up=printer.layer(head.layer + 1) if isinstance(head.layer, Basic) else "",
                        note=head.note, topic=head.topic, has=features(raw, head.layer),
                        steps=shown,
                        lhs=printer.tex(group[-1].lhs), rhs=printer.tex(group[-1].rhs)))
    return out


class Numbers:
    """Candidate numbers for a document's displays; only the used ones are printed."""

    def __init__(self):
        self.count, self.known, self.used = 0, [], set()

    def next(self):
        self.count += 1
        return self.count

    def finish(self, sections):
        """Renumber: displays that are referred to get 1, 2, … in reading order, the
        others none (0); the references inside lines follow."""
        new, k = {}, 0
        for blocks in sections:
            for b in blocks:
                if b["number"] in self.used:
                    k += 1
                    new[b["number"]] = k
        for blocks in sections:
            for b in blocks:
                b["number"] = new.get(b["number"], 0)
                for line in b["lines"]:
                    line["why"] = [(c, new.get(n, n) if c == "ref" else n)
                                   for c, n in line["why"]]
