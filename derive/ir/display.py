"""Notebook display without importing the renderers.

The face (`derive.api`) installs the writers here: one Markdown writer per displayable
type (a ``_repr_markdown_`` method asks `markdown`), one LaTeX writer for the IR's node
classes (their ``_latex`` method, so SymPy's own ``latex()`` and a notebook's
``_repr_latex_`` print a node in the notes' notation), and one document writer
(`Derivation.document`). The IR and the engine never import `derive.printing` or
`derive.documents`; the face, which may import everything, hands them in.

>>> from derive.ir.nodes import Var
>>> from sympy import latex
>>> latex(Var("z", 2, 3, 1))
'\\\\mathbf{z}_{2}'
>>> Document("# Notes", "markdown")._repr_markdown_()
'# Notes'
"""
from sympy import sstr

_WRITERS = {}     # type name -> function(obj) -> Markdown text
_LATEX = {}       # family -> function(node) -> LaTeX; "document" -> function(obj, fmt, **o)
_LATEX_DISPLAYS = {}   # type name -> function(obj) -> LaTeX display ($$ … $$)


def set_markdown(type_name, writer):
    """Install the Markdown writer for objects of the class called ``type_name``."""
    _WRITERS[type_name] = writer


def markdown(obj):
    """The Markdown display of ``obj``, or None (the plain repr) without a writer."""
    writer = _WRITERS.get(type(obj).__name__)
    return None if writer is None else writer(obj)


def set_latex_display(type_name, writer):
    """Install the LaTeX display (``_repr_latex_``, delimiters included) of objects of
    the class called ``type_name`` (a `Step`)."""
    _LATEX_DISPLAYS[type_name] = writer


def latex_display(obj):
    """The LaTeX display of ``obj``, or None without a writer."""
    writer = _LATEX_DISPLAYS.get(type(obj).__name__)
    return None if writer is None else writer(obj)


def set_latex(family, writer):
    """Install the LaTeX writer of a family of IR nodes (``"network"``: the nodes of
    `derive.ir.nodes`; ``"catalogue"``: those of `derive.ir.matrix_nodes`)."""
    _LATEX[family] = writer


def latex(node, family="network"):
    """The LaTeX of one IR node (its plain text in ``\\texttt`` without a writer)."""
    writer = _LATEX.get(family)
    if writer is None:
        return r"\texttt{" + sstr(node) + "}"
    return writer(node)


def set_document(writer):
    """Install the document writer: ``writer(obj, fmt, **options) -> str``."""
    _LATEX["document"] = writer


def document(obj, fmt, **options):
    """The full document of ``obj`` in ``fmt`` as a `Document`."""
    return Document(_LATEX["document"](obj, fmt, **options), fmt)


def set_equation(writer):
    """Install the equation writer: ``writer(obj, lhs, rhs) -> LaTeX``."""
    _LATEX["equation"] = writer


def equation(obj, lhs, rhs):
    """``lhs = rhs`` printed for ``obj`` (in its notation, at its depth) as `Math`."""
    return Math(_LATEX["equation"](obj, lhs, rhs))


class Math(str):
    """LaTeX math that a notebook shows typeset.

    >>> Math("x = 1")._repr_latex_()
    '$$x = 1$$'
    """

    def _repr_latex_(self):
        return f"$${self}$$"


class Document(str):
    """A written-up document: text that a notebook shows as Markdown when it is."""

    def __new__(cls, text, fmt):
        obj = super().__new__(cls, text)
        obj.fmt = fmt
        return obj

    def _repr_markdown_(self):
        return str(self) if self.fmt == "markdown" else None
