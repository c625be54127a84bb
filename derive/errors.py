"""The error types users meet. Every failure caused by user input is one of these."""


class DeriveError(Exception):
    """Base class: a user-facing error whose message is one line."""


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
