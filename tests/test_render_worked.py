"""The worked example of every network document (issue 22, item 7): computed by the
engine at small widths, its finite-difference check agrees with the derived gradient,
and a wrong gradient would be reported as differing."""
import random

import pytest
from sympy import Matrix, Rational

from derive import Network, backprop, render
from derive.claims import worked_numbers
from derive.cli.gallery import entries
from derive.documents import worked
from derive.documents.norm_forms import short_rows
from derive.documents.notes import _Doc
from derive.documents.sections import kind_results
from derive.engine.instance import Instance, random_point
from derive.printing import notation

#: the §1 networks' documents (the notes of a network of calls have no worked example yet)
GALLERY = [e for e in entries() if not isinstance(getattr(e.net, "arch", None), str)]


@pytest.mark.parametrize("entry", GALLERY, ids=lambda e: e.name)
def test_every_network_document_has_a_checked_example(entry):
    d = backprop(entry.net)
    md = render(d, "markdown", entry.notation, title=entry.title)
    one_node = _Doc(d, notation.get(entry.notation)).scalar
    assert ("## A worked example" in md) == (not one_node)
    if not one_node:
        assert "the two agree to the digits shown" in md and "the two differ" not in md
        assert "A worked example" not in render(d, "markdown", entry.notation, detail="brief")


def test_no_example_past_six_layers():
    deep = backprop(Network.uniform(depth=7, activation="tanh", loss="mse"))
    assert "A worked example" not in render(deep, "markdown")
    assert "A worked example" in render(backprop(Network.uniform(depth=6, activation="tanh",
                                                                 loss="mse")), "markdown")


@pytest.mark.parametrize("net", [
    Network.uniform(depth=3, activation="sigmoid", loss="bce"),
    Network.uniform(depth="L", activation="tanh", loss="mse", weight_decay=True),
    Network.uniform(depth=3, activation="tanh", loss="mse", norm="layer", batch=True,
                    dropout=True, residual=True),
    Network.uniform(depth="L", activation="relu", output="sigmoid", loss="bce",
                    residual=True)], ids=["plain", "symbolic", "kinds", "symbolic-residual"])
def test_the_numbers_are_the_engines_and_the_check_can_fail(net):
    """The derived ∂J/∂W_1 the example shows is the central difference of J (to 10⁻¹¹,
    its O(η²) error), which a gradient off by 10⁻⁶ would not be; the forward
    values are the instance's own (`Instance.at`, typed nowhere)."""
    d = backprop(net)
    doc = _Doc(d, notation.get("hz"))
    n = worked_numbers.numbers(d, lambda dd: short_rows(kind_results(dd) or dd.summary(),
                                                       doc.names))
    assert abs(n["central"] - n["derived"]) < 1e-11          # the O(η²) error
    assert abs(n["central"] - (n["derived"] + Rational(1, 10 ** 6))) > 1e-7
    shown = worked.example(doc)
    assert shown["check"]["agree"] and shown["check"]["central"] in shown["check"]["derived"]
    planted = dict(n, derived=n["derived"] + Rational(1, 10 ** 6))
    worked.set_numbers(lambda *_: planted)
    try:
        assert not worked.example(doc)["check"]["agree"]
    finally:
        worked.set_numbers(worked_numbers.numbers)
    dd = worked_numbers.concrete(d)
    assert dd.net.depth == (3 if net.residual or not net.symbolic else 2)
    assert not dd.net.symbolic and dd.net.activations[-1] == net.activations[-1]
    inst = Instance(dd.net, n["widths"], m=n["m"] if dd.net.batch else None, symbolic=False)
    env = inst.at(random_point(inst, random.Random(worked_numbers.SEED)), worked_numbers.DIGITS)
    assert all(Matrix(env[k]) == Matrix(v) for k, v in n["forward"])
