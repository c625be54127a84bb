r"""`Verdict`: what checking a claim found, and its text for the command line.

>>> print(format_verdict(Verdict(False, "differs", correct="(z_2 - y) z_1^T",
...                              correct_latex=r"(z_2 - y) z_1^\top")))
DOES NOT HOLD: differs
correct form: (z_2 - y) z_1^T
       LaTeX: (z_2 - y) z_1^\top
>>> print(format_verdict(Verdict(True, "holds", checked=[{"m": 2, "n": 3}, {"m": 3, "n": 4}],
...                              exact=[{"m": 2, "n": 3}])))
HOLDS: holds
checked at sizes m=2, n=3; m=3, n=4 (50 digits)
exact (zero difference) at sizes m=2, n=3
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
    checked: list = field(default_factory=list)    # instances checked, or [sizes dict]
    exact: list = field(default_factory=list)      # instances proved exactly, or [sizes]
    hint: str = ""                                 # a diagnosis, tried and verified

    @property
    def depths(self):
        """The depths L of the network instances checked, in order."""
        return sorted({i["L"] for i in self.checked if "L" in i})

    @property
    def exact_depths(self):
        """The depths L with an instance proved exactly."""
        return sorted({i["L"] for i in self.exact if "L" in i})

    def __bool__(self):
        return self.holds

    def _repr_markdown_(self):
        """Notebook display: HOLDS / DOES NOT HOLD, the reason, the correct form typeset."""
        return display.markdown(self)


def format_verdict(v):
    """The verdict as readable lines (``derive verify`` and ``derive catalogue --claim``).

    A network verdict's ``checked`` holds one dict per instance (``L``, ``widths``,
    ``m``, ``exact``); an identity verdict's holds one dict of the concrete sizes
    (``{"m": 2, "n": 3}``).
    """
    lines = [("HOLDS: " if v.holds else "DOES NOT HOLD: ") + v.reason]
    identity = bool(v.checked) and "L" not in v.checked[0]
    if identity:
        lines += size_lines(v)
    elif v.checked:
        lines += instance_lines(v)
    if v.hint:
        lines.append(f"hint: {v.hint}")
    cex = v.counterexample
    if cex and "sizes" in cex:
        lines.append(f"counterexample at {size_text([cex['sizes']])}: entry "
                     f"{cex['entry']}: true {cex['true']:.6g}, "
                     f"claimed {cex['claimed']:.6g}")
    elif cex:
        lines.append(f"counterexample: depth {cex['L']}, widths {cex['widths']}, "
                     f"m = {cex['m']}, entry {cex['entry']}: true {cex['true']}, "
                     f"claimed {cex['claimed']}")
    return "\n".join(lines + verdict_tail(v))


def size_text(sets):
    """Size sets of a catalogue check: ``sizes m=2, n=3; m=3, n=4`` (``the given
    shapes`` when every shape was given, nothing left to choose)."""
    texts = [", ".join(f"{k}={n}" for k, n in sizes.items()) for sizes in sets]
    return "sizes " + "; ".join(texts) if all(texts) else "the given shapes"


def size_lines(v):
    """What a catalogue check did: the size sets checked numerically, and those where
    the difference cancelled exactly (never "proved" without the sizes)."""
    lines = [f"checked at {size_text(v.checked)} (50 digits)"]
    if v.exact:
        lines.append(f"exact (zero difference) at {size_text(v.exact)}")
    return lines


def instance_text(i):
    """One network instance: ``L=2 n=(2,5,3) m=4`` (and the general layer l)."""
    return (f"L={i['L']}" + (f" l={i['l']}" if "l" in i else "")
            + " n=(" + ",".join(map(str, i["widths"])) + f") m={i['m']}")


def instance_lines(v):
    """What was checked, instance by instance: exactly, or numerically only."""
    exact = [instance_text(i) for i in v.checked if i.get("exact")]
    numeric = [instance_text(i) for i in v.checked if not i.get("exact")]
    lines = []
    if exact:
        lines.append("proved exactly at " + "; ".join(exact))
    if numeric:
        lines.append("checked numerically only (50 digits) at " + "; ".join(numeric))
    return lines


def verdict_tail(v):
    """The lines every verdict ends with: the counterexample's point, the correct form."""
    lines = []
    if v.counterexample:
        point = v.counterexample["point"]
        lines.append("  at " + ", ".join(f"{s} = {x}" for s, x in point.items()))
    if v.correct:
        lines.append(f"correct form: {v.correct}")
        lines.append(f"       LaTeX: {v.correct_latex}")
    return lines
