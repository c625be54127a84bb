"""The catalogue of matrix derivatives (seed 003), derived, certified and written up.

Each entry is a scalar C written in the claim syntax and the variables to differentiate
it by; the face (`derive.api.catalogue_derivations`) derives every one, and
`render_catalogue` certifies them and lays the steps out through the templates in
``templates/catalogue``.

>>> [e.expr for e in ENTRIES][:2]
['y^T A x', 'y^T A B x']
>>> from derive.api import catalogue_derivations
>>> text = render_catalogue("markdown", catalogue_derivations(ENTRIES[:1]))
>>> "yx" in text.replace("\\\\mathbf{", "").replace("}", "")
False
"""
from dataclasses import dataclass

from sympy import Symbol

from ..errors import SpecError
from ..ir.steps import Rule
from ..printing.latex import INDICATOR
from ..printing.matrix_latex import CatalogueLatexPrinter
from ..util.templates import environment

FORMATS = ("latex", "markdown")


@dataclass(frozen=True)
class Entry:
    expr: str                   # C in the claim syntax (the definition the notes chose)
    wrt: tuple                  # the variables to differentiate by
    source: str                 # "003" or "beyond 003"


#: 003's catalogue, in its order, the unfinished σ₁(Aσ₂(B)) included; then two
#: expressions SymPy's own matrix calculus gets wrong (sum of traces) or that 003's
#: least-squares cost leads to.
ENTRIES = (
    Entry("y^T A x", ("A",), "003"),
    Entry("y^T A B x", ("A", "B"), "003"),
    Entry("1/2 x^T A^T A x", ("A",), "003"),
    Entry("1/2 x^T B^T A^T A B x", ("A", "B"), "003"),
    Entry("y^T sigma(A) x", ("A",), "003"),
    Entry("y^T sigma_1(A sigma_2(B)) x", ("A", "B"), "003"),
    Entry("tr(A) + tr(A^T)", ("A",), "beyond 003"),
    Entry("1/2 ||A x - y||^2", ("A", "x"), "beyond 003"),
)


class _Blocks:
    """Numbers the definition displays of one document (the only ones referred to)."""

    def __init__(self):
        self.count = 0

    def block(self, step, printer):
        return dict(kind=step.rule, lhs=printer.doprint(step.lhs),
                    rhs=printer.doprint(step.rhs), form=step.form)

    def number(self):
        self.count += 1
        return self.count


def _chain(blocks):
    """The lines of one aligned display: the left-hand side only where it changes."""
    lines, prev = [], None
    for b in blocks:
        lines.append(dict(b, lhs="" if b["lhs"] == prev else b["lhs"]))
        prev = b["lhs"]
    return lines


def _shape_tex(printer, shape):
    rows, cols = (printer.doprint(s) for s in shape)
    if shape == (1, 1):
        return r"\mathbb{R}"
    if shape[1] == 1:
        return rf"\mathbb{{R}}^{{{rows}}}"
    return rf"\mathbb{{R}}^{{{rows} \times {cols}}}"


def _section(entry, ds, numbers, certify=True, fmt="latex"):
    first = ds[0]
    printer = CatalogueLatexPrinter(dict(names=tuple(first.scalar.order),
                                         indicator=INDICATOR[fmt]))
    shapes = [dict(name=printer.doprint(first.scalar.symbols[label]),
                   space=_shape_tex(printer, first.scalar.shapes[label]))
              for label in first.scalar.order]
    definition = [numbers.block(s, printer) for s in first.steps
                  if s.rule in (Rule.DEFINITION, Rule.INDEX)]
    number = numbers.number()
    parts = []
    for d in ds:
        blocks = [numbers.block(s, printer) for s in d.steps
                  if s.rule not in (Rule.DEFINITION, Rule.INDEX)]
        cert = d.certify() if certify else None
        parts.append(dict(
            wrt=printer.doprint(d.wrt), blocks=blocks, lines=_chain(blocks[:-1]),
            result=dict(lhs=blocks[-1]["lhs"], rhs=blocks[-1]["rhs"]),
            cert=None if cert is None else dict(
                holds=cert.holds, exact=cert.exact, entries=cert.entries // 2,
                sizes=", ".join(f"{printer.doprint(_symbol(k))} = {v}"
                                for k, v in cert.widths))))
    return dict(source=entry.source, cost=definition[0]["rhs"], shapes=shapes,
                definition=_chain(definition), number=number, parts=parts,
                free=[printer.doprint(k) for k in first.free if not k.is_Integer])


def _symbol(name):
    return Symbol(name)


def context(derived, certify=True, fmt="latex"):
    numbers = _Blocks()
    sections = [_section(e, ds, numbers, certify, fmt) for e, ds in derived]
    return dict(sections=sections, summary=_summary(sections))


def _summary(sections):
    return [dict(cost=s["cost"], wrt=p["wrt"], lhs=p["result"]["lhs"], cert=p["cert"],
                 rhs=p["result"]["rhs"], source=s["source"])
            for s in sections for p in s["parts"]]


def render_catalogue(fmt, derived, certify=True):
    """The catalogue as a complete LaTeX document or as Markdown; ``derived`` is
    [(entry, [MatrixDerivation for each of its variables])]."""
    if fmt not in FORMATS:
        raise SpecError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    template = environment("latex").get_template(f"catalogue/{fmt}.j2")
    return template.render(**context(derived, certify, fmt))


def render_one(d, fmt="markdown"):
    """One derivation (`matrix_derivative`) written up on its own."""
    if fmt not in FORMATS:
        raise SpecError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    numbers = _Blocks()
    section = _section(Entry(d.text, (d.wrt.name,), ""), [d], numbers, fmt=fmt)
    template = environment("latex").get_template(f"catalogue/{fmt}.j2")
    return template.render(sections=[section], summary=_summary([section]))
