"""The one Jinja environment factory: every template of the package is loaded here.

Templates live in ``templates/`` (installed as the package ``derive.templates``):
``notes/…`` and ``catalogue/…`` are LaTeX and Markdown documents and use LaTeX-safe
delimiters (``<% %>`` blocks, ``<< >>`` values, ``<# #>`` comments), ``numpy/…`` is
Python and uses Jinja's own. Undefined names are errors (`StrictUndefined`).

>>> environment("latex").get_template("notes/latex/document.j2").name
'notes/latex/document.j2'
"""
import os
from functools import lru_cache

import jinja2

#: delimiters per syntax: LaTeX documents cannot use Jinja's braces
DELIMITERS = {
    "latex": dict(block_start_string="<%", block_end_string="%>",
                  variable_start_string="<<", variable_end_string=">>",
                  comment_start_string="<#", comment_end_string="#>"),
    "python": {},
}


def _loader():
    """The installed `derive.templates` package, or the source tree's templates/."""
    try:
        return jinja2.PackageLoader("derive", "templates")
    except ValueError:
        here = os.path.abspath(__file__)
        root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
        return jinja2.FileSystemLoader(os.path.join(root, "templates"))


@lru_cache(maxsize=None)
def environment(syntax, override=None):
    """The Jinja environment for templates written in ``syntax`` ("latex" or "python").

    ``override`` is a folder of the user's: a template there replaces the shipped one of
    the same name (``notes/steps/delta.j2``, ...); undefined names stay errors.
    """
    loader = _loader() if override is None else jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(override), _loader()])
    return jinja2.Environment(
        loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        **DELIMITERS[syntax])
