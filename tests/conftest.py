"""Test setup: the repository on sys.path, the node packages, the Hypothesis profiles.

The KaTeX/MathJax tests need ``node_modules``: when node is installed and they are
missing, the first step of the session is ``npm ci`` (once, in the controller process),
so the README's one test command is all a fresh machine needs. In CI a failure of it
fails the run.

Profiles (``HYPOTHESIS_PROFILE=…`` or ``pytest --hypothesis-profile=…``):

* ``ci`` (the default, and always when ``CI=true`` unless another is asked for):
  derandomized, so every run tries the same examples and a test that passes once passes
  always; no deadline; no example database; a failure prints its reproduction blob.
* ``fuzz``: random, ``FUZZ_SCALE`` times the examples of ``ci``, with the example
  database, for long exploration runs (README.md, "Tests"). What it finds goes back into
  the test as an ``@example(…)``: a fixed regression example that ``ci`` runs every time.

Tests give their example counts as ``examples(n)``: ``n`` under ``ci``, scaled under
``fuzz``; no test sets ``derandomize`` itself, so the profile governs it everywhere.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI", "").lower() == "true"

CI_EXAMPLES = 100
FUZZ_SCALE = 50

settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, derandomize=True, deadline=None, database=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "fuzz", max_examples=CI_EXAMPLES * FUZZ_SCALE, derandomize=False, deadline=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow])
# the hypothesis pytest plugin loads --hypothesis-profile after this, when given
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(n):
    """``n`` examples under the ``ci`` profile, proportionally more under ``fuzz``."""
    return n * settings.default.max_examples // CI_EXAMPLES


def pytest_configure(config):
    """``npm ci`` when node is here but the packages of package-lock.json are not."""
    if hasattr(config, "workerinput") or (ROOT / "node_modules" / "katex").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or not (ROOT / "package-lock.json").is_file():
        return
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and IN_CI:
        raise RuntimeError("npm ci failed: " + proc.stderr[-1000:])


def pytest_collection_modifyitems(config, items):
    """The test files holding a ``slow`` test run first, each file's tests kept together
    and in order (module fixtures are built once). Under ``-n auto`` the scheduler hands
    tests out in this order, so the last ones handed out are short and no worker idles
    while the other finishes a long one; the xdist groups go first anyway (largest first)."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)


@pytest.fixture(scope="session")
def gallery_memo():
    """The gallery's content computed once per test worker: its derivations, rendered
    documents, diagrams, catalogue and errata page, each kept on its first (real) call.
    The tests that build the gallery again and again are about its files (which it
    writes, replaces, adopts or leaves alone), not about computing the same documents
    anew; the first build (``built_gallery``, compared with the committed output by
    tests/test_gallery.py) fills the memo. Tests using it carry
    ``pytest.mark.xdist_group("gallery")``, so that one worker computes it once."""
    from derive.cli import gallery

    kept = {}

    def memo(name, real, key):
        def wrapper(*args, **kwargs):
            k = (name, key(*args, **kwargs))
            if k not in kept:
                kept[k] = (real(*args, **kwargs), args)    # args kept: ids stay unique
            return kept[k][0]
        return wrapper

    def ids(*args, **kwargs):
        """The arguments as a key: by value where hashable, else by identity (the
        arguments are kept with the result, so an identity is never reused)."""
        def one(a):
            try:
                hash(a)
            except TypeError:
                return id(a)
            return a
        return tuple(map(one, args)), tuple(sorted(kwargs.items()))

    patch = pytest.MonkeyPatch()
    for name in ("backprop", "render", "render_svg", "errata_markdown",
                 "catalogue_derivations", "render_catalogue"):
        patch.setattr(gallery, name, memo(name, getattr(gallery, name), ids))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def built_gallery(tmp_path_factory, gallery_memo):
    """The gallery built once per test worker (no PDFs), for the tests that read it; a
    test that changes files copies it first. Tests using it carry
    ``pytest.mark.xdist_group("gallery")`` so that one worker builds it once."""
    from derive.cli.gallery import build

    folder = tmp_path_factory.mktemp("gallery")
    build(str(folder), pdf=False)
    return folder
