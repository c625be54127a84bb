"""`StepsReport`: what `check_steps` found, and its text for the command line.

>>> r = StepsReport([StepVerdict(0, 1, "dJ/dW_L", "(z_L - y) z_{L-1}^T", True, "holds"),
...                  StepVerdict(1, 2, "dJ/dW_L", "z_{L-1} (z_L - y)", False, "shape mismatch")],
...                 first_wrong=1, mistake="order", rule="two factors in the wrong order",
...                 repair="(z_L - y) z_{L-1}^T")
>>> print(format_report(r))
✓ 0  dJ/dW_L = (z_L - y) z_{L-1}^T
✗ 1          = z_{L-1} (z_L - y)
      first wrong step: shape mismatch
      mistake: two factors in the wrong order
      repair:  (z_L - y) z_{L-1}^T
1 of 2 steps does not hold; the first wrong step is 1
"""
from dataclasses import dataclass, field


@dataclass
class StepVerdict:
    """One step: its index (from 0), source line, left-hand side, text, and verdict."""
    index: int
    line: int
    lhs: str
    text: str
    holds: bool
    reason: str
    latex: str = ""        # the step printed as LaTeX (the claim printer, not the text)
    lhs_latex: str = ""

    @property
    def mark(self):
        return "✓" if self.holds else "✗"


@dataclass
class StepsReport:
    """What `check_steps` found: ``steps`` (a `StepVerdict` each), ``first_wrong`` (the
    index of the first step that does not hold, or None), the named ``mistake`` there
    (an id of `derive.claims.chain_repairs.NAMES`, or "") and its words ``rule``, the
    ``repair`` (that step corrected, in the student's syntax), a §3 ``hint`` when no
    chain mistake could be named, and the ``correct`` form of the quantity."""
    steps: list = field(default_factory=list)
    first_wrong: int = None
    mistake: str = ""
    rule: str = ""
    repair: str = ""
    hint: str = ""
    correct: str = ""
    correct_latex: str = ""
    repair_latex: str = ""

    @property
    def holds(self):
        return self.first_wrong is None

    @property
    def marks(self):
        return [s.mark for s in self.steps]


def format_report(r):
    """The chain echoed with a mark per step, and the diagnosis under the first ✗."""
    width = max(len(s.lhs or "") for s in r.steps)
    lines, previous = [], None
    for s in r.steps:
        lhs = s.lhs if s.lhs != previous or s.index == 0 else ""
        previous = s.lhs
        lines.append(f"{s.mark} {s.index}  {lhs:<{width}} = {s.text}")
        if s.index == r.first_wrong:
            lines += ["      " + t for t in diagnosis_lines(r, s)]
    wrong = sum(not s.holds for s in r.steps)
    if r.first_wrong is None:
        lines.append(f"all {len(r.steps)} steps hold")
    elif len(r.steps) == 1:
        lines.append("the step does not hold")
    else:
        lines.append(f"{wrong} of {len(r.steps)} steps {'does' if wrong == 1 else 'do'} not "
                     f"hold; the first wrong step is {r.first_wrong}")
    return "\n".join(lines)


def diagnosis_lines(r, step):
    """The diagnosis of the first wrong step: why, the named mistake, the repair."""
    out = [f"first wrong step: {step.reason}"]
    if r.mistake:
        out += [f"mistake: {r.rule}", f"repair:  {r.repair}"]
    elif r.hint:
        out.append(f"no chain mistake named; hint: {r.hint}")
    else:
        out.append("no mistake of the catalogue repairs this step")
    if r.correct:
        out.append(f"correct form: {r.correct}")
    return out
