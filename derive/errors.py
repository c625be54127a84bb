"""The error types users meet. Every failure caused by user input is one of these.

>>> shown(10 ** 5000)
'1000…0000 (5001 digits)'
>>> shown("7" * 60)
"'77777777777777777777777777777777…' (60 characters)"
>>> shown((True, 2))
'(True, 2)'
>>> did_you_mean("sigmoud", ["identity", "sigmoid", "tanh"])
" (did you mean 'sigmoid'?)"
"""
import difflib

#: a value longer than this is abbreviated in a message (`shown`)
SHOWN_LIMIT = 40


class DeriveError(Exception):
    """Base class: a user-facing error whose message is one line."""


class TemplateError(DeriveError):
    """A user's template (``--templates DIR``) that does not render: names the file and
    the line (``template notes/steps/delta.j2 line 3: 'y' is undefined``)."""


class SpecError(DeriveError, ValueError):
    """An invalid network specification: names the field and the allowed values."""


class ClaimError(DeriveError, ValueError):
    """A malformed closed-form claim: names the column where parsing failed."""

    def __init__(self, message, column=None, text=None):
        self.column = column
        self.text = text
        if column is not None:
            message = f"{message} (column {column})"
        super().__init__(message)


#: what SymPy raises on an expression it cannot handle (a node without a rule, a
#: power of a non-square matrix …); the catalogue turns each into a ClaimError
SYMPY_FAILURES = (TypeError, ValueError, AttributeError, NotImplementedError, KeyError)


def as_claim_error(function):
    """Decorate a catalogue entry point: a crash inside SymPy becomes a one-line
    `ClaimError` (a `DeriveError` passes through unchanged), never a traceback."""
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DeriveError:
            raise
        except SYMPY_FAILURES as exc:
            raise ClaimError(f"cannot handle this expression: {type(exc).__name__}: "
                             f"{exc}") from None
    guarded.__name__, guarded.__doc__ = function.__name__, function.__doc__
    guarded.__wrapped__ = function
    return guarded


def did_you_mean(value, names):
    """`` (did you mean 'NAME'?)`` for the allowed name closest to a misspelled
    ``value``, or ``""`` when none is close (difflib's ratio, as argparse's own
    suggestion on Python ≥ 3.14)."""
    if not isinstance(value, str) or len(value) > 4 * SHOWN_LIMIT:
        return ""
    names = [n for n in names if isinstance(n, str)]
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6) or \
        difflib.get_close_matches(value.lower(), names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close and close[0] != value else ""


def shown(value):
    """``value`` for a one-line message: its repr, abbreviated when long. An integer too
    long for ``str`` (Python refuses past 4300 digits) gives its first and last digits
    and its length, so that wording an error about it cannot raise one."""
    if getattr(value, "is_Integer", False) is True:          # SymPy's Integer
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = _digit_count(abs(value))
        if digits <= SHOWN_LIMIT:
            return str(value)
        sign, value = ("-" if value < 0 else ""), abs(value)
        return f"{sign}{value // 10 ** (digits - 4)}…{value % 10 ** 4:04d} ({digits} digits)"
    if isinstance(value, str) and len(value) > SHOWN_LIMIT:
        return f"{value[:SHOWN_LIMIT - 8]!r}"[:-1] + f"…' ({len(value)} characters)"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(shown(v) for v in value[:8]) + (", …" if len(value) > 8 else "")
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) \
            else f"[{inner}]"
    try:
        text = repr(value)
    except ValueError:            # an object holding a huge integer
        return f"<{type(value).__name__}>"
    return text if len(text) <= 4 * SHOWN_LIMIT else text[:4 * SHOWN_LIMIT] + "…"


def _digit_count(value):
    """The number of decimal digits of ``value`` ≥ 0, without ``str`` (which Python
    refuses past 4300 digits)."""
    count = max(1, int(value.bit_length() * 0.30103))
    while 10 ** count <= value:
        count += 1
    while count > 1 and 10 ** (count - 1) > value:
        count -= 1
    return count
