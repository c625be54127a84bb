"""How a LaTeX document sits in a host: its heading level and its equation labels.

A standalone document numbers its sections with ``\\section``; a fragment (``--body-only``)
can use ``\\chapter``, ``\\section`` or ``\\subsection`` so that it nests under the host's
headings (`levels`). A display a later line refers to is a numbered ``equation`` with a
``\\label`` under the document's prefix and the line cites it with ``\\eqref``, so two
fragments in one host never clash: by default the prefix is made from the document's
content (`default_prefix`), and ``tag_prefix`` chooses one.

>>> levels("subsection")
('subsection', 'subsubsection')
>>> check_prefix("ln-a")
'ln-a'
"""
import hashlib
import re

from ..errors import SpecError

SECTION_LEVELS = ("chapter", "section", "subsection")
_BELOW = {"chapter": "section", "section": "subsection", "subsection": "subsubsection"}
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9.-]{0,39}")


def levels(level):
    """(the sections' command, the subsections' command) for a section level."""
    if level not in SECTION_LEVELS:
        raise SpecError(f"section level {level!r} is not allowed; allowed: "
                        f"{', '.join(SECTION_LEVELS)}")
    return level, _BELOW[level]


def check_prefix(prefix):
    """A label prefix: a letter, then up to 39 letters, digits, dots or hyphens."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise SpecError(f"tag prefix {prefix!r} is not allowed; allowed: a letter, then up "
                        "to 39 letters, digits, dots or hyphens")
    return prefix


def default_prefix(*parts):
    """``eq-`` and six hex digits of a hash of ``parts`` (the network, the notation …):
    two different documents get different prefixes, the same document the same one."""
    digest = hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()[:6]
    return f"eq-{digest}"
