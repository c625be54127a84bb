"""The package as users install it (ISSUE 7.4): `pip install .` and a built wheel, each
into a fresh virtual environment, ship the templates; the console script then renders
documents from an unrelated directory.

Both builds start from a copy of the files a release holds (pyproject.toml, README.md,
derive/, templates/), so nothing in the working tree (build/, egg-info, the tests) can
stand in for a missing package file. The venvs see the system site-packages for the
dependencies (sympy, jinja2, numpy) and install our package with --no-deps, so no
network is needed beyond what pip's configured index offers for the build backend.
Outside CI the tests skip only when a virtual environment cannot be created at all.

For speed the venvs are made without their own pip (ensurepip costs seconds each) and
this interpreter's pip installs into them with ``pip --python VENV/bin/python``: the
package, its console script and its data land in the venv exactly as with the venv's pip.
"""
import importlib.metadata
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import IN_CI

#: the wheel and both venvs are module fixtures: build them once, on one worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("packaging")]

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ("pyproject.toml", "README.md", "derive", "templates")


def _bin(env_dir):
    return env_dir / ("Scripts" if sys.platform == "win32" else "bin")


def _pip_version():
    try:
        return tuple(int(part) for part in importlib.metadata.version("pip").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return (0, 0)


#: pip ≥ 22.3 installs into another interpreter (``--python``); an older one needs the
#: venv's own pip (slower: ensurepip)
PIP_INTO_OTHERS = _pip_version() >= (22, 3)


def _pip(bin_dir):
    """The command that runs pip for the venv of ``bin_dir``."""
    if PIP_INTO_OTHERS:
        return [sys.executable, "-m", "pip", "--python", bin_dir / "python"]
    return [bin_dir / "python", "-m", "pip"]


def _venv(env_dir):
    try:
        venv.create(env_dir, with_pip=not PIP_INTO_OTHERS, system_site_packages=True)
    except Exception as exc:            # no ensurepip, no permission, …
        if IN_CI:
            pytest.fail(f"cannot create a virtual environment in CI: {exc}")
        pytest.skip(f"cannot create a virtual environment here: {exc}")
    return _bin(env_dir)


def _run(args, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=600, **kwargs)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A copy of what a release contains, without caches."""
    src = tmp_path_factory.mktemp("src")
    for name in RELEASE:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    return src


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory):
    """``pip wheel --no-deps`` of the release copy (the installed setuptools first, then
    build isolation, so it works offline wherever one of them is available; the isolated
    build, as users run it, is `from_source`'s ``pip install .``)."""
    out = tmp_path_factory.mktemp("wheel")
    errors = []
    for extra in (["--no-build-isolation"], []):
        run = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *extra,
                    "-w", out, source])
        wheels = list(out.glob("backprop_derive-*.whl"))
        if run.returncode == 0 and wheels:
            return wheels[0]
        errors.append(run.stderr[-1500:])
    pytest.fail("pip wheel failed both with and without build isolation:\n" +
                "\n".join(errors))


@pytest.fixture(scope="module")
def from_wheel(wheel, tmp_path_factory):
    bin_dir = _venv(tmp_path_factory.mktemp("venv-wheel"))
    # --force-reinstall: the venv sees the system site-packages, where CI has already
    # installed this same version; without it pip would find it "already satisfied" and
    # put nothing (no console script) into the venv
    run = _run(_pip(bin_dir) + ["install", "-q", "--no-deps", "--no-index", "--force-reinstall",
                                wheel])
    assert run.returncode == 0, run.stderr[-2000:]
    return bin_dir


@pytest.fixture(scope="module")
def from_source(source, tmp_path_factory):
    bin_dir = _venv(tmp_path_factory.mktemp("venv-src"))
    run = _run(_pip(bin_dir) + ["install", "-q", "--no-deps", "--force-reinstall", source])
    if run.returncode != 0:
        pytest.fail(f"pip install . failed: {run.stderr[-2000:]}")
    return bin_dir


def test_the_wheel_holds_every_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = [p.relative_to(ROOT / "templates").as_posix()
                 for p in (ROOT / "templates").rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts]
    missing = [t for t in templates if f"derive/templates/{t}" not in names]
    assert templates and not missing, missing
    modules = [p.relative_to(ROOT).as_posix() for p in (ROOT / "derive").rglob("*.py")]
    assert modules and not [m for m in modules if m not in names]


@pytest.mark.parametrize("env", ["from_wheel", "from_source"])
def test_installed_script_renders_notes_from_elsewhere(env, request, tmp_path):
    bin_dir = request.getfixturevalue(env)
    out = tmp_path / "deep" / "notes.md"
    run = _run([bin_dir / "derive", "notes", "--depth", "2", "--activation", "sigmoid",
                "--loss", "bce", "--format", "markdown", "-o", out], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "$$" in text and "\\odot" in text
    assert (tmp_path / "deep" / "notes.svg").read_text().startswith("<svg")


def test_wheel_install_renders_latex_exports_and_verifies(from_wheel, tmp_path):
    derive = from_wheel / "derive"
    run = _run([derive, "notes", "--depth", "L", "--activation", "tanh", "--loss", "sse",
                "--output-activation", "identity", "--notation", "gh"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("\\documentclass") and "\\end{document}" in run.stdout
    run = _run([derive, "export", "--widths", "3,4,1", "--activation", "sigmoid", "--loss",
                "bce", "-o", "g.py"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "def gradients" in (tmp_path / "g.py").read_text()
    run = _run([derive, "verify", "--depth", "L", "--activation", "sigmoid", "--loss", "bce",
                "--param", "W_L", "--claim", "(z_L - y) z_{L-1}^T"], cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("HOLDS"), run.stdout + run.stderr
    run = _run([derive, "notes", "--loss", "hinge"], cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith("derive: unknown loss 'hinge'")


@pytest.mark.parametrize("env", ["from_wheel", "from_source"])
def test_installed_package_is_not_the_source_tree(env, request, tmp_path):
    bin_dir = request.getfixturevalue(env)
    run = _run([bin_dir / "python", "-c",
                "import derive, derive.templates; print(derive.__file__)"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert str(ROOT) not in run.stdout and "site-packages" in run.stdout


def test_version_is_the_package_version():
    import subprocess
    import sys

    import derive
    out = subprocess.run([sys.executable, "-m", "derive", "--version"], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == f"derive {derive.__version__}"
    assert derive.__version__.count(".") == 2
