"""A worked example: the network at small concrete widths, one forward and one backward
pass in numbers, and one gradient entry checked by a central difference.

The numbers are computed, never typed, by `derive.claims.worked_numbers` (the face
installs it here with `set_numbers`: documents do not run the engine): the engine's
instance at widths 2, its inputs, target and parameters small fractions, its forward
pass, the document's own boxed results evaluated from the output down, and the central
difference (J(w + η) − J(w − η)) / 2η of the first entry of W_1 against that entry of
the derived gradient. This module prints them: exact fractions for what is given, four
significant digits (≈) for what is computed, eight for the check.
"""
from sympy import Float, ImmutableMatrix, IndexedBase, Integer
from sympy.matrices import MatrixBase

from ..ir.nodes import Partial, Var
from ..vocab import LOSS
from .norm_forms import short_rows
from .sections import kind_results

SHOWN = 4                          # significant digits of a computed value
CHECKED = 8                        # … of the two sides of the check
TINY = 1e-20                       # rounding noise of an exact zero, shown as 0
PER_DISPLAY = 6                    # lines of one display (a taller one cannot break)
MAX_DEPTH = 6                      # deeper networks: no example (a page of numbers per layer)
_NUMBERS = []                      # the calculator the face installs


def set_numbers(calculator):
    """Install ``calculator(derivation, rows_of) -> dict`` (the face does)."""
    _NUMBERS[:] = [calculator]


def shown(value, digits=SHOWN):
    """A matrix (or number) rounded to ``digits`` significant digits for printing."""
    if isinstance(value, MatrixBase):
        return ImmutableMatrix(value.applyfunc(lambda v: shown(v, digits)))
    return Integer(0) if abs(value) < TINY else Float(value, digits)


def example(doc):
    """The worked example, printed (None for a one-node chain, which the chain with
    numbers works through already, past MAX_DEPTH layers, and without a calculator)."""
    net = doc.d.net
    if doc.scalar or not _NUMBERS or (not net.symbolic and net.depth > MAX_DEPTH):
        return None
    n = _NUMBERS[0](doc.d, lambda d: short_rows(kind_results(d) or d.summary(), doc.names))
    backward = [_line(doc, lhs, v) for lhs, v in n["backward"]]
    central, derived = (doc.tex(shown(n[k], CHECKED)) for k in ("central", "derived"))
    entry = IndexedBase(n["weight"])[1, 1]
    return dict(
        inputs=_per_layer([(k, _line(doc, _var(k, v), v, exact=True)) for k, v in n["given"]]),
        forward=_per_layer([(k, _line(doc, _var(k, v), v)) for k, v in n["forward"]]),
        loss=doc.tex(LOSS) + r" \approx " + doc.tex(shown(n["loss"])),
        backward=[dict(lines=backward[k:k + PER_DISPLAY], number=0)
                  for k in range(0, len(backward), PER_DISPLAY)],
        widths=", ".join(map(str, n["widths"])), m=n["m"], depth=doc.tex(n["depth"]),
        symbolic=doc.d.net.symbolic,
        check=dict(weight=doc.tex(entry), step=doc.tex(Float(n["step"], 1)),
                   plus=doc.tex(shown(n["losses"][0], 10)),
                   minus=doc.tex(shown(n["losses"][1], 10)), central=central,
                   derived=doc.tex(Partial(LOSS, entry)) + r" \approx " + derived,
                   agree=central == derived))      # to the digits printed


def _per_layer(keyed):
    """A display with one line per layer: that layer's quantities side by side."""
    lines = {}
    for key, line in keyed:
        if key[1] in lines:
            lines[key[1]]["rhs"] += rf",\quad {line['lhs']} {line['rel']} {line['rhs']}"
        else:
            lines[key[1]] = dict(line)
    return dict(lines=list(lines.values()), number=0)


def _var(key, value):
    return Var(key[0], key[1], value.rows, value.cols)


def _line(doc, lhs, value, exact=False):
    return dict(lhs=doc.tex(lhs), rhs=doc.tex(ImmutableMatrix(value) if exact else shown(value)),
                rel="=" if exact else r"\approx", why=[])
