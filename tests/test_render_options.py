"""render's options: detail levels, fragments (standalone=False / --body-only) and
template overrides (templates=DIR / --templates DIR)."""
import re
import shutil

import pytest

from derive import Network, SpecError, backprop, render
from derive.documents.notes import context
from derive.documents.pdf import compile_pdf
from derive.errors import TemplateError

SYMBOLIC = Network.uniform(depth="L", activation="sigmoid", output="identity", loss="sse")


@pytest.fixture(scope="module")
def d():
    return backprop(SYMBOLIC)


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_detail_levels(d, fmt):
    brief, standard, full = (render(d, fmt, "gh", detail=k) for k in ("brief", "standard", "full"))
    assert len(brief) < len(standard) < len(full)
    for text in (brief, standard, full):
        assert r"\boxed{" in text
    assert "Forward pass}" not in brief and "## Forward pass" not in brief
    # standard states the general layer by renaming; full derives it (a chain-rule sum)
    general = {k: t.split("he general layer")[1].split("he update rule")[0]
               for k, t in (("standard", standard), ("full", full))}
    assert r"\sum" not in general["standard"] and r"\sum" in general["full"]


def test_full_derives_the_remaining_layers_of_a_concrete_network():
    d4 = backprop(Network.uniform(depth=4, activation="sigmoid", loss="bce"))
    standard, full = render(d4, "markdown"), render(d4, "markdown", detail="full")
    assert r"\delta_{1,k}" not in standard and r"\delta_{1,k}" in full


def test_bad_detail_and_templates(d, tmp_path):
    with pytest.raises(SpecError):
        render(d, "latex", detail="verbose")
    with pytest.raises(SpecError):
        render(d, "latex", templates=str(tmp_path / "missing"))


def test_fragments(d):
    tex = render(d, "latex", "gh", standalone=False)
    md = render(d, "markdown", "gh", standalone=False)
    assert r"\documentclass" not in tex and r"\end{document}" not in tex
    assert r"\begin{document}" not in tex and r"\section*{" in tex
    assert not md.startswith("# ") and "\n# " not in md
    assert md.startswith("These notes")


def test_fragment_can_be_input(d, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    body = render(d, "latex", "gh", standalone=False)
    preamble = render(d, "latex", "gh").split(r"\begin{document}")[0]
    assert compile_pdf(preamble + "\\begin{document}\n" + body + "\\end{document}\n",
                       runs=1).startswith(b"%PDF")


@pytest.mark.parametrize("level,sub", [("chapter", "section"), ("section", "subsection"),
                                       ("subsection", "subsubsection")])
def test_section_level(d, level, sub):
    """--section-level: the sections (and the one subsection) of a fragment at that level;
    the title at the same level, unnumbered; nothing at another level."""
    tex = render(d, "latex", "hz", standalone=False, section_level=level)
    d3 = backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce"))
    sub_tex = render(d3, "latex", "hz", standalone=False, section_level=level)
    assert tex.count(f"\\{level}{{") >= 5 and tex.count(f"\\{level}*{{") == 1
    assert f"\\{sub}*{{Floating point}}" in sub_tex
    others = {"chapter", "section", "subsection"} - {level, sub}
    assert not any(f"\\{o}{{" in tex + sub_tex for o in others)


def test_bad_section_level_and_prefix(d, capsys):
    from derive.cli.main import main
    for bad in (dict(section_level="part"), dict(tag_prefix="1x"), dict(tag_prefix="a b"),
                dict(tag_prefix="a}b"), dict(section_level="chapter")):    # chapter: article
        with pytest.raises(SpecError):
            render(d, "latex", **bad)
    assert render(d, "latex", tag_prefix="mine").count(r"\label{mine:") >= 1
    assert main(["notes", "--depth", "2", "--tag-prefix", "a}b"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tag prefix 'a}b' is not allowed" in err


def test_template_override(d, tmp_path):
    steps = tmp_path / "notes" / "steps"
    steps.mkdir(parents=True)
    (steps / "delta.j2").write_text("OVERRIDDEN for layer <<m(b.layer)>>:\n")
    md = render(d, "markdown", "gh", templates=str(tmp_path))
    assert md.count("OVERRIDDEN for layer") == 2 and "OVERRIDDEN for layer $F$" in md
    assert "The error of layer" not in md
    (steps / "delta.j2").write_text("<< no_such_name >>\n")
    with pytest.raises(TemplateError, match=r"notes/steps/delta.j2 line 1: 'no_such_name' "
                       "is undefined"):                 # StrictUndefined still holds, one line
        render(d, "markdown", "gh", templates=str(tmp_path))


def test_cli_options(tmp_path, capsys):
    from derive.cli.main import main
    steps = tmp_path / "t" / "notes" / "steps"
    steps.mkdir(parents=True)
    (steps / "delta.j2").write_text("MINE:\n")
    assert main(["notes", "--depth", "2", "--format", "markdown", "--body-only",
                 "--detail", "brief"]) == 0
    out = capsys.readouterr().out
    assert not out.startswith("# ") and r"\boxed{" in out and "## Forward pass" not in out
    assert main(["notes", "--depth", "2", "--format", "latex", "--templates",
                 str(tmp_path / "t")]) == 0
    assert "MINE:" in capsys.readouterr().out
    assert main(["notes", "--depth", "2", "--detail", "verbose"]) == 2


def test_za_names_bp1_to_bp4_in_the_boxed_summary():
    net = Network.uniform(depth="L", activation="sigmoid", loss="mse", bias="explicit")
    md = render(backprop(net), "markdown", "za")
    box = md.split(r"\boxed{")[1].split("}\n$$")[0]
    for k, lhs in ((1, r"\boldsymbol{\delta}^{L} &"), (2, r"\boldsymbol{\delta}^{l} &"),
                   (3, r"\frac{\partial C}{\partial \mathbf{b}^{l}} &"),
                   (4, r"\frac{\partial C}{\partial W^{l}} &")):
        line = next(x for x in box.splitlines() if x.startswith(lhs))
        assert line.rstrip(" \\").endswith(rf"\text{{(BP{k})}}"), line
    assert "BP1" not in render(backprop(net), "markdown", "hz")


#: (network, layout): za documents that must name all four equations in their box
BP_CASES = [(dict(depth="L"), None), (dict(depth="L"), "numerator"),
            (dict(depth=3), None), (dict(depth=3), "numerator"), (dict(depth=2), "numerator")]


@pytest.mark.parametrize("spec, layout", BP_CASES)
def test_za_names_bp1_to_bp4_at_every_depth_and_layout(spec, layout):
    """Every name on its own kind of row: BP1 the output layer's error, BP2 a hidden
    layer's, BP3 a bias gradient, BP4 a weight gradient; each name appears."""
    net = Network.uniform(activation="sigmoid", loss="mse", bias="explicit", **spec)
    rows = context(backprop(net), "za", layout)["summary"]
    output = "L" if net.symbolic else str(net.depth)
    pre = r"\frac{\partial C}{\partial \mathbf{z}^{" if layout else r"\boldsymbol{\delta}^{"
    kinds = {"BP1": lambda lhs: lhs == pre + output + ("}}" if layout else "}"),
             "BP2": lambda lhs: lhs.startswith(pre) and not lhs.startswith(pre + output + "}"),
             "BP3": lambda lhs: lhs.startswith(r"\frac{\partial C}{\partial \mathbf{b}^{"),
             "BP4": lambda lhs: lhs.startswith(r"\frac{\partial C}{\partial W^{")}
    assert {r["name"] for r in rows} - {""} == set(kinds)
    for r in rows:
        if r["name"]:
            assert kinds[r["name"]](r["lhs"]), (r["name"], r["lhs"])
    md = render(backprop(net), "markdown", "za", layout=layout)
    box = md.split(r"\boxed{")[1].split("}\n$$")[0]
    assert all(rf"\text{{(BP{k})}}" in box for k in range(1, 5))


@pytest.mark.parametrize("net", [
    Network.uniform(depth=3, activation="sigmoid", loss="bce", batch=True, bias="explicit"),
    Network.uniform(depth="L", activation="tanh", loss="mse", residual=True, dropout=True),
    Network.uniform(depth=3, activation="tanh", loss="mse", norm="batch", batch=True)],
    ids=["plain", "symbolic-kinds", "batch-norm"])
def test_shapes_under_the_factors_multiply(net):
    """--shapes: every factor of a product has its shape under it, and the shapes of
    neighbours agree (inner sizes of a matrix product equal, an entrywise product's
    factors the same shape); off by default."""
    d = backprop(net)
    plain, tex = render(d, "latex"), render(d, "latex", shapes=True)
    assert r"\underset" not in plain and tex.count(r"\underset") > 20
    shape = r"\\underset\{([^{}]+(?:\{[^{}]*\}[^{}]*)*) \\times ([^{}]+(?:\{[^{}]*\}[^{}]*)*)\}"
    body = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
    pairs = re.findall(shape + body + r" (\\odot )?" + shape, tex)
    assert len(pairs) > 10
    for rows, cols, hadamard, rows2, cols2 in pairs:
        assert ((rows, cols) == (rows2, cols2)) if hadamard else cols == rows2, (rows, cols,
                                                                                  rows2, cols2)
