"""The tutor's sheet of a checked chain (SPEC §3b): the student's steps with their
marks, the diagnosis and the repair of the first wrong step, beside the engine's own
results for the network, as a LaTeX document or as Markdown.

The student's steps arrive printed as LaTeX by the chain printer (from their parsed
trees, never from their text); the derivation's results are printed here by the notes'
LaTeX printer. The prose is in ``templates/check/``.
"""
from ..errors import SpecError
from ..printing.latex import latex
from ..util.templates import environment

FORMATS = ("latex", "markdown")
#: the characters of the checker's plain-text reasons, as LaTeX text mode writes them
LATEX_TEXT = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "_": "\\_", "^": "\\^{}",
              "&": "\\&", "%": "\\%", "#": "\\#", "$": "\\$", "~": "\\~{}",
              "×": "$\\times$", "⊙": "$\\odot$", "⊘": "$\\oslash$", "ᵀ": "$^\\top$",
              "σ": "$\\sigma$", "δ": "$\\delta$", "−": "-", "–": "-", "′": "'",
              "∂": "$\\partial$", "…": "\\dots{}", "γ": "$\\gamma$", "β": "$\\beta$",
              "ε": "$\\epsilon$", "λ": "$\\lambda$", "√": "$\\surd$", "·": "$\\cdot$"}


def prose(text, fmt):
    """A plain-text reason of the checker, safe in the document: LaTeX text mode
    (escaped, the math signs as math), or a Markdown code span.

    >>> prose("n_L×1 ⊙ z", "latex")
    'n\\\\_L$\\\\times$1 $\\\\odot$ z'
    >>> prose("n_L×1", "markdown")
    '`n_L×1`'
    """
    if fmt == "markdown":
        return f"`{text.replace('`', chr(39))}`" if text else ""
    return "".join(LATEX_TEXT.get(ch, ch if ord(ch) < 128 else "?") for ch in text)


def _results(d, notation):
    """The derivation's boxed results (δ's and gradients), as LaTeX (lhs, rhs) pairs."""
    depth = None if d.net.symbolic else d.net.depth
    return [dict(lhs=latex(lhs, notation, depth), rhs=latex(rhs, notation, depth))
            for lhs, rhs in d.summary()]


def _rows(report):
    rows, previous = [], None
    for s in report.steps:
        rows.append(dict(index=s.index, lhs=s.lhs_latex if s.lhs != previous else "",
                         rhs=s.latex, holds=s.holds, reason=s.reason))
        previous = s.lhs
    return rows


def _lhs(report):
    """The left-hand side in force at the first wrong step (a continuation has none)."""
    return next(s.lhs_latex for s in reversed(report.steps[:report.first_wrong + 1])
                if s.lhs_latex)


def context(d, report, notation="hz", fmt="markdown"):
    """What the templates of ``check/`` read."""
    wrong = report.steps[report.first_wrong] if report.first_wrong is not None else None
    said = {key: prose(getattr(report, key), fmt) for key in ("rule", "hint")}
    return dict(network=prose(d.net.describe(), fmt), rows=_rows(report), report=report,
                wrong=wrong, reason=prose(wrong.reason, fmt) if wrong else "", **said,
                results=_results(d, notation), total=len(report.steps),
                failing=sum(not s.holds for s in report.steps), wrong_lhs=wrong and _lhs(report))


def render_check(d, report, fmt="markdown", notation="hz"):
    """The checked chain as a complete LaTeX document or as Markdown.

    >>> from derive import Network, backprop, check_steps
    >>> net = Network.uniform(depth=2, activation="identity", loss="sse")
    >>> r = check_steps(net, "dJ/dW_2 = (z_2 - y) z_1^T")
    >>> text = render_check(backprop(net), r, "markdown")
    >>> print(next(line for line in text.splitlines() if "step 0" in line))
    \\frac{\\partial J}{\\partial W_2} &= (z_2 - y) z_1^\\top && \\times \\quad \\text{step 0}
    """
    if fmt not in FORMATS:
        raise SpecError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    template = environment("latex").get_template(f"check/{fmt}.j2")
    return template.render(**context(d, report, notation, fmt))
