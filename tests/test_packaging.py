"""The wheel ships the templates: install non-editable into a fresh venv and use the
console script from an unrelated directory."""
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    run = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q",
                          "--no-deps", str(ROOT)], capture_output=True, text=True)
    if run.returncode != 0:
        if IN_CI:
            pytest.fail(f"pip install . failed: {run.stderr[-2000:]}")
        pytest.skip("pip install . needs the package index for its build backend")
    return bin_dir


def test_installed_script_renders_notes_from_elsewhere(installed, tmp_path):
    out = tmp_path / "notes.md"
    run = subprocess.run([str(installed / "derive"), "notes", "--depth", "2", "--activation",
                          "sigmoid", "--loss", "bce", "--format", "markdown", "-o", str(out)],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert "$$" in text and "\\odot" in text


def test_installed_package_is_not_the_source_tree(installed, tmp_path):
    run = subprocess.run([str(installed / "python"), "-c",
                          "import derive, derive.templates; print(derive.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert str(ROOT) not in run.stdout
