"""Notebook display, end to end: nbclient runs a small notebook in a real kernel and
the mime bundles it records are checked (text/latex for the IR's nodes, text/markdown
for a Derivation, a Verdict and a MatrixDerivation, the SVG embedded in the Markdown).

The kernel tests skip when no Jupyter kernel can start on a laptop; in CI they must run.
The node tests need no kernel: SymPy's own ``latex()`` is what a notebook calls.
"""
import base64
import inspect
import re
from pathlib import Path

import pytest
import sympy
from conftest import IN_CI
from mathcheck import check, fragments, node_ready
from sympy import Basic, IndexedBase, MatrixSymbol, Symbol

from derive import Network, backprop, verify
from derive.api import use_notation
from derive.documents.notebook import summary_markdown, verdict_markdown
from derive.ir import matrix_nodes, nodes
from derive.ir.matrix_nodes import AsScalar, Elem, SqNorm
from derive.ir.nodes import Act, Jacobian, MatPartial, Partial, Times, Var
from derive.printing.notation import PRESETS
from derive.vocab import LOSS

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
    "from derive import Network, backprop, verify, matrix_derivative\n"
    "net = Network.uniform(depth=2, activation='sigmoid', loss='bce')\n"
    "d = backprop(net)",
    "d.delta(2)",
    "d.grad('W', 1)",
    "d",
    "verify(net, 'W_2', '2 delta_2 z_1^T')",
    "verify(net, 'W_2', '(z_2 - y) z_1^T')",
    "matrix_derivative('y^T A x', 'A')",
    "d.document()",
    "d.equation('delta', 1)",
]


z2, h2, W3 = Var("z", 2, 3, 1), Var("h", 2, 3, 1), Var("W", 3, 2, 3)
A = MatrixSymbol("A", 2, 2)
NODES = [
    # (node, SymPy's latex() of it in the hz notation)
    (z2, r"\mathbf{z}_{2}"),
    (Act("sigmoid", h2, 1), r"\sigma'(\mathbf{h}_{2})"),
    (Partial(LOSS, IndexedBase(z2)[Symbol("k")]), r"\frac{\partial J}{\partial z_{2,k}}"),
    (MatPartial(LOSS, W3), r"\frac{\partial J}{\partial W_{3}}"),
    (Jacobian(z2, h2), r"\frac{\partial \mathbf{z}_{2}}{\partial \mathbf{h}_{2}}"),
    (Times(Symbol("a"), Symbol("b")), r"\left(a\right) \cdot \left(b\right)"),
    (Elem("sigma", A, 1), r"\sigma'\left(A\right)"),
    (AsScalar(A), r"\left(A\right)"),
    (SqNorm(A), r"\left\lVert A \right\rVert^{2}"),
]


def test_every_node_class_prints_itself_in_latex():
    classes = {c for m in (nodes, matrix_nodes) for _, c in inspect.getmembers(m, inspect.isclass)
               if issubclass(c, Basic) and c.__module__ == m.__name__}
    assert classes == {type(node) for node, _ in NODES}
    assert all("_latex" in vars(c) for c in classes)


@pytest.mark.parametrize("node, tex", NODES, ids=[type(n).__name__ for n, _ in NODES])
def test_sympy_latex_prints_a_node_in_the_notes_form(node, tex):
    assert sympy.latex(node) == tex
    assert node._repr_latex_() == f"$\\displaystyle {tex}$"


def test_the_display_notation_can_be_chosen():
    try:
        use_notation("za")
        assert sympy.latex(Act("sigmoid", h2, 1)) == r"\sigma'(\mathbf{z}^{2})"
    finally:
        use_notation()
    assert sympy.latex(z2) == r"\mathbf{z}_{2}"


def _imports_or_skip():
    for name in ("nbclient", "nbformat", "ipykernel"):
        try:
            __import__(name)
        except ImportError:
            if IN_CI:
                pytest.fail(f"{name} is a test dependency and must be installed in CI")
            pytest.skip(f"{name} is not installed")


@pytest.fixture(scope="module")
def outputs():
    _imports_or_skip()
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", shutdown_kernel="immediate")
    try:                          # a laptop without a working kernel skips; CI fails
        client.km = client.create_kernel_manager()
        client.start_new_kernel(cwd=str(ROOT))
        client.start_new_kernel_client()
    except Exception as exc:      # noqa: BLE001 - any failure to start a kernel
        if IN_CI:
            raise
        pytest.skip(f"no Jupyter kernel could start: {exc}")
    with client.setup_kernel():   # the kernel started above; shut down on leaving
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    return [[o.get("data", {}) for o in cell.outputs if o.output_type == "execute_result"]
            for cell in nb.cells]


def _data(outputs, k):
    assert len(outputs[k]) == 1, outputs[k]
    return outputs[k][0]


def test_nodes_display_as_latex_in_the_notes_notation(outputs):
    delta = _data(outputs, 1)["text/latex"]
    assert r"\mathbf{z}_{2}" in delta and r"\mathbf{y}" in delta
    assert "operatorname{Var}" not in delta
    grad = _data(outputs, 2)["text/latex"]
    assert r"\boldsymbol{\delta}_{1}" in grad and r"\mathbf{x}" in grad
    assert r"\sigma'" not in grad and "Act" not in grad
    assert r"\mathbf{x}^{\top}" in grad and "^{T}" not in grad    # the whole in our printer


def test_an_equation_displays_in_the_notes_form(outputs):
    tex = _data(outputs, 8)["text/latex"]
    assert tex.startswith(r"$$\boldsymbol{\delta}_{1} = ") and r"\odot \sigma'" in tex


def test_a_derivation_shows_its_summary_with_the_diagram_inline(outputs):
    md = _data(outputs, 3)["text/markdown"]
    assert r"\boxed{" in md and r"\odot \sigma'(\mathbf{h}_{1})" in md
    assert "diagram.svg" not in md and len(md) < 8000
    uri = re.search(r"\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", md)
    svg = base64.b64decode(uri.group(1)).decode()
    assert svg.startswith("<svg") and "δ" in svg


def test_a_verdict_shows_holds_and_the_correct_form(outputs):
    wrong = _data(outputs, 4)["text/markdown"]
    assert wrong.startswith("**DOES NOT HOLD**")
    assert "differs" in wrong and "*Hint:* off by a factor 1/2" in wrong
    # the correct form in the notes' typography (bold vectors, ⊤), not the claim syntax
    assert "$$\n\\left(\\mathbf{z}_{2} - \\mathbf{y}\\right) \\mathbf{z}_{1}^{\\top}\n$$" in wrong
    right = _data(outputs, 5)["text/markdown"]
    assert right.startswith("**HOLDS**")


def test_a_matrix_derivation_shows_its_steps(outputs):
    md = _data(outputs, 6)["text/markdown"]
    assert md.count("$$") >= 4 and r"\boxed{" in md
    assert "# A catalogue" not in md and "y^T A x" in md           # its own title only


def test_the_full_document_on_request(outputs):
    md = _data(outputs, 7)["text/markdown"]
    assert md.startswith("# ") and "data:image/svg+xml;base64," in md
    assert "diagram.svg" not in md


def test_the_displays_render_in_katex_and_mathjax():
    if not node_ready():
        if IN_CI:
            pytest.fail("node with katex and mathjax-full (npm ci) is required in CI")
        pytest.skip("node or node_modules missing; run npm ci")
    net = Network.uniform(depth=2, activation="sigmoid", loss="bce")
    d = backprop(net)
    shown = [summary_markdown(d, notation) for notation in PRESETS]
    shown += [summary_markdown(backprop(Network(activations=("relu", "softmax"), loss="cce")))]
    shown += [verdict_markdown(verify(net, "W_2", claim))
              for claim in ("2 delta_2 z_1^T", "(z_2 - y) z_1^T")]
    frags = [f for md in shown for f in fragments(md)]
    assert sum(f["display"] for f in frags) == len(shown)     # one display each
    frags += [{"tex": tex, "display": False} for _, tex in NODES]
    failures = check(frags)
    assert not failures, [(frags[f["index"]]["tex"][:200], f["engine"], f["error"][:200])
                          for f in failures[:5]]
