"""``python -m derive``: the command line (see `derive.cli.main`)."""
import sys

from .cli.main import main

sys.exit(main())
