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
