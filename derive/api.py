"""The face: entry points that start from text, and the notebook display hooks.

The parts below never import upward: the IR asks `derive.ir.activations` for the rule
row of an activation and `derive.ir.display` for a notebook display, and this module
installs both. It is imported by the package, so the hooks are in place whatever
submodule a user imports first.

>>> d = matrix_derivative("y^T A B x", "B")
>>> d.result
A.T*y*x.T
"""

from .claims.chain_check import check_steps as check_steps  # the face of SPEC §3b
from .claims.free_build import build_scalar
from .claims.free_names import parse_free, parse_wrt
from .documents import notebook
from .documents.catalogue import ENTRIES, render_catalogue
from .errors import ClaimError
from .ir import activations, display
from .matrix.derivation import derive_scalar
from .spec import rules

activations.set_definitions(rules.activation)
display.set_markdown("Derivation", notebook.summary_markdown)
display.set_markdown("MatrixDerivation", notebook.matrix_markdown)
display.set_markdown("Verdict", notebook.verdict_markdown)
display.set_latex("network", notebook.node_latex)
display.set_latex("catalogue", notebook.catalogue_latex)
display.set_document(notebook.document)
display.set_equation(notebook.equation_latex)
use_notation = notebook.use_notation


def matrix_derivative(expr, wrt, shapes=None):
    """Derive ∂expr/∂wrt for a scalar ``expr`` written in the claim syntax.

    ``shapes`` maps names to (rows, cols), each a positive integer or a dimension
    name; unnamed shapes are inferred (lower case: column vector, upper case: matrix).
    """
    if not isinstance(expr, str):
        raise ClaimError(f"expr must be text in the claim syntax, got {type(expr).__name__}")
    label = parse_wrt(wrt)
    tree = parse_free(expr)
    scalar = build_scalar(tree, label, shapes)
    depth = function_nesting(scalar.expr)
    if depth > MAX_FUNCTION_NESTING:
        raise ClaimError(f"the expression nests functions {depth} deep; the limit is "
                         f"{MAX_FUNCTION_NESTING} (each level multiplies the work of the "
                         "derivation and of its certificate)")
    return derive_scalar(expr, scalar, label)


MAX_FUNCTION_NESTING = 10


def function_nesting(expr):
    """How deeply applied functions (exp, σ, log …) nest in ``expr``."""
    deepest, stack = 0, [(expr, 0)]
    while stack:
        node, depth = stack.pop()
        depth += bool(getattr(node, "is_Function", False))
        deepest = max(deepest, depth)
        stack.extend((arg, depth) for arg in node.args)
    return deepest


def catalogue_derivations(entries=ENTRIES):
    """[(entry, [MatrixDerivation per wrt])] for catalogue entries. The sizes of an entry
    are named once (after its first variable), so all its derivations share the letters."""
    out = []
    for e in entries:
        scalar = build_scalar(parse_free(e.expr), e.wrt[0])
        out.append((e, [derive_scalar(e.expr, scalar, w) for w in e.wrt]))
    return out


def catalogue_document(fmt="latex", entries=ENTRIES, certify=True):
    """The catalogue of matrix derivatives as a LaTeX document or as Markdown."""
    return render_catalogue(fmt, catalogue_derivations(entries), certify)
