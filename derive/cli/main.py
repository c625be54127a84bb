"""The command line: parse, call the API, map errors to exit codes (SPEC §6).

Each subcommand lives in its own module ``derive/cli/<name>_command.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func`` (args → exit code).
"""
import argparse
import errno
import re
import signal
import sys
import threading

from .. import __version__
from ..errors import DeriveError, did_you_mean, shown
from . import catalogue_command, check_command, export_command, gallery, notes_command, streams, verify_command
from .arguments import MAX_DIGITS, add_loss_definitions, digits

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT       # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM       # 143
COMMANDS = (notes_command, verify_command, export_command, catalogue_command, check_command)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting with a traceback."""

    def error(self, message):
        raise DeriveError(_worded(message))


_CHOICE = re.compile(r"argument ([\w-]+): invalid choice: (.*) \(choose from (.*)\)")
_QUOTED = re.compile(r"'([^']{%d,})'" % 41)
_HUGE_INT = re.compile(r"argument ([\w/-]+): invalid int value: '\s*([+-]?\d{%d,})\s*'"
                       % (MAX_DIGITS + 1))


def _worded(message):
    """An option's bad choice worded as the API words it: "unknown loss 'hinge';
    allowed: mse, sse, …", with the closest allowed value when one is close ("did you
    mean 'sigmoid'?"); a bad command keeps argparse's "choose from". A long value is
    abbreviated (a 5000-digit --depth is not echoed whole)."""
    huge = _HUGE_INT.fullmatch(message)
    if huge:
        return f"{huge.group(1)}: {digits(huge.group(2))} is too large"
    match = _CHOICE.fullmatch(message)
    if not match:
        return _QUOTED.sub(lambda m: shown(m.group(1)), message)
    option, value, allowed = match.groups()
    names = [a.strip().strip("'\"") for a in allowed.split(",")]
    value = value.strip("'\"")
    hint = did_you_mean(value, names)
    if not option.startswith("--"):
        return f"unknown command {shown(value)}{hint}; choose from {', '.join(names)}"
    return f"unknown {option[2:].replace('-', ' ')} {shown(value)}{hint}; " \
           f"allowed: {', '.join(names)}"


EPILOG = """examples:
  derive                                   build the gallery of the source notes in output/
  derive notes --depth 3 --activation sigmoid --loss bce -o notes.tex
  derive verify --depth L --activation sigmoid --loss bce --param W_L --claim "(z_L - y) z_{L-1}^T"

exit status: 0 success, 1 a verified claim does not hold, 2 bad input, 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM)"""


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that every ``finally`` and ``with`` runs
    (temporary folders removed, pdflatex killed) before the exit status 143."""


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_RAISES = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: Terminated}


class _Exit:
    """Whether a signal has started the exit path (then SIGINT and SIGTERM stay ignored:
    the process is on its way out, and a second Ctrl-C or SIGTERM must not interrupt the
    cleanup or the one-line message)."""
    signalled = False


def _on_signal(signum, frame):
    """The first SIGINT or SIGTERM: ignore both from now on, then raise where the
    program is (KeyboardInterrupt or `Terminated`) so that every ``finally`` runs."""
    for other in _SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    if _Exit.signalled:          # a second one that slipped in before the line above
        return
    _Exit.signalled = True
    raise _RAISES[signum]


def _install():
    """Our handler for SIGINT and SIGTERM, except where they were inherited ignored (a
    background job of a non-interactive shell, ``nohup``): that choice is the caller's.
    Returns the previous handlers, to restore."""
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(sig, _on_signal)
    return previous


def _restore(previous):
    """The previous handlers back, unless a signal started the exit path: then both stay
    ignored until the process is gone (a caller in-process resets `_Exit` and them)."""
    if _Exit.signalled:
        return
    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def os_message(exc):
    """One line for an operating-system error that no command turned into a
    `DeriveError`: a full disk under ``> /dev/full`` is the usual one."""
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO):
        return f"cannot write to standard output: {exc.strerror}"
    return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")


def build_parser():
    parser = _Parser(
        prog="derive", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Derive backpropagation symbolically, certify it, and write it up.\n"
                    "Without a command, derive builds the gallery of the source notes'\n"
                    "networks in output/ (.tex, .md, .svg, and .pdf when pdflatex is installed).")
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-o", "--output", metavar="FOLDER", default=None, dest="gallery_output",
                        help="the gallery's folder (default: output; a folder, so not -); "
                             "only without a command")
    parser.add_argument("--force", action="store_true", dest="gallery_force",
                        help="let the gallery replace files in its folder that it did not "
                             "write (it never replaces a folder, FIFO or device)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    for command in sub.choices.values():
        add_loss_definitions(command)
    return parser


def gallery_options(args):
    """The gallery's -o and --force: refused before a command (``derive -o x notes``
    would otherwise drop them), and ``-o -`` refused (a gallery is a folder of files)."""
    given = [name for name, on in (("-o/--output", args.gallery_output is not None),
                                   ("--force", args.gallery_force)) if on]
    if args.command is not None and given:
        raise DeriveError(f"{' and '.join(given)} before the command {args.command!r}: "
                          f"{'these are' if len(given) > 1 else 'this is'} the gallery's "
                          f"(derive without a command); a command's options go after its "
                          f"name: derive {args.command} …")
    if args.gallery_output in ("-", ""):
        raise DeriveError(f"-o {args.gallery_output!r}: the gallery is a folder of files, "
                          "not one stream; give a folder name (./- for a folder named -)")
    return argparse.Namespace(output=args.gallery_output, force=args.gallery_force)


def default_job(args=None):
    """The main job: the gallery."""
    return gallery.main(args)


def one_line(exc):
    """The message of an error on one line (a file name or a value may hold a newline)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _run(argv):
    args = build_parser().parse_args(argv)
    options = gallery_options(args)
    code = default_job(options) if args.command is None else args.func(args)
    sys.stdout.flush()            # a full disk shows here, not at exit
    note = streams.escaped_note()
    return code if note is None else _fail(note, code)


def _fail(message, code):
    """``derive: message`` on stderr; nothing at all when stderr is closed (never on
    stdout instead, where it would pass for output)."""
    if sys.stderr is None:
        return code
    try:
        print(f"derive: {message}", file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = _install() if in_main_thread else None
    try:
        with streams.guarded():
            return _run(argv)     # through a closed pipe, the command's own status
    except DeriveError as exc:
        return _fail(one_line(exc), EXIT_BAD_INPUT)
    except BrokenPipeError:       # bytes (a PDF) to `| head`: the reader has what it wanted
        streams.quiet()
        return 0
    except OSError as exc:        # `> /dev/full`, `>&-` and the like
        streams.quiet()
        return _fail(os_message(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Terminated:
        return _fail("terminated", EXIT_TERMINATED)
    finally:
        if in_main_thread:
            _restore(previous)


if __name__ == "__main__":
    sys.exit(main())
