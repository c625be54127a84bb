"""A document for every activation × loss × notation renders (generated from the rule
tables), in both formats, with the structure SPEC §4 asks for."""
import re

import pytest
from nets import net_for, valid_pairs

from derive import Network, SpecError, backprop, render
from derive.documents.notes import render_svg
from derive.printing.notation import PRESETS

FORBIDDEN_ANY = ("mapsto", r"\frac{d}{d", "_prime", "Undefined", "KroneckerDelta",
                 "HadamardProduct", "<<", ">>", "<%", "%>")
FORBIDDEN_MD = (r"\label", r"\eqref", r"\bm{", r"\begin{align}", r"\DeclareMathOperator")


@pytest.mark.parametrize("act,loss", valid_pairs())
@pytest.mark.parametrize("notation", sorted(PRESETS))
def test_every_pair_renders(act, loss, notation):
    d = backprop(net_for(act, loss, 2))
    tex = render(d, "latex", notation=notation)
    md = render(d, "markdown", notation=notation)
    for bad in FORBIDDEN_ANY:
        assert bad not in tex and bad not in md, bad
    for bad in FORBIDDEN_MD:
        assert bad not in md, bad
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert r"\boxed{" in tex and r"\boxed{" in md
    assert r"\begin{tikzpicture}" in tex
    tags = re.findall(r"\\tag\{(\d+)\}", md)
    # LaTeX: the same displays numbered by LaTeX's counter, each labelled under the
    # document's prefix and cited with \eqref (so a host's numbering goes on)
    labels = re.findall(r"\\label\{([\w.-]+):(\d+)\}", tex)
    assert [n for _, n in labels] == tags and len({p for p, _ in labels}) == 1
    assert tags == [str(k) for k in range(1, len(tags) + 1)] and tags
    assert r"\tag{" not in tex and tex.count(r"\begin{equation}") == len(tags)
    for prefix, n in labels:                         # numbered only where referred to
        assert f"by ({n})" in md and f"by \\eqref{{{prefix}:{n}}}" in tex
    assert r"\mathbb{1}" not in md                  # KaTeX would draw a plain digit 1


def test_custom_activation_renders():
    net = Network(activations=("custom:x/(1+exp(-x))", "sigmoid"), loss="bce")
    md = render(backprop(net), "markdown")
    assert r"\varphi" in md


@pytest.mark.parametrize("bias", ["augmented", "explicit"])
def test_bias_and_batch(bias):
    net = Network.uniform(depth=3, activation="relu", output="identity", loss="mean_mse",
                          bias=bias, batch=True)
    md = render(backprop(net), "markdown", notation="za")
    if bias == "explicit":
        assert r"\frac{\partial C}{\partial \mathbf{b}^{3}}" in md
    assert "batch" in md


def test_sections_in_order():
    d = backprop(Network.uniform(depth=4, activation="sigmoid", loss="bce"))
    md = render(d, "markdown")
    heads = re.findall(r"^## (.*)$", md, re.M)
    assert heads == ["The network", "Forward pass", "The loss", "The output layer",
                     "The layer before the output",
                     "From the last weight matrix to the one before", "The general layer",
                     "The update rule", "A worked example",
                     "Summary", "The algorithm"]
    # every layer appears: layer 1 and 2 through the recursion, 3 and 4 in detail
    for l in (1, 2):
        assert rf"\boldsymbol{{\delta}}_{{{l}}} = " in md
    assert "divide" in md or "division" in md      # the cancellation is explained


def test_symbolic_depth_general_layer():
    d = backprop(Network.uniform(depth="L", activation="sigmoid", loss="bce"))
    md = render(d, "markdown")
    assert r"\boldsymbol{\delta}_{l} = " in md and r"\boldsymbol{\delta}_{L-1}" in md


def test_gh_row_vectors_and_pq_sigma0():
    d = backprop(Network.uniform(depth="L", activation="sigmoid", output="identity",
                                 loss="sse"))
    md = render(d, "markdown", notation="gh")
    # the derivation itself is in rows: ∂L/∂f is the row 2(f − y)ᵀ (a column in md2)
    row = r"\frac{\partial L}{\partial \mathbf{f}} &= \left(2 \left(\mathbf{f} - " \
        r"\mathbf{y}\right)\right)^{\top}"
    column = r"\frac{\partial L}{\partial \mathbf{f}} &= 2 \left(\mathbf{f} - \mathbf{y}\right)"
    assert row in md and column not in md
    assert "row vector" in md
    md2 = render(d, "markdown", notation="gh", layout="denominator")
    assert column in md2 and row not in md2
    pq = render(backprop(Network(activations=("sigmoid",) * 2, loss="mse")), "markdown",
                notation="pq")
    assert r"\mathbf{q}_{0} &= \sigma_0(\mathbf{p}_{0})" in pq   # a line of the forward display


def test_bad_arguments():
    d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
    with pytest.raises(SpecError):
        render(d, "html")
    with pytest.raises(SpecError):
        render("not a derivation", "latex")
    with pytest.raises(SpecError):
        render(d, "latex", notation={"pre": r"\write18"})


def test_repr_markdown_and_svg():
    d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
    assert "\\boxed{" in d._repr_markdown_()          # the summary, not the document
    assert d.document().startswith("# ")
    svg = render_svg(d)
    assert svg.startswith("<svg") and "δ" in svg and "stroke-dasharray" in svg


def test_depth_64_renders_every_layer():
    """(Its time is measured by benchmarks/derive_depth.py, not asserted here.)"""
    d = backprop(Network.uniform(depth=64, activation="sigmoid", loss="bce"))
    text = render(d, "latex")
    assert "W_{64}" in text and "W_{1}" in text


def test_every_template_ships_in_the_wheel():
    """pyproject's package-data globs for derive.templates reach four levels deep
    (notes/graph/latex/document.j2)."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "templates"
    for path in root.rglob("*.j2"):
        assert len(path.relative_to(root).parts) <= 4, path
