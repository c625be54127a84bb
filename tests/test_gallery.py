"""The committed gallery is what the default job produces: regenerating reproduces every
text file byte for byte, and the index lists every entry."""
from pathlib import Path

import pytest

from derive.cli.gallery import entries

OUTPUT = Path(__file__).resolve().parent.parent / "output"


@pytest.mark.slow
@pytest.mark.xdist_group("gallery")
def test_regenerating_reproduces_committed_output(built_gallery):
    tmp_path = built_gallery
    made = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".tex", ".md", ".svg"))
    committed = sorted(p.name for p in OUTPUT.iterdir() if p.suffix in (".tex", ".md", ".svg"))
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_text(encoding="utf-8") == \
            (OUTPUT / name).read_text(encoding="utf-8"), name


def test_index_lists_every_entry():
    index = (OUTPUT / "README.md").read_text(encoding="utf-8")
    for e in entries():
        assert f"({e.name}.md)" in index and f"({e.name}.tex)" in index
