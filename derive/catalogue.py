"""The catalogue of matrix derivatives (seed 003), derived, certified and written up.

Each entry is a scalar C written in the claim syntax and the variables to differentiate
it by; `render_catalogue` derives every one with `matrix_derivative`, certifies it and
lays the steps out through the templates in ``templates/catalogue``.

>>> [e.expr for e in ENTRIES][:2]
['y^T A x', 'y^T A B x']
>>> "yx" in render_catalogue("markdown", ENTRIES[:1]).replace("\\\\mathbf{", "").replace("}", "")
False
"""
from dataclasses import dataclass

from .derivation import Rule
from .errors import SpecError
from .free_claims import parse_free
from .matrix_build import build_scalar
from .matrix_derivative import derive_scalar
from .matrix_print import CatalogueLatexPrinter
from .render import environment

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


def derivations(entries=ENTRIES):
    """[(entry, [MatrixDerivation per wrt])] for the entries. The sizes of an entry are
    named once (after its first variable), so all its derivations share the letters."""
    out = []
    for e in entries:
        scalar = build_scalar(parse_free(e.expr), e.wrt[0])
        out.append((e, [derive_scalar(e.expr, scalar, w) for w in e.wrt]))
    return out


class _Blocks:
    """Numbers the displayed equations of one document."""

    def __init__(self):
        self.count = 0

    def block(self, step, printer):
        self.count += 1
        return dict(kind=step.rule, number=self.count, lhs=printer.doprint(step.lhs),
                    rhs=printer.doprint(step.rhs), form=step.form)


def _shape_tex(printer, shape):
    rows, cols = (printer.doprint(s) for s in shape)
    if shape == (1, 1):
        return r"\mathbb{R}"
    if shape[1] == 1:
        return rf"\mathbb{{R}}^{{{rows}}}"
    return rf"\mathbb{{R}}^{{{rows} \times {cols}}}"


def _section(entry, ds, numbers, certify=True):
    first = ds[0]
    printer = CatalogueLatexPrinter(dict(names=tuple(first.scalar.order)))
    shapes = [dict(name=printer.doprint(first.scalar.symbols[label]),
                   space=_shape_tex(printer, first.scalar.shapes[label]))
              for label in first.scalar.order]
    definition = [numbers.block(s, printer) for s in first.steps
                  if s.rule in (Rule.DEFINITION, Rule.INDEX)]
    parts = []
    for d in ds:
        blocks = [numbers.block(s, printer) for s in d.steps
                  if s.rule not in (Rule.DEFINITION, Rule.INDEX)]
        cert = d.certify() if certify else None
        parts.append(dict(
            wrt=printer.doprint(d.wrt), blocks=blocks,
            result=dict(lhs=blocks[-1]["lhs"], rhs=blocks[-1]["rhs"]),
            cert=None if cert is None else dict(
                holds=cert.holds, exact=cert.exact, entries=cert.entries // 2,
                sizes=", ".join(f"{printer.doprint(_symbol(k))} = {v}"
                                for k, v in cert.widths))))
    return dict(source=entry.source, cost=definition[0]["rhs"], shapes=shapes,
                definition=definition, parts=parts,
                free=[printer.doprint(k) for k in first.free if not k.is_Integer])


def _symbol(name):
    from sympy import Symbol
    return Symbol(name)


def context(entries=ENTRIES, certify=True):
    numbers = _Blocks()
    sections = [_section(e, ds, numbers, certify) for e, ds in derivations(entries)]
    summary = [dict(cost=s["cost"], wrt=p["wrt"], lhs=p["result"]["lhs"],
                    rhs=p["result"]["rhs"]) for s in sections for p in s["parts"]]
    return dict(sections=sections, summary=summary)


def render_catalogue(fmt="latex", entries=ENTRIES, certify=True):
    """The catalogue as a complete LaTeX document or as Markdown."""
    if fmt not in FORMATS:
        raise SpecError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    template = environment().get_template(f"catalogue/{fmt}.j2")
    return template.render(**context(entries, certify))


def render_one(d, fmt="markdown"):
    """One derivation (`matrix_derivative`) written up on its own."""
    if fmt not in FORMATS:
        raise SpecError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    numbers = _Blocks()
    section = _section(Entry(d.text, (d.wrt.name,), ""), [d], numbers)
    template = environment().get_template(f"catalogue/{fmt}.j2")
    return template.render(sections=[section], summary=[])
