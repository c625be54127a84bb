"""Every displayed chain is true link by link (SPEC §4, DESIGN "Documents").

Over every gallery document, in every preset and at every detail level, and over the
§1b kinds: each link of each chain (the Steps the document prints, as SymPy objects) is
evaluated on both sides at a random point of the engine's own instance
(`tests/truthcheck.py`; a named partial is differentiated there, so ∂J/∂W_3 means the
whole gradient). A "by (n)" points at a display whose left-hand side the line before
uses; a line never repeats the one before (a rewrite changes its expression). A planted
false chain fails the check, which shows the check can fail.
"""
from functools import lru_cache

import pytest
from sympy import MatAdd, Transpose
from truthcheck import World, false_links, links

from derive import Network, backprop
from derive.cli.gallery import entries
from derive.documents.notes import context
from derive.ir.nodes import MatPartial, Var
from derive.ir.steps import Rule, Step
from derive.printing.group_forms import GroupMean, PerGroup
from derive.printing.notation import PRESETS
from derive.vocab import LAMBDA, LOSS

GALLERY = {e.name: e for e in entries() if not isinstance(getattr(e.net, "arch", None), str)}
KINDS = {
    "layer_norm_dropout": Network.uniform(depth=3, activation="tanh", loss="mse",
                                          norm="layer", dropout=True),
    "batch_norm_decay": Network.uniform(depth=3, activation="sigmoid", loss="bce",
                                        norm="batch", batch=True, weight_decay=True),
    "residual_depth4": Network.uniform(depth=4, activation="tanh", loss="mse",
                                       residual=True, bias="explicit"),
    "decay_symbolic": Network.uniform(depth="L", activation="relu", loss="mse",
                                      weight_decay=True),
}


@lru_cache(maxsize=None)
def derivation(name):
    return backprop(GALLERY[name].net if name in GALLERY else KINDS[name])


@lru_cache(maxsize=None)
def world(name, seed=0):
    return World(derivation(name), seed=seed)


def blocks(name, notation, detail):
    """The document's chains: its sections' displays, the normalization page's and the
    summary's results (each result a link of its own)."""
    ctx = context(derivation(name), notation, detail=detail)
    out = [(sec, b) for sec, bs in ctx["sections"].items() for b in bs]
    page = ctx["norm_page"] or {}
    out += [(f"norm_page.{k}", dict(b, number=0)) for k, b in page.items()
            if isinstance(b, dict) and "steps" in b]
    summary = [Step(*r["pair"], Rule.DEFINITION, 0, "hidden") for r in ctx["summary"]]
    return out + [("summary", dict(steps=summary, lines=[], number=0, own_lines=True))]


def _problems(name, notation, detail):
    w = world(name)
    assert w.check_forward() < 1e-20     # the definitions run as the engine's instance
    found, count = [], 0
    shown = blocks(name, notation, detail)
    numbered = {b["number"]: b for _, b in shown if b["number"]}
    for sec, b in shown:
        count += len(links(b))
        for bad in false_links(b, w):
            found.append(f"{sec}: {bad[0]} = {bad[1]} at {bad[2]}: {bad[3:]}")
        found += _reference_problems(sec, b, numbered)
        found += _repeats(sec, b)
    return found, count


def _reference_problems(sec, b, numbered):
    out = []
    steps = b["steps"]
    for n, line in enumerate(b["lines"]):
        for code, arg in line["why"]:
            if code != "ref":
                continue
            target = numbered.get(arg)
            if target is None or n == 0:
                out.append(f"{sec}: by ({arg}) names no display")
                continue
            names = {s.lhs.arg if isinstance(s.lhs, Transpose) else s.lhs
                     for s in target["steps"]}
            if not any(steps[n - 1].rhs.has(x) for x in names):
                out.append(f"{sec}: by ({arg}) at {steps[n]} uses nothing of ({arg})")
    return out


def _repeats(sec, b):
    out, prev = [], None
    for line in b["lines"]:
        shown = (line["lhs"], line["rhs"])
        if prev is not None and shown[1] == prev[1] and shown[0] in ("", prev[0]):
            out.append(f"{sec}: the line {shown} repeats the one before")
        prev = shown
    return out


@pytest.mark.parametrize("notation", sorted(PRESETS))
@pytest.mark.parametrize("name", sorted(GALLERY))
def test_every_gallery_chain_is_true(name, notation):
    details = ("standard", "full") if notation == GALLERY[name].notation else ("full",)
    total = 0
    for detail in details:
        found, count = _problems(name, notation, detail)
        assert not found, "\n".join(found)
        total += count
    assert total > 0


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_chain_is_true(name):
    found, count = _problems(name, "hz", "full")
    assert not found, "\n".join(found)
    assert count > 0


def test_the_general_layer_holds_at_another_layer():
    """A symbolic-depth document's general layer, checked at l = 2 of a depth-4 net."""
    d = derivation("four_fundamental_equations")
    w = World(d, seed=3, depth=4, general=2)
    for sec, b in blocks("four_fundamental_equations", "za", "full"):
        assert not false_links(b, w), sec


def test_a_planted_false_chain_fails():
    """The old weight-decay chain ∂J/∂W_3 = δ_3 z_2ᵀ = λW_3 + δ_3 z_2ᵀ (read literally:
    λW_3 = 0) and a wrong factor are both caught; the true chain passes."""
    name = "kinds_residual_mlp"
    d, w = derivation(name), world(name)
    data, W3 = next((s.rhs, s.lhs.wrt) for s in d.steps if isinstance(s.lhs, MatPartial)
                    and isinstance(s.lhs.wrt, Var) and s.lhs.wrt.kind == "W"
                    and s.lhs.wrt.layer == 3 and s.rule != Rule.ACCUMULATION
                    and s.form == "matrix")
    full = d.grad("W", 3)
    planted = [Step(MatPartial(LOSS, W3), data, Rule.OUTER, 3, "weights"),
               Step(MatPartial(LOSS, W3), full, Rule.ACCUMULATION, 3, "weights")]
    bad = false_links({"steps": planted}, w)
    assert len(bad) == 2       # ∂J/∂W_3 ≠ δ_3 z_2ᵀ, and δ_3 z_2ᵀ ≠ λW_3 + δ_3 z_2ᵀ
    true = [Step(MatPartial(LOSS, W3), full, Rule.ACCUMULATION, 3, "weights")]
    assert not false_links({"steps": true}, w)
    wrong = [Step(MatPartial(LOSS, W3), full + LAMBDA * W3, Rule.ACCUMULATION, 3, "weights")]
    assert false_links({"steps": wrong}, w)


@pytest.mark.parametrize("name", ["kinds_layer_norm", "kinds_batch_norm"])
def test_the_lecturer_forms_are_checked(name):
    """The normalization's lecturer lines (σ_l, g_l, δ_l with mean over the group) are
    among the checked links, on the normalization page and in the walk; the same δ with
    its variance term left out, or with the mean taken over the other axis, fails."""
    w = world(name)
    shown = blocks(name, GALLERY[name].notation, "standard")
    page = [b for sec, b in shown if sec.startswith("norm_page.")]
    assert sum(len(links(b)) for b in page) >= 10
    walk = [s for _, b in shown for s in b["steps"] if isinstance(s.rhs, PerGroup)]
    assert walk, "no lecturer's δ in the document"
    good = walk[0]
    assert not false_links({"steps": [good]}, w)
    body = good.rhs.body
    dropped = PerGroup(good.rhs.sigma, MatAdd(*body.args[:2], evaluate=False))
    other = "rows" if name == "kinds_layer_norm" else "columns"
    swapped = good.rhs.xreplace({m: GroupMean(m.arg, other)
                                 for m in good.rhs.atoms(GroupMean)})
    for wrong in (dropped, swapped):
        assert false_links({"steps": [Step(good.lhs, wrong, Rule.MATRIX_FORM, 2, "hidden")]},
                           w)
