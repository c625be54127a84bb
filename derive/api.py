"""The face: entry points that start from text, and the notebook display hooks.

The parts below never import upward: the IR asks `derive.ir.activations` for the rule
row of an activation and `derive.ir.display` for a notebook display, and this module
installs both. It is imported by the package, so the hooks are in place whatever
submodule a user imports first.

>>> d = matrix_derivative("y^T A B x", "B")
>>> d.result
A.T*y*x.T
"""

import functools
import inspect

from sympy import Integer

from .claims import identity_check, network_check, worked_numbers
from .claims.chain_check import check_steps as check_steps  # the face of SPEC §3b
from .claims.free_build import build_scalar
from .claims.free_names import parse_free, parse_wrt
from .claims.grammar import parse
from .claims.network_build import build
from .codegen.catalogue_module import export_derivative
from .codegen.targets import export_network
from .documents import cards, ipython, notebook, worked
from .documents.catalogue import ENTRIES, render_catalogue
from .engine import plan
from .errors import ClaimError, DeriveError
from .ir import activations, display
from .matrix.derivation import MatrixDerivation, derive_scalar
from .spec import rules

activations.set_definitions(rules.activation)
display.set_markdown("Derivation", notebook.summary_markdown)
display.set_markdown("MatrixDerivation", notebook.matrix_markdown)
display.set_markdown("Verdict", notebook.verdict_markdown)
display.set_markdown("Certificate", cards.certificate_markdown)
display.set_markdown("GradientModule", cards.module_markdown)
display.set_latex_display("Step", cards.step_latex)
display.set_latex("network", notebook.node_latex)
display.set_latex("catalogue", notebook.catalogue_latex)
display.set_document(notebook.document)
worked.set_numbers(worked_numbers.numbers)     # the worked example's numbers
display.set_equation(notebook.equation_latex)
use_notation = notebook.use_notation
#: True where a Jupyter (IPython) shell runs this process: its text/latex formatter
#: prints SymPy expressions holding our nodes in the notes' notation
IPYTHON_FORMATTER = ipython.install()


def user_errors(function):
    """Raise our errors from the entry point itself: the traceback a user sees is their
    call and one line, not the parser's frames (``raise … from None``); a claim's error
    carries the claim with a caret under the column it names (a note, Python ≥ 3.11)."""
    @functools.wraps(function)
    def entry(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DeriveError as exc:
            _add_caret(exc)
            raise exc.with_traceback(None) from None
    return entry


def _add_caret(exc):
    text, column = getattr(exc, "text", None), getattr(exc, "column", None)
    if isinstance(text, str) and isinstance(column, int) and hasattr(exc, "add_note") \
            and "\n" not in text and 1 <= column <= len(text) + 1:
        exc.add_note(f"  {text}\n  {' ' * (column - 1)}^")


def _claim_text(function, position, name):
    """Record the claim text on a ClaimError that has a column but no text."""
    @functools.wraps(function)
    def entry(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ClaimError as exc:
            text = args[position] if len(args) > position else kwargs.get(name)
            if exc.text is None and isinstance(text, str):
                exc.text = text
            raise
    return entry


@user_errors
def backprop(net):
    """Derive the δ-recursion and the gradients of every parameter of ``net`` (the
    engine's `derive.engine.plan.backprop`, remembered so that a notebook prints its
    results at its depth)."""
    return notebook.remember(plan.backprop(net))


@user_errors
@functools.wraps(network_check.verify)
def verify(*args, **kwargs):
    arguments = VERIFY.bind(*args, **kwargs)
    arguments.apply_defaults()
    v = _claim_text(network_check.verify, 2, "claim")(*args, **kwargs)
    net, notation = arguments.arguments["net"], arguments.arguments["notation"]
    return notebook.note_correct_form(v, _correct_expr(v, net, notation), notation,
                                      None if net.symbolic else Integer(net.depth))


VERIFY = inspect.signature(network_check.verify)


def _correct_expr(v, net, notation):
    """The verdict's correct form read back from its claim text (it is written to be
    pasted back), or None where that fails."""
    if not v.correct:
        return None
    try:
        return build(parse(v.correct, notation), net)[0]
    except DeriveError:
        return None



verify_identity = user_errors(_claim_text(identity_check.verify_identity, 1, "claim"))


@user_errors
def matrix_derivative(expr, wrt, shapes=None):
    """Derive ∂expr/∂wrt for a scalar ``expr`` written in the claim syntax.

    ``shapes`` maps names to (rows, cols), each a positive integer or a dimension
    name; unnamed shapes are inferred (lower case: column vector, upper case: matrix).
    """
    if not isinstance(expr, str):
        raise ClaimError(f"expr must be text in the claim syntax, got {type(expr).__name__}")
    label = parse_wrt(wrt)
    try:
        tree = parse_free(expr)
    except ClaimError as exc:
        exc.text = expr if exc.text is None else exc.text
        raise
    scalar = build_scalar(tree, label, shapes)
    depth = function_nesting(scalar.expr)
    if depth > MAX_FUNCTION_NESTING:
        raise ClaimError(f"the expression nests functions {depth} deep; the limit is "
                         f"{MAX_FUNCTION_NESTING} (each level multiplies the work of the "
                         "derivation and of its certificate)")
    return derive_scalar(expr, scalar, label)


MAX_FUNCTION_NESTING = 10


def export(obj, target="numpy"):
    """Gradient code for ``target`` ("numpy", "torch", "jax" or "array_api"), SPEC §5b.

    ``obj`` is a `Network` (the module has ``loss``, ``gradients``,
    ``loss_and_gradients``, ``forward``, ``param_names``, ``param_shapes``; torch also
    the ``nn.Module`` ``Model``) or a `matrix_derivative` (``f_and_grad(**arrays)``).

    >>> import numpy as np
    >>> g = export(matrix_derivative("1/2 x^T A^T A x", "A"), target="numpy")
    >>> f, grad = g.f_and_grad(A=np.eye(2), x=np.array([[1.0], [2.0]]))
    >>> float(f), grad.tolist()
    (2.5, [[1.0, 2.0], [2.0, 4.0]])
    """
    if isinstance(obj, MatrixDerivation):
        return export_derivative(obj, target)
    return export_network(obj, target)


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
