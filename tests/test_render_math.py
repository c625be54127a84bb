"""Every math fragment of every Markdown document renders with KaTeX (strict, throw on
error) and MathJax 3. Fragments come from a Markdown parser (markdown-it-py with the
dollarmath plugin). Needs node and `npm ci`; in CI a missing toolchain fails."""
from pathlib import Path

import pytest
from conftest import IN_CI
from mathcheck import check, fragments, node_ready
from nets import net_for, valid_pairs
from pairwise import missing_pairs, pairwise

from derive import Network, backprop, render

OUTPUT = Path(__file__).resolve().parent.parent / "output"


def _need_node():
    if not node_ready():
        if IN_CI:
            pytest.fail("node with katex and mathjax-full (npm ci) is required in CI")
        pytest.skip("node or node_modules missing; run npm ci")


def _assert_renders(markdowns):
    """Every fragment of every document renders; each distinct (tex, display) goes to node
    once (the documents share most of their math), failures name the first source."""
    frags = {}
    for name, md in markdowns:
        found = fragments(md)
        assert found, name
        for f in found:
            frags.setdefault((f["tex"], f["display"]), name)
    unique = list(frags)
    failures = check([{"tex": tex, "display": display} for tex, display in unique])
    assert not failures, [(frags[unique[f["index"]]], unique[f["index"]][0][:200],
                           f["engine"], f["error"][:200]) for f in failures[:5]]


@pytest.mark.slow
def test_gallery_markdown_math_renders():
    _need_node()
    files = sorted(OUTPUT.glob("*.md"))
    assert len(files) >= 10
    _assert_renders([(p.name, p.read_text(encoding="utf-8")) for p in files
                     if p.name != "README.md"])


#: (activation, loss, notation): every valid pair once at least (its output layer, its
#: cancellation), and every activation and every loss in every notation (their letters and
#: derivatives): a pairwise cover (tests/pairwise.py), 34 documents instead of 96
PAIRS = valid_pairs()
FACTORS = [sorted({a for a, _ in PAIRS}), sorted({lo for _, lo in PAIRS}),
           ("hz", "gh", "pq", "za")]
COVER = pairwise(FACTORS, keep=(0, 1), allowed=lambda row: row[:2] in PAIRS)


def test_the_cover_holds_every_pair_and_every_name_in_every_notation():
    assert missing_pairs(COVER, FACTORS, lambda row: row[:2] in PAIRS) == set()
    assert {row[:2] for row in COVER} == set(PAIRS)


@pytest.mark.slow
def test_every_pair_and_notation_math_renders():
    _need_node()
    docs = []
    for act, loss, notation in COVER:
        d = backprop(net_for(act, loss, 2, bias="explicit", batch=True))
        docs.append((f"{act}/{loss}/{notation}", render(d, "markdown", notation=notation)))
    docs.append(("custom", render(backprop(Network(
        activations=("custom:x/(1+exp(-x))", "leaky_relu"), loss="mse")), "markdown")))
    _assert_renders(docs)


@pytest.mark.slow
def test_layer_kinds_math_renders_in_every_notation():
    """The §1b documents outside the gallery: gh's rows of the named cotangents, a single
    sample's normalization page, the decay penalty at a symbolic depth."""
    _need_node()
    nets = [Network.uniform(depth=3, activation="tanh", loss="mse", norm="layer",
                            residual=True, dropout=True, weight_decay=True, bias="explicit"),
            Network.uniform(depth="L", activation="tanh", loss="mse", norm="batch",
                            batch=True, weight_decay=True)]
    _assert_renders([(f"{net.describe()}/{notation}", render(backprop(net), "markdown",
                                                              notation=notation))
                     for net in nets for notation in ("hz", "gh", "pq", "za")])


def test_extraction_uses_a_parser():
    frags = fragments("a `$x$` b $y$\n\n$$\nz \\tag{1}\n$$\n")
    assert [f["tex"].strip() for f in frags] == ["y", "z \\tag{1}"]
