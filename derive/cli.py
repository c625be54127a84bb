"""The command line: parse, call the API, map errors to exit codes (SPEC §6)."""
import argparse
import sys

from .errors import DeriveError

EXIT_OK, EXIT_DOES_NOT_HOLD, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise DeriveError(message)


def build_parser():
    parser = _Parser(prog="derive", description="Derive backpropagation symbolically.")
    parser.add_subparsers(dest="command")
    return parser


def default_job():
    """The main job: until the gallery lands, print the default network's recursion."""
    from . import Network, backprop
    from .textprint import recursion_text

    print(recursion_text(backprop(Network.uniform(depth=3, activation="sigmoid", loss="bce"))))
    return EXIT_OK


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return default_job()
        return EXIT_OK
    except DeriveError as exc:
        print(f"derive: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
