"""The command line: parse, call the API, map errors to exit codes (SPEC §6).

Each subcommand lives in its own module ``derive/cli/<name>_command.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func`` (args → exit code).
"""
import argparse
import errno
import io
import os
import re
import signal
import sys
import threading

from .. import __version__
from ..errors import DeriveError
from . import catalogue_command, check_command, export_command, gallery, notes_command, verify_command

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT       # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM       # 143
COMMANDS = (notes_command, verify_command, export_command, catalogue_command, check_command)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting with a traceback."""

    def error(self, message):
        raise DeriveError(_worded(message))


_CHOICE = re.compile(r"argument --([\w-]+): invalid choice: (.*) \(choose from (.*)\)")


def _worded(message):
    """An option's bad choice worded as the API words it: "unknown loss 'hinge';
    allowed: mse, sse, …" (a bad command keeps argparse's "choose from")."""
    match = _CHOICE.fullmatch(message)
    if not match:
        return message
    option, value, allowed = match.groups()
    names = ", ".join(a.strip().strip("'\"") for a in allowed.split(","))
    value = value.strip("'\"")
    return f"unknown {option.replace('-', ' ')} {value!r}; allowed: {names}"


EPILOG = """examples:
  derive                                   build the gallery of the source notes in output/
  derive notes --depth 3 --activation sigmoid --loss bce -o notes.tex
  derive verify --depth L --activation sigmoid --loss bce --param W_L --claim "(z_L - y) z_{L-1}^T"

exit status: 0 success, 1 a verified claim does not hold, 2 bad input, 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM)"""


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that every ``finally`` and ``with`` runs
    (temporary folders removed, pdflatex killed) before the exit status 143."""


def _terminate(signum, frame):
    raise Terminated


def _quiet_stdout():
    """After a closed pipe: point stdout at /dev/null so that the interpreter's final
    flush cannot fail again (the recipe of Python's `signal` documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-o", "--output", metavar="FOLDER", default=None,
                        help="the gallery's folder (default: output)")
    parser.add_argument("--force", action="store_true",
                        help="let the gallery replace files in its folder that it did not "
                             "write (it never replaces a folder, FIFO or device)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def default_job(args=None):
    """The main job: the gallery."""
    return gallery.main(args)


def one_line(exc):
    """The message of an error on one line (a file name or a value may hold a newline)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _run(argv):
    args = build_parser().parse_args(argv)
    code = default_job(args) if args.command is None else args.func(args)
    sys.stdout.flush()            # a full disk or a closed pipe shows here, not at exit
    return code


def _fail(message, code):
    try:
        print(f"derive: {message}", file=sys.stderr)
    except OSError:
        pass
    return code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _run(argv)
    except DeriveError as exc:
        return _fail(one_line(exc), EXIT_BAD_INPUT)
    except BrokenPipeError:       # `derive … | head`: the reader has what it wanted
        _quiet_stdout()
        return 0
    except OSError as exc:        # `> /dev/full` and the like
        _quiet_stdout()
        return _fail(os_message(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Terminated:
        return _fail("terminated", EXIT_TERMINATED)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
