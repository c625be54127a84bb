r"""`Verdict`: what checking a claim found, and its text for the command line.

>>> print(format_verdict(Verdict(False, "differs", correct="(z_2 - y) z_1^T",
...                              correct_latex=r"(z_2 - y) z_1^\top")))
DOES NOT HOLD: differs
correct form: (z_2 - y) z_1^T
       LaTeX: (z_2 - y) z_1^\top
>>> print(format_verdict(Verdict(True, "holds", checked=[{"m": 2, "n": 3}],
...                              exact=[{"m": 2, "n": 3}])))
HOLDS: holds
checked at sizes m=2, n=3 (50 digits); proved exactly
"""
from dataclasses import dataclass, field

from ..ir import display


@dataclass
class Verdict:
    holds: bool
    reason: str
    counterexample: dict = None
    correct: str = ""
    correct_latex: str = ""
    checked: list = field(default_factory=list)    # depths checked, or [sizes dict]
    exact: list = field(default_factory=list)      # depths proved exactly, or [sizes]

    def __bool__(self):
        return self.holds

    def _repr_markdown_(self):
        """Notebook display: HOLDS / DOES NOT HOLD, the reason, the correct form typeset."""
        return display.markdown(self)


def format_verdict(v):
    """The verdict as readable lines (``derive verify`` and ``derive catalogue --claim``).

    A network verdict's ``checked`` holds the depths checked; an identity verdict's
    holds one dict of the concrete sizes (``{"m": 2, "n": 3}``).
    """
    lines = [("HOLDS: " if v.holds else "DOES NOT HOLD: ") + v.reason]
    identity = bool(v.checked) and isinstance(v.checked[0], dict)
    if identity:
        sizes = ", ".join(f"{k}={n}" for k, n in v.checked[0].items())
        lines.append(f"checked at sizes {sizes} (50 digits)" +
                     ("; proved exactly" if v.exact else ""))
    elif v.checked:
        lines.append("checked numerically (50 digits) at L = "
                     + ", ".join(map(str, v.checked))
                     + (f"; proved exactly at L = {', '.join(map(str, sorted(set(v.exact))))}"
                        if v.exact else ""))
    cex = v.counterexample
    if cex and "sizes" in cex:
        lines.append(f"counterexample: entry {cex['entry']}: true {cex['true']:.6g}, "
                     f"claimed {cex['claimed']:.6g}")
    elif cex:
        lines.append(f"counterexample: depth {cex['L']}, widths {cex['widths']}, "
                     f"entry {cex['entry']}: true {cex['true']}, claimed {cex['claimed']}")
    return "\n".join(lines + verdict_tail(v))


def verdict_tail(v):
    """The lines every verdict ends with: the counterexample's point, the correct form."""
    lines = []
    if v.counterexample:
        point = v.counterexample["point"]
        shown = ", ".join(f"{s}={x}" for s, x in list(point.items())[:12])
        more = len(point) - 12
        lines.append(f"  at {shown}" + (f", … ({more} more)" if more > 0 else ""))
    if v.correct:
        lines.append(f"correct form: {v.correct}")
        lines.append(f"       LaTeX: {v.correct_latex}")
    return lines
