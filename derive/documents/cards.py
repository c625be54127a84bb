"""Notebook displays of the smaller objects: a `Certificate`, a `Step`, a
`GradientModule` (`derive.api` installs them as display hooks of `derive.ir.display`).

The prose is in ``templates/display``; a step's equation is printed by the notes'
printer (`derive.documents.ipython.expression_latex`).

>>> from derive.ir.nodes import Var
>>> from derive.ir.steps import Step
>>> step_latex(Step(Var("h", 1, 3, 1), Var("W", 1, 3, 2) * Var("z", 0, 2, 1), "forward pass", 1,
...                 "forward"))
'$$\\\\mathbf{h}_{1} = W_{1} \\\\mathbf{x} \\\\qquad \\\\text{(forward pass)}$$'
"""
import inspect

from ..util.templates import environment
from .ipython import expression_latex
from .notebook import catalogue_latex
from .notes import plain

#: the functions of a generated module, in the order its display lists them
MODULE_FUNCTIONS = ("forward", "loss", "gradients", "loss_and_gradients", "train_step",
                    "init_params")


def _tex(expr):
    return expression_latex(expr) or catalogue_latex(expr)


def step_latex(step):
    """One equation of a derivation, lhs = rhs, and the rule that gives it."""
    rule = plain(step.rule, "latex")
    return f"$${_tex(step.lhs)} = {_tex(step.rhs)} \\qquad \\text{{({rule})}}$$"


def certificate_markdown(cert):
    """Certified or not, exactly or numerically, the entries compared, the sizes (a
    network's widths and batch, or a catalogue's named sizes) and any failure."""
    named = bool(cert.widths) and isinstance(cert.widths[0], tuple)
    sizes = (", ".join(f"{k} = {v}" for k, v in cert.widths) if named else
             "widths (" + ", ".join(str(n) for n in cert.widths) + f"), m = {cert.m}")
    template = environment("latex").get_template("display/certificate.j2")
    return template.render(c=cert, sizes=sizes, failures=[
        ", ".join(str(part) for part in f[:-1]) + f": off by {f[-1]:.3g}"
        for f in cert.failures[:10]])


def module_markdown(g):
    """A generated module: its network, its functions' signatures, what it checks."""
    signatures = [f"{name}{_plain_signature(getattr(g.module, name))}"
                  for name in MODULE_FUNCTIONS]
    doc = g.module.__doc__ or ""
    checks = doc.split("Every call checks", 1)[1].split("The keyword constants")[0] \
        if "Every call checks" in doc else ""
    template = environment("latex").get_template("display/module.j2")
    return template.render(describe=plain(g.net.describe(), "markdown"),
                           signatures=signatures, checks=checks.strip(),
                           lines=len(g.source.splitlines()))


def _plain_signature(function):
    """The signature without its annotations (NumPy's ArrayLike spells out a page)."""
    sig = inspect.signature(function)
    empty = inspect.Parameter.empty
    return sig.replace(parameters=[p.replace(annotation=empty) for p in sig.parameters.values()],
                       return_annotation=empty)
