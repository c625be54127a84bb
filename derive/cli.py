"""The command line: parse, call the API, map errors to exit codes (SPEC §6).

Each subcommand lives in its own module ``derive/cmd_<name>.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func`` (args → exit code).
"""
import argparse
import importlib
import sys

from .errors import DeriveError

EXIT_OK, EXIT_DOES_NOT_HOLD, EXIT_BAD_INPUT = 0, 1, 2
COMMANDS = ("notes", "verify", "export", "catalogue")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting with a traceback."""

    def error(self, message):
        raise DeriveError(message)


def build_parser():
    parser = _Parser(prog="derive", description="Derive backpropagation symbolically.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"derive.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"derive.cmd_{name}":
                raise
            continue
        module.register(sub)
    return parser


def default_job(args=None):
    """The main job: the gallery when rendering is available, else the recursion."""
    try:
        gallery = importlib.import_module("derive.gallery")
    except ModuleNotFoundError:
        from . import Network, backprop
        from .textprint import recursion_text

        net = Network.uniform(depth=3, activation="sigmoid", loss="bce")
        print(recursion_text(backprop(net)))
        return EXIT_OK
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
