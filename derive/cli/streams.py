"""The standard streams as the command line finds them (SPEC §6): closed (``>&-``), a
pipe whose reader has gone (``| head``, ``| true``), or in an encoding that cannot write
the notes' symbols (``LC_ALL=C``, ``PYTHONIOENCODING=ascii``).

- A closed pipe is not an error of the command: what it writes after the reader left
  goes nowhere, the command finishes, and its exit status stands (a claim that does not
  hold is still 1). `Stdout.broken` says it happened.
- Standard output closed from the start is an `OSError` on the first write, which the
  command line reports in one line; standard error closed means no message, never a
  message on standard output instead.
- A character the output's encoding lacks (⊙, ×, δ under ASCII) is written as a
  backslash escape (``\\u2299``, ``\\xd7``) and counted in `Stdout.escaped`, so the
  command line can say so in one line; bytes of a file name that were not UTF-8 are
  written back as they were.
"""
import codecs
import errno
import io
import os
import sys
from contextlib import contextmanager

ERRORS = "derive-escape"


class Stdout:
    """What happened to standard output during one run."""
    broken = False
    escaped = 0


def _escape(exc):
    """The encoding error handler: surrogate escapes (undecodable bytes of argv) back
    to their bytes, anything else as a backslash escape, counted."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    if all("\udc80" <= c <= "\udcff" for c in text):
        return bytes(ord(c) - 0xDC00 for c in text), exc.end
    Stdout.escaped += len(text)
    return codecs.backslashreplace_errors(exc)


codecs.register_error(ERRORS, _escape)


class ClosedStream:
    """Stands in for a standard stream the process was started without: writing is an
    `OSError` naming it; flushing does nothing (so the interpreter's exit is quiet)."""

    def __init__(self, name):
        self.name = name

    def _closed(self, *args):
        raise OSError(errno.EBADF, f"{self.name} is closed")

    write = writelines = fileno = _closed

    @property
    def buffer(self):
        return self._closed()

    def flush(self):
        pass

    def isatty(self):
        return False


class PipeSafe:
    """Standard output that turns a closed pipe into silence: the first
    `BrokenPipeError` points the file descriptor at /dev/null and sets `Stdout.broken`;
    every other attribute is the wrapped stream's."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            quiet(self._stream)
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            quiet(self._stream)


def quiet(stream=None):
    """After a closed pipe: point standard output's descriptor at /dev/null so that no
    later flush, ours or the interpreter's at exit, fails again (the recipe of Python's
    `signal` documentation)."""
    Stdout.broken = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (stream or sys.stdout).fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


@contextmanager
def guarded():
    """Standard output for one run of the command line: a `ClosedStream` if there is
    none, else the stream wrapped in `PipeSafe` with the escaping error handler; all
    put back afterwards."""
    saved = sys.stdout
    Stdout.broken, Stdout.escaped = False, 0
    errors = getattr(saved, "errors", None)
    reconfigure = errors is not None and hasattr(saved, "reconfigure")
    if saved is None:
        sys.stdout = ClosedStream("standard output")
    else:
        if reconfigure:
            saved.reconfigure(errors=ERRORS)
        sys.stdout = PipeSafe(saved)
    try:
        yield
    finally:
        sys.stdout = saved
        if reconfigure:
            try:
                saved.reconfigure(errors=errors)
            except (OSError, ValueError):
                pass


def escaped_note():
    """One line saying that characters were escaped, or None."""
    if not Stdout.escaped:
        return None
    encoding = getattr(sys.stdout, "encoding", None) or "its encoding"
    return (f"standard output ({encoding}) cannot show {Stdout.escaped} character(s); "
            "they were written as backslash escapes (set PYTHONIOENCODING=utf-8, or write "
            "to a file with -o)")
