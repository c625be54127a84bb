"""The command line: parse, call the API, map errors to exit codes (SPEC §6).

Each subcommand lives in its own module ``derive/cli/<name>_command.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func`` (args → exit code).
"""
import argparse
import sys

from .. import __version__
from ..errors import DeriveError
from . import catalogue_command, export_command, gallery, notes_command, verify_command

EXIT_BAD_INPUT = 2
COMMANDS = (notes_command, verify_command, export_command, catalogue_command)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting with a traceback."""

    def error(self, message):
        raise DeriveError(message)


EPILOG = """examples:
  derive                                   build the gallery of the source notes in output/
  derive notes --depth 3 --activation sigmoid --loss bce -o notes.tex
  derive verify --depth L --activation sigmoid --loss bce --param W_L --claim "(z_L - y) z_{L-1}^T"

exit status: 0 success, 1 a verified claim does not hold, 2 bad input, 130 interrupted"""


def build_parser():
    parser = _Parser(
        prog="derive", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Derive backpropagation symbolically, certify it, and write it up.\n"
                    "Without a command, derive builds the gallery of the source notes'\n"
                    "networks in output/ (.tex, .md, .svg, and .pdf when pdflatex is installed).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return default_job(args)
        return args.func(args)
    except DeriveError as exc:
        print(f"derive: {one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
