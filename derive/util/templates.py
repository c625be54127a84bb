"""The one Jinja environment factory: every template of the package is loaded here.

Templates live in ``templates/`` (installed as the package ``derive.templates``):
``notes/…`` and ``catalogue/…`` are LaTeX and Markdown documents and use LaTeX-safe
delimiters (``<% %>`` blocks, ``<< >>`` values, ``<# #>`` comments), ``numpy/…`` is
Python and uses Jinja's own. Undefined names are errors (`StrictUndefined`).

Every environment is Jinja's `SandboxedEnvironment`: templates hold prose and layout,
and a folder of templates shared between lecturers (``--templates DIR``) must not reach
Python (``lipsum.__globals__``, ``cycler.__init__``, …: no attribute walks, no imports).
The sandbox also bounds ``range`` (`MAX_RANGE`); here powers and repetitions are bounded
too. With such a folder, every error a template raises (syntax, an undefined name, a file
that is not UTF-8, a template that includes itself, a division by zero, …) is one
`TemplateError` line naming the file and the line.

>>> environment("latex").get_template("notes/latex/document.j2").name
'notes/latex/document.j2'
>>> environment("python").from_string("{{ lipsum.__globals__ }}").render()
Traceback (most recent call last):
...
jinja2.exceptions.SecurityError: access to attribute '__globals__' of 'function' object is unsafe.
"""
import difflib
import os
from functools import lru_cache

import jinja2
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment

from ..errors import DeriveError, TemplateError

#: delimiters per syntax: LaTeX documents cannot use Jinja's braces
DELIMITERS = {
    "latex": dict(block_start_string="<%", block_end_string="%>",
                  variable_start_string="<<", variable_end_string=">>",
                  comment_start_string="<#", comment_end_string="#>"),
    "python": {},
}
#: the largest exponent of ``**`` and the longest result of ``"ab" * n`` in a template
MAX_EXPONENT, MAX_REPEAT = 1000, MAX_RANGE * 10
#: what a template can raise while it renders (beside Jinja's own TemplateError): a
#: division by zero, a bounded range, a template that includes itself, a bad operand …
RENDER_FAILURES = (jinja2.TemplateError, ArithmeticError, RecursionError, TypeError,
                   ValueError, LookupError, AttributeError, MemoryError)


def _loader():
    """The installed `derive.templates` package, or the source tree's templates/."""
    try:
        return jinja2.PackageLoader("derive", "templates")
    except ValueError:
        here = os.path.abspath(__file__)
        root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
        return jinja2.FileSystemLoader(os.path.join(root, "templates"))


class Sandbox(SandboxedEnvironment):
    """The sandbox, with ``**`` and ``*`` bounded (``9**9**9``, ``"x" * 10**12``)."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and _number(right) and abs(right) > MAX_EXPONENT:
            raise jinja2.sandbox.SecurityError(
                f"a power with an exponent above {MAX_EXPONENT} is not allowed in a template")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and _number(count) \
                        and len(seq) * count > MAX_REPEAT:
                    raise jinja2.sandbox.SecurityError(
                        f"a repetition longer than {MAX_REPEAT} is not allowed in a template")
        return super().call_binop(context, operator, left, right)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class GuardedTemplate(jinja2.Template):
    """A template whose render turns any failure into one `TemplateError` line (used
    by the environments that read a user's folder)."""

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except DeriveError:
            raise
        except RENDER_FAILURES as exc:
            raise TemplateError(self.environment.describe(exc, self.name)) from None


class UserTemplates(Sandbox):
    """The sandbox over a user's folder ``override`` in front of the shipped templates:
    each failure is worded by `describe` (which file, which line, what)."""

    template_class = GuardedTemplate

    def __init__(self, folder, override, **options):
        self.override = override       # the folder as the user wrote it (for messages)
        self.files = {}                # file name → (template name, from the user's folder)
        user = _Recording(jinja2.FileSystemLoader(folder), self, True)
        super().__init__(loader=jinja2.ChoiceLoader([user, _Recording(_loader(), self)]),
                         **options)

    def get_template(self, name, parent=None, globals=None):
        try:
            return super().get_template(name, parent, globals)
        except DeriveError:
            raise
        except RENDER_FAILURES as exc:
            if parent is not None and not isinstance(exc, jinja2.TemplateSyntaxError):
                raise       # an include: the render names the including line
            raise TemplateError(self.describe(exc, name)) from None

    def where(self, name, user=None):
        """The file a template name stands for: the user's path, or the shipped name."""
        if user is None:
            user = any(n == name and u for n, u in self.files.values())
        return os.path.join(self.override, name) if user else f"{name} (shipped)"

    def describe(self, exc, name):
        """``template FILE line N: what`` for an exception raised while loading or
        rendering template ``name`` (the innermost template frame names the line)."""
        if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
            return f"template {self.where(exc.name or name)} line {exc.lineno}: {exc.message}"
        where, line = self.where(name), None
        frame = exc.__traceback__
        while frame is not None:
            known = self.files.get(frame.tb_frame.f_code.co_filename)
            if known is not None:
                where, line = self.where(known[0], known[1]), frame.tb_lineno
            frame = frame.tb_next
        return f"template {where}{f' line {line}' if line else ''}: {_what(exc)}"


def _what(exc):
    """The failure in words, one line."""
    if isinstance(exc, RecursionError):
        return "it includes itself, or nests deeper than Python's recursion limit"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"no template named {exc.name!r} (in the folder or shipped)"
    if isinstance(exc, (jinja2.TemplateError, ArithmeticError, LookupError)):
        text = str(exc) or type(exc).__name__
        return text if isinstance(exc, jinja2.TemplateError) else f"{text} " \
            f"({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"


class _Recording(jinja2.BaseLoader):
    """A loader that records each file it reads (so a traceback frame names its file)
    and refuses a file that is not UTF-8 in one line."""

    def __init__(self, inner, env, user=False):
        self.inner, self.env, self.user = inner, env, user

    def get_source(self, environment, template):
        try:
            source, filename, uptodate = self.inner.get_source(environment, template)
        except UnicodeDecodeError as exc:
            line = exc.object[:exc.start].count(b"\n") + 1
            raise TemplateError(f"template {self.env.where(template, self.user)} line "
                                f"{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
                                ) from None
        if filename is not None:
            self.env.files[filename] = (template, self.user)
        return source, filename, uptodate

    def list_templates(self):
        return self.inner.list_templates()


def environment(syntax, override=None):
    """The Jinja environment for templates written in ``syntax`` ("latex" or "python").

    ``override`` is a folder of the user's: a template there replaces the shipped one of
    the same name (``notes/steps/delta.j2``, ...); undefined names stay errors, and every
    error is one `TemplateError` naming the file and the line. One environment per
    folder (by its absolute path: the same relative name elsewhere is another folder).
    """
    folder = None if override is None else os.path.abspath(override)
    return _environment(syntax, folder, override)


@lru_cache(maxsize=None)
def _environment(syntax, folder, override):
    options = dict(undefined=jinja2.StrictUndefined, autoescape=False,
                   keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                   **DELIMITERS[syntax])
    if override is None:
        return Sandbox(loader=_loader(), **options)
    return UserTemplates(folder, override, **options)


def shipped_names():
    """The names of the shipped templates (``notes/steps/delta.j2``, …)."""
    return sorted(_loader().list_templates())


def unmatched(override):
    """[(file, closest shipped name or None)] for each file in the folder ``override``
    that replaces no shipped template (a typo in its name or path: it is then used only
    where another template of the folder includes it). The CLI warns about each; hidden
    files and folders (``.git/``) are left out.
    """
    shipped = shipped_names()
    out = []
    for name in sorted(jinja2.FileSystemLoader(override).list_templates()):
        hidden = any(part.startswith(".") for part in name.split("/"))   # .git/, .DS_Store
        if name not in shipped and not hidden:
            close = difflib.get_close_matches(name, shipped, n=1, cutoff=0.6)
            out.append((os.path.join(override, name), close[0] if close else None))
    return out
