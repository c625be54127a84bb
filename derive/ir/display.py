"""Notebook display without importing the renderers: the face (`derive.api`) installs
one Markdown writer per displayable type, and a ``_repr_markdown_`` method asks here.
"""
_WRITERS = {}     # type name -> function(obj) -> Markdown text


def set_markdown(type_name, writer):
    """Install the Markdown writer for objects of the class called ``type_name``."""
    _WRITERS[type_name] = writer


def markdown(obj):
    """The Markdown display of ``obj``, or None (the plain repr) without a writer."""
    writer = _WRITERS.get(type(obj).__name__)
    return None if writer is None else writer(obj)
