"""The notes of a network of calls (documents/graph_notes.py): every displayed equation is
the walker's own object and holds at random values of the network (GraphDerivation.values),
every lead-in claims only what its display shows, both formats render (KaTeX, MathJax,
pdflatex without an overfull box), and a network of calls the convolution helpers never
built (a dense net with a residual add: the accumulation step) renders unchanged."""
import random
import re
import shutil
import subprocess

import pytest
from conftest import IN_CI
from graph_cases import SLOTS, SkipNet, entries_of, sizes_of, storage, written
from markdown_it import MarkdownIt
from mathcheck import check, fragments, node_ready
from mdit_py_plugins.dollarmath import dollarmath_plugin
from sympy import Integer, Matrix
from sympy.matrices.expressions import MatAdd

from derive import Network, backprop, render
from derive.calculus.evaluate import evaluate
from derive.cli.main import main
from derive.documents.graph_lesson import lesson
from derive.documents.graph_notes import render_graph
from derive.documents.notes import render_svg
from derive.engine.graph import backprop_graph, leaves
from derive.errors import SpecError
from derive.ir.nodes import MatPartial, Var
from derive.ir.quantities import KINDS, Q
from derive.printing.graph_latex import GraphLatexPrinter
from derive.vocab import LOSS

TOLERANCE = 1e-12     # the inputs are doubles; a wrong formula is off by O(1)


NETS = {
    "conv1d_max": lambda: Network.conv1d(channels=(1, 2), kernel=2, pool="max", length=5,
                                         head_widths=(2,)),
    "conv1d_avg": lambda: Network.conv1d(channels=(1, 2, 2), kernel=2, pool="avg", length=8,
                                         head_widths=(2,)),
    "conv2d_max": lambda: Network.conv2d(channels=(1, 2), kernel=2, pool="max", size=(4, 4),
                                         head_widths=(2,)),
    "skipnet": SkipNet,
}


@pytest.fixture(scope="module", params=sorted(NETS))
def case(request):
    """(name, derivation, lesson, values of every quantity and cotangent at a random point)."""
    net = NETS[request.param]()
    d = backprop_graph(net) if request.param == "skipnet" else backprop(net)
    rng = random.Random(7)
    given = {key: [[rng.uniform(-1, 1) for _ in range(cols)] for _ in range(rows)]
             for key, (rows, cols) in leaves(net, d.sizes()).items()}
    return request.param, d, lesson(d), d.values(given)


def _value(expr, env, d):
    """A matrix expression at the point: a cotangent from the walk's values, else evaluated."""
    if isinstance(expr, MatPartial):
        return env["d" + expr.wrt.kind, int(expr.wrt.layer)]
    if isinstance(expr, Var):
        return env[expr.kind, int(expr.layer)]
    value = evaluate(expr.xreplace(d.sizes()), env)
    return value if hasattr(value, "shape") else Matrix([[value]])


def _close(a, b):
    assert a.shape == b.shape
    return all(abs(float(x - y)) < TOLERANCE * (1 + abs(float(y))) for x, y in zip(a, b))


def _matrix_lines(les):
    for disp in les["forward"] + les["backward"] + les["gradients"]:
        for lhs, rhs in disp.lines:
            if isinstance(lhs, (Var, MatPartial)):
                yield lhs, rhs
    yield from les["summary"]


def test_every_matrix_form_is_the_walkers_object(case):
    """Each cotangent's and gradient's last line is the walker's own (lhs, rhs): the rhs
    is the very object of ``d.cotangents`` / ``d.grads``; the summary and the algorithm
    list every one of them once, and the forward lines are ``d.forward``'s."""
    _, d, les, _ = case
    walked = {(s.lhs, s.rhs) for s in d.steps if s.form == "matrix"}
    results = {**d.cotangents, **d.grads}
    for disp in les["backward"] + les["gradients"]:
        lhs, rhs = disp.lines[-1]
        assert rhs is results[Q(lhs.wrt.kind, lhs.wrt.layer)]
    assert {disp.lines[-1] for disp in les["backward"] + les["gradients"]} == walked
    assert len(walked) == len(results)
    assert len(les["summary"]) == len(walked) and set(les["summary"]) == walked
    assert les["algorithm"]["backward"] == les["summary"]
    assert [line for disp in les["forward"] for line in disp.lines] == \
        [(s.lhs, s.rhs) for s in d.forward]


def _key(var):
    return var.kind, int(var.layer)


def test_every_displayed_matrix_equality_holds_at_a_random_point(case):
    """Forward lines, cotangents, gradients, summary: both sides evaluated numerically."""
    _, d, les, env = case
    count = 0
    for lhs, rhs in _matrix_lines(les):
        if lhs == LOSS:
            continue
        assert _close(_value(lhs, env, d), _value(rhs, env, d)), (lhs, rhs)
        count += 1
    assert count >= len(d.cotangents) + len(d.grads)


def test_the_index_form_lines_are_the_walkers_and_hold_entry_by_entry(case):
    """A windowed call's display: its first line is the walker's chain-rule step, its
    second the walker's contracted Kronecker step, and the second, written out at every
    entry, equals the matrix form's value there."""
    name, d, les, env = case
    shown = [disp for disp in les["backward"] + les["gradients"] if len(disp.lines) == 3]
    assert bool(shown) == name.startswith("conv")
    if not shown:
        return
    index = {(s.rule, s.lhs, s.rhs) for s in d.steps if s.form == "index"}
    sz = sizes_of(d.net)
    for disp in shown:
        (lhs, chain), (none, contracted), (matrix, _) = disp.lines
        assert none is None and ("chain rule", lhs, chain) in index
        assert ("Kronecker contraction", lhs, contracted) in index
        var = Var(matrix.wrt.kind, matrix.wrt.layer, *(env["d" + matrix.wrt.kind,
                                                            int(matrix.wrt.layer)].shape))
        for idx in entries_of(var, sz):
            point = dict(zip(lhs.wrt.indices, [Integer(v + 1) for v in idx]))
            got = written(contracted.xreplace(point), env, d, sz)
            want = env["d" + var.kind, int(var.layer)][storage(var.kind, int(var.layer),
                                                                  idx, sz)]
            assert abs(float(got - want)) < TOLERANCE, (disp.facts["var"], idx)


def test_every_operator_definition_holds_entry_by_entry(case):
    """Each operator's definition (its node's component at free indices) written out at
    every entry equals the node evaluated as a whole (stored like the quantity of its
    shape and number of indices)."""
    name, d, les, env = case
    assert bool(les["operators"]) == name.startswith("conv")
    sz = sizes_of(d.net) if les["operators"] else None
    for lhs, rhs in les["operators"]:
        node, free = lhs.base.label, lhs.indices
        value = _value(node, env, d)
        kind, layer = next((key for key, v in env.items() if key[0] in KINDS and v.shape ==
                            value.shape and len(free) == SLOTS[KINDS[key[0]].indices]),
                           ("zc", 1))     # a padded cotangent: no quantity is its shape
        if len(free) == 1:
            entries = [(a,) for a in range(value.rows)]
        else:
            entries = entries_of(Var(kind, layer, *value.shape), sz)
        for idx in entries:
            got = written(rhs.xreplace(dict(zip(free, [Integer(v + 1) for v in idx]))),
                           env, d, sz)
            want = value[storage(kind, layer, list(idx), sz)]
            assert abs(float(got - want)) < TOLERANCE, (node, idx)





def test_every_lead_in_claims_what_its_display_shows(case):
    """A single reader's VJP shows the cotangent of the reader's output; an accumulation
    shows one term per reader (and only there are several readers); a windowed call shows
    three lines, the middle one with indicator brackets exactly when the lead-in says so;
    a forward lead-in names the calls of its lines, in order."""
    name, d, les, _ = case
    p = GraphLatexPrinter()
    for disp in les["backward"] + les["gradients"]:
        paths, (lhs, rhs) = disp.facts["paths"], disp.lines[-1]
        if disp.kind.endswith("_sum"):
            assert isinstance(rhs, MatAdd) and len(rhs.args) == len(paths) > 1
        else:
            assert len(paths) == 1
        if not disp.facts["loss"]:
            for _, _, q in paths:
                cot = MatPartial(LOSS, Var(q.kind, q.layer, 1, 1))
                assert p.doprint(cot) in p.doprint(rhs), (lhs, q)
        assert (len(disp.lines) == 3) == disp.kind.endswith("_index")
        if disp.kind.endswith("_index"):
            assert disp.facts["brackets"] == (r"\mathbb{1}[" in p.doprint(disp.lines[1][1]))
    for disp in les["forward"]:
        calls = [c for block in d.net.blocks for c in block if c.out.layer == disp.facts["layer"]]
        assert disp.facts["ops"] == [c.op for c in calls]
        assert [line[0] for line in disp.lines] == [s.lhs for s in d.forward
                                                    if s.layer == disp.facts["layer"]]
    kinds = {disp.kind for disp in les["backward"]}
    assert ("cotangent_sum" in kinds) == (name == "skipnet")


@pytest.fixture(scope="module")
def documents(case):
    """Both formats of the case's notes."""
    _, d, _, _ = case
    return {fmt: render(d, fmt) if d.net.arch != "skipnet" else render_graph(d, fmt)
            for fmt in ("latex", "markdown")}


def test_both_formats_show_every_line_as_printed(case, documents):
    _, _, les, _ = case
    p = GraphLatexPrinter(dict(human=True))
    for fmt, text in documents.items():
        if fmt == "markdown":
            p = GraphLatexPrinter(dict(human=True, indicator=r"\mathbb{I}"))
        for lhs, rhs in _matrix_lines(les):
            assert f"{p.doprint(lhs)} &= {p.doprint(rhs)}" in text or \
                f"{p.doprint(lhs)} = {p.doprint(rhs)}" in text, (fmt, lhs)
        for section in ("Forward pass", "Backward pass", "Gradients of the parameters",
                        "Summary", "The algorithm"):
            assert section in text
        assert r"\boxed" in text and "<<" not in text and "<%" not in text


def test_the_markdown_math_renders_in_katex_and_mathjax():
    """Every math fragment of every case's Markdown, in one node run."""
    if not node_ready():
        if IN_CI:
            pytest.fail("node with katex and mathjax-full is required in CI")
        pytest.skip("node or node_modules missing")
    frags = set()
    for name, make in NETS.items():
        net = make()
        d = backprop_graph(net) if name == "skipnet" else backprop(net)
        for notation in ("hz", "gh", "pq", "za") if name == "conv1d_max" else ("hz",):
            found = fragments(render_graph(d, "markdown", notation))
            assert len(found) > 20, name
            frags |= {(f["tex"], f["display"]) for f in found}
    failures = check([{"tex": tex, "display": display} for tex, display in sorted(frags)])
    assert not failures, failures[:3]


def overfull(log):
    return [float(w) for w in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too", log)]


def test_the_latex_compiles_without_an_overfull_box(case, documents, tmp_path):
    exe = shutil.which("pdflatex")
    if exe is None:
        if IN_CI:
            pytest.fail("CI=true needs pdflatex")
        pytest.skip("pdflatex is not installed")
    (tmp_path / "doc.tex").write_text(documents["latex"])
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                          cwd=tmp_path, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    wide = [w for w in overfull((tmp_path / "doc.log").read_text(errors="replace")) if w > 1]
    assert not wide, f"overfull boxes of {wide} pt"


def test_a_deep_network_fits_its_pages(tmp_path):
    """Three convolutions and a head of three layers: the summary is boxed a dozen lines
    at a time (a box cannot break across pages), and nothing is wider than the page."""
    exe = shutil.which("pdflatex")
    if exe is None:
        if IN_CI:
            pytest.fail("CI=true needs pdflatex")
        pytest.skip("pdflatex is not installed")
    d = backprop(Network.conv1d(channels=(1, 2, 2, 2), kernel=2, pool="max", length=16,
                                head_widths=(4, 3, 2)))
    tex = render(d, "latex")
    assert tex.count(r"\boxed") == -(-len(lesson(d)["summary"]) // 12) > 1
    (tmp_path / "doc.tex").write_text(tex)
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                          cwd=tmp_path, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    wide = [w for w in overfull((tmp_path / "doc.log").read_text(errors="replace")) if w > 1]
    assert not wide, f"overfull boxes of {wide} pt"


def test_notes_arch_writes_the_document_and_its_diagram(tmp_path, capsys):
    out = tmp_path / "cnn.md"
    assert main(["notes", "--arch", "conv1d", "--channels", "1,2", "--kernel", "2",
                 "--length", "5", "--head-widths", "2", "-o", str(out)]) == 0
    text = out.read_text()
    assert "# Backpropagation through a 1-D convolutional network" in text
    assert "](cnn.svg)" in text and (tmp_path / "cnn.svg").read_text().startswith("<svg")
    assert main(["notes", "--arch", "conv2d", "--channels", "1,2", "--kernel", "2", "--size",
                 "4,4", "--head-widths", "2", "--detail", "brief"]) == 0
    brief = capsys.readouterr().out
    assert r"\boxed" in brief and "Backward pass" not in brief.split("The algorithm")[0]


def test_bad_options_are_refused_in_one_line():
    d = backprop(NETS["conv1d_max"]())
    for kwargs, message in ((dict(fmt="html"), "format 'html' is not allowed"),
                            (dict(detail="all"), "detail 'all' is not allowed"),
                            (dict(layout="numerator"), "layout 'numerator' is not allowed"),
                            (dict(templates="/nonexistent"), "is not a folder")):
        with pytest.raises(SpecError, match=message) as err:
            render(d, **kwargs)
        assert "\n" not in str(err.value)


def test_no_prose_sentence_appears_three_times(documents):
    """SPEC §4, counted as tests/test_render_prose.py counts (a Markdown parser; each
    formula one placeholder, each number another; tables, headings and the algorithm's
    block quote are not prose): a lead-in names its call, and a call of a kind derived
    above joins one display of repeats instead of a third copy of its sentences."""
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)
    sentences, skip = [], 0
    for tok in md.parse(documents["markdown"]):
        if tok.type in ("blockquote_open", "table_open", "heading_open"):
            skip += 1
        elif tok.type in ("blockquote_close", "table_close", "heading_close"):
            skip -= 1
        elif tok.type == "inline" and not skip:
            text = "".join("M" if c.type == "math_inline" else c.content
                           for c in tok.children or [])
            text = re.sub(r"\d+", "N", text)
            sentences += [s.strip() for s in re.split(r"(?<=[.:;?!])\s+", text) if s.strip()]
    counts = {s: sentences.count(s) for s in sentences}
    assert len(sentences) > 20 and max(counts.values()) < 3, \
        [s for s, n in counts.items() if n >= 3]


def test_the_diagram_draws_a_skip_where_a_call_reads_an_earlier_quantity(case, documents):
    """The residual add reads z_1 besides a_2: an arc in the TikZ picture and in the SVG,
    and the caption mentions curved arrows exactly then."""
    name, d, _, _ = case
    skip = name == "skipnet"
    assert ("bend left" in documents["latex"]) == skip
    assert ('fill="none"' in render_svg(d)) == skip     # an arc, not the arrow head
    for text in documents.values():
        assert ("a curved arrow shows" in text) == skip


def test_a_folder_of_templates_replaces_a_graph_template_by_name(tmp_path):
    """--templates DIR: DIR/notes/graph/common/intro.j2 replaces the shipped one."""
    folder = tmp_path / "mine" / "notes" / "graph" / "common"
    folder.mkdir(parents=True)
    (folder / "intro.j2").write_text("Our own opening for << arch_title >>.\n")
    text = render(backprop(NETS["conv1d_max"]()), "markdown", templates=str(tmp_path / "mine"))
    assert "Our own opening for a 1-D convolutional network." in text
    assert "These notes derive" not in text
