"""The README's PyTorch training loop runs as written (SPEC §5b): its doctest block,
between the ``torch-training-loop`` markers, is executed here."""
import doctest
import re
from pathlib import Path

from framework_cases import need

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_training_loop_trains():
    need("torch")
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- torch-training-loop -->\n```python\n(.*?)```", text, re.S).group(1)
    test = doctest.DocTestParser().get_doctest(block, {}, "README training loop", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert test.examples and runner.summarize(verbose=False).failed == 0
