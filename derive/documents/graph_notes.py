"""`render_graph`: the lecture notes of a network of calls (a convolutional network, and
any network `derive.engine.graph` derives), as LaTeX or Markdown.

The lesson (`derive.documents.graph_lesson`) holds every equation as the engine's SymPy
object; this module prints each with `derive.printing.graph_latex.GraphLatexPrinter`
(the notes' printer in the chosen notation, with the convolution's nodes) and hands the
printed math to the templates ``templates/notes/graph/``. The templates hold the prose
and the layout; the lead-in of each display is chosen by its kind and says what that
display shows.

>>> from derive import Network, backprop
>>> d = backprop(Network.conv1d(channels=(1, 2), kernel=2, length=4, head_widths=(2,)))
>>> text = render_graph(d, "markdown")
>>> "\\\\operatorname{corr}\\\\left(Z_{0}, K_{1}\\\\right)" in text
True
"""
import os
import re

from sympy import IndexedBase, Integer

from ..errors import SpecError
from ..ir.nodes import MatPartial, Var
from ..ir.quantities import KINDS
from ..printing import notation as _notation
from ..printing.graph_latex import GraphLatexPrinter, operator_name
from ..printing.latex import INDICATOR
from ..util.templates import environment
from ..vocab import LOSS
from .graph_lesson import FREE, SLOTS, lesson

FORMATS = ("latex", "markdown")
DETAILS = ("brief", "standard", "full")
#: the architectures' names in a title and in the prose (any other: its ``arch`` word)
ARCH_TITLES = {"conv1d": "a 1-D convolutional network", "conv2d": "a 2-D convolutional network"}
#: operators defined in words rather than by their component (`graph_lesson.operators`)
IN_WORDS = ("vec",)
#: LaTeX's special characters in a plain title
TEX_PLAIN = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}"}


def is_graph(d):
    """Whether ``d`` is the derivation of a network of calls: it has cotangents and a
    forward pass, and its network names its architecture (an MLP's does not)."""
    return hasattr(d, "cotangents") and hasattr(d, "forward") and \
        isinstance(getattr(getattr(d, "net", None), "arch", None), str)


class _Printer:
    """Prints the lesson's SymPy objects in one notation and format."""

    def __init__(self, notation, fmt):
        self.nt = _notation.get(notation, "denominator")
        self.p = GraphLatexPrinter(dict(notation=self.nt, indicator=INDICATOR[fmt],
                                        human=True))

    def tex(self, expr):
        return self.p.doprint(expr)

    def factor(self, size):
        """A size as a factor of a product (a sum in parentheses)."""
        tex = self.tex(size)
        return rf"\left({tex}\right)" if size.is_Add else tex

    def var(self, q):
        """A quantity Q (kind, layer) as its symbol (the loss as J)."""
        if q.kind == "J":
            return self.tex(LOSS)
        return self.tex(Var(q.kind, q.layer, 1, 1))

    def cot(self, q):
        return self.tex(MatPartial(LOSS, Var(q.kind, q.layer, 1, 1)))

    def lines(self, pairs):
        return [dict(lhs="" if lhs is None else self.tex(lhs), rhs=self.tex(rhs))
                for lhs, rhs in pairs]


def _display(pr, disp):
    facts = disp.facts
    out = dict(kind=disp.kind, lines=pr.lines(disp.lines))
    if "var" in facts:
        paths = [dict(op=op, out=pr.var(q), cot=pr.cot(q), loss=q.kind == "J")
                 for op, _, q in facts["paths"]]
        out.update(var=pr.tex(facts["var"]), cot=pr.tex(MatPartial(LOSS, facts["var"])),
                   paths=paths, count=len(paths), brackets=facts["brackets"], flip=facts["flip"],
                   loss=facts["loss"])
    else:
        out.update(layer=pr.p.layer_tex(facts["layer"]), ops=facts["ops"])
    return out


def _with_runs(pr, displays):
    """Each display printed, except one whose rule (its kind and the calls and ports it
    goes through) an earlier display of the section derived already: consecutive such
    repeats are one display of their matrix forms (kind ``repeat``, with their calls)."""
    seen, out = set(), []
    for disp in displays:
        rule = disp.facts["rule"]
        if rule not in seen:
            seen.add(rule)
            out.append(_display(pr, disp))
            continue
        if out[-1]["kind"] != "repeat":
            out.append(dict(kind="repeat", lines=[], ops=[], calls=0))
        out[-1]["lines"] += pr.lines(disp.lines[-1:])
        out[-1]["calls"] += len(disp.facts["paths"])
        for op, _, _ in disp.facts["paths"]:
            if op not in out[-1]["ops"]:
                out[-1]["ops"].append(op)
    return out


def _forward(pr, displays):
    """The forward pass as one display, and each layer's calls for its lead-in."""
    return dict(lines=[line for disp in displays for line in pr.lines(disp.lines)],
                layers=[dict(layer=pr.p.layer_tex(disp.facts["layer"]), ops=disp.facts["ops"])
                        for disp in displays])


def _shapes(pr, quantities):
    """One row per quantity: its symbol, its shape, and one entry at free indices."""
    rows = []
    for v in quantities:
        r, c = v.shape
        reads = KINDS[v.kind].indices if v.kind in KINDS else "entries"
        entry = IndexedBase(v)[FREE[:SLOTS.get(reads, 2) if c != 1 else 1]]
        rows.append(dict(var=pr.tex(v), rows=pr.factor(r), cols=pr.factor(c), reads=reads,
                         entry=pr.tex(entry), trained=v.kind in KINDS and KINDS[v.kind].trained))
    return rows


def _sizes(pr, values):
    """One row per family of sizes (the widths n_l, the lengths N_l, …): its key and
    every member ``symbol = value``, printed."""
    groups = {}
    for symbol, value in sorted(values.items(), key=lambda kv: str(kv[0])):
        key = symbol.base.label.name if hasattr(symbol, "base") else symbol.name
        groups.setdefault(key, []).append(f"{pr.tex(symbol)} = {pr.tex(Integer(value))}")
    return [dict(key=key, members=items) for key, items in groups.items()]


def _plain(value, fmt):
    """A plain title in the output format (LaTeX's special characters escaped)."""
    if fmt != "latex":
        return str(value)
    return "".join(TEX_PLAIN.get(ch, ch if ord(ch) < 128 else "?") for ch in str(value))


def _operators(pr, pairs):
    """The printed definitions, and the names of the operators defined in words."""
    out, words = [], set()
    for lhs, rhs in pairs:
        name = operator_name(lhs.base.label)
        if name in IN_WORDS:
            words.add(name)
            continue
        out.append(dict(lhs=pr.tex(lhs), rhs=pr.tex(rhs), name=name))
    return out, sorted(words)


def _chain(pr, d):
    """The diagram's row: the first call's input, then every call's output, each with
    its cotangent (none for the input and the loss), the call writing it, and ``skips``:
    the 1-based places of the earlier outputs it also reads (not the one just before)."""
    first = d.forward[0]
    inputs = sorted((v for v in first.rhs.atoms(Var) if not KINDS[v.kind].trained), key=str)
    row = [dict(q=pr.tex(inputs[0]), cot="", op="", skips=[])] if inputs else []
    place = {(v.kind, v.layer): 1 for v in inputs[:1]}
    for s in d.forward:
        cot = pr.tex(MatPartial(LOSS, s.lhs)) if isinstance(s.lhs, Var) else ""
        reads = {place[v.kind, v.layer] for v in s.rhs.atoms(Var) if (v.kind, v.layer) in place}
        row.append(dict(q=pr.tex(s.lhs), cot=cot, op=s.op,
                        skips=sorted(n for n in reads if n < len(row))))
        if isinstance(s.lhs, Var):
            place[s.lhs.kind, s.lhs.layer] = len(row)
    return row


def _code(value, fmt):
    """An op's name as code: ``\\texttt`` in LaTeX (its underscores escaped), a code span
    in Markdown."""
    if fmt == "latex":
        return r"\texttt{" + str(value).replace("_", r"\_") + "}"
    return f"`{value}`"


def context(d, notation="hz", fmt="latex", title=None, detail="standard"):
    """What the templates of ``notes/graph/`` read."""
    pr = _Printer(notation, fmt)
    les = lesson(d)
    net = d.net
    arch = getattr(net, "arch", "graph")
    reads = sorted({row["reads"] for row in _shapes(pr, les["quantities"])})
    defined, words = _operators(pr, les["operators"])
    chain = _chain(pr, d)
    return dict(
        arch=arch, arch_title=ARCH_TITLES.get(arch, f"a {arch} network"), title=title,
        description=net.describe() if hasattr(net, "describe") else arch, detail=detail,
        reads=reads,
        sizes=_sizes(pr, d.sizes()), masked=any(s.op.startswith("max_pool") for s in d.forward),
        shapes=_shapes(pr, les["quantities"]),
        operators=defined, in_words=words,
        forward=_forward(pr, les["forward"]),
        backward=_with_runs(pr, les["backward"]), gradients=_with_runs(pr, les["gradients"]),
        summary=pr.lines(les["summary"]),
        algorithm=dict(forward=pr.lines(les["algorithm"]["forward"]),
                       backward=pr.lines(les["algorithm"]["backward"]),
                       step=pr.lines(les["algorithm"]["step"])),
        chain=chain, skips=any(n["skips"] for n in chain), loss=pr.tex(LOSS),
        nt=dict(name=pr.nt.name, title=pr.nt.title),
        m=lambda tex: f"${tex}$", c=lambda value: _code(value, fmt),
        t=lambda value: _plain(value, fmt))


def render_graph(d, fmt="latex", notation="hz", layout=None, svg_name="diagram.svg",
                 title=None, detail="standard", standalone=True, templates=None):
    """The notes of a network of calls: ``fmt`` ``"latex"`` or ``"markdown"``;
    ``detail`` ``"brief"`` (the boxed results and the algorithm) or ``"standard"`` /
    ``"full"`` (everything: a network of calls is derived call by call either way);
    ``svg_name`` the diagram a Markdown document shows (`graph_diagram.graph_svg`);
    ``standalone=False`` a fragment (no preamble, no title block); ``templates`` a folder
    of replacements for the shipped templates. The cotangents are columns laid out like
    their quantities (denominator layout): ``layout="numerator"`` is refused."""
    if fmt not in FORMATS:
        raise SpecError(f"format {fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    if detail not in DETAILS:
        raise SpecError(f"detail {detail!r} is not allowed; allowed: {', '.join(DETAILS)}")
    if layout not in (None, "denominator"):
        raise SpecError(f"layout {layout!r} is not allowed for a network of calls; its "
                        "notes are in denominator layout (cotangents shaped like their "
                        "quantities)")
    if templates is not None and not os.path.isdir(templates):
        raise SpecError(f"templates: {templates!r} is not a folder")
    ctx = context(d, notation, fmt, title, detail)
    ctx.update(standalone=bool(standalone), svg_name=svg_name)
    template = environment("latex", templates).get_template(f"notes/graph/{fmt}/document.j2")
    text = re.sub(r"\n{3,}", "\n\n", template.render(**ctx))
    if fmt == "latex":    # a lead-in and its display are one paragraph
        text = re.sub(r"(\S)\n\n(\\begin\{equation\*\})", r"\1\n\2", text)
    return text
