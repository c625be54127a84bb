"""Math fragments of rendered Markdown, extracted with markdown-it-py + dollarmath, and
checked with KaTeX and MathJax 3 by tests/js/render_math.js (node)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "js" / "render_math.js"


def fragments(markdown):
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True)
    out = []

    def walk(tokens):
        for tok in tokens:
            if tok.type in ("math_inline", "math_inline_double"):
                out.append({"tex": tok.content, "display": tok.type.endswith("double")})
            elif tok.type in ("math_block", "math_block_label"):
                out.append({"tex": tok.content, "display": True})
            if tok.children:
                walk(tok.children)
    walk(md.parse(markdown))
    return out


def node_ready():
    return shutil.which("node") is not None and (ROOT / "node_modules" / "katex").is_dir() \
        and (ROOT / "node_modules" / "mathjax-full").is_dir()


def check(frags):
    """Failures as a list of dicts (index, engine, error); empty when all render."""
    proc = subprocess.run(["node", str(SCRIPT)], input=json.dumps(frags).encode(),
                          capture_output=True, cwd=ROOT, timeout=600,
                          env=dict(os.environ, NODE_PATH=str(ROOT / "node_modules")))
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-2000:])
    return json.loads(proc.stdout.decode())
