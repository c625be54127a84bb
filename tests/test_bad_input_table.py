"""The table of bad inputs (ISSUE 7.1): what the real command line does with each.

Every row runs through ``derive.cli.main.main(argv)`` in this interpreter, in an empty
folder, with stdout and stderr captured; a handful (``SUBPROCESS_ROWS``) also run in a
fresh interpreter, one of each kind (``ENTRY_ROWS``) as ``python -m derive`` to prove the
entry point, the rest together in one child (`cli_batch`). Each expects:
exit status 2; exactly one non-empty line on stderr, starting ``derive:`` and
containing the row's words (what is wrong, and usually what is allowed); no
``Traceback`` on either stream; and nothing executed or written (hostile rows try to
create a file ``pwned``; the folder must hold only what the row put there).

Covered: unknown activation / loss / notation / format / bias / layout / command /
option; depth 0, negative, fractional, huge, missing; widths of the wrong count,
non-positive, not integers, empty; softmax on a hidden layer; bce under an output not
in (0, 1) and cce under one that is not a distribution; parameters that do not exist
(W_9 of a 3-layer net, b_1 without biases, a name that is no parameter); malformed
and hostile claims and custom activations (unbalanced brackets, unknown names, Python
such as ``__import__('os').system(…)`` and ``().__class__``, 5000 nested brackets,
empty, very long, bytes that are not UTF-8, exact powers too large to compute); output
files that exist, are folders, or sit under a file; for ``derive catalogue``:
expressions that are not scalars or do not fit, unknown variables, functions, names and
shapes, hostile and nested expressions and claims. The rows run in parallel.

Issue 23's rows: -o's extension against --format, options before a command, the
gallery to ``-o -``, "did you mean" for a misspelled name, integers past Python's
4300-digit limit, and a user's templates (``--templates T``) that try to reach Python
or fail in each way a template can (syntax, undefined, not UTF-8, self-include, range,
division by zero, power, repetition, a missing include): one line naming the file and
line.

Issue 14's eleven cases are rows too (``case1`` … ``case11``): the refusals (a device,
a FIFO, a folder in the gallery's way, towers of exp, nested catalogue expressions, old
option spellings) in ``ROWS``; what is about the process itself (a full disk, a closed
pipe, ``-o -``, the gallery and a user's file, hash seeds, certify's widths, signals) in
``PROCESS_CASES`` below, each run as a real ``python -m derive`` where it matters.
A row's setup may hold special files, ``("fifo", name)``, ``("dir", name)``,
``("chr", name)``, ``("file", name, text)``; the folder must be exactly as it was after.
"""
import contextlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cli_batch import run_many

from derive import Network, SpecError, backprop
from derive.cli import gallery
from derive.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
PWN = "__import__('os').system('touch pwned')"
NESTED = "(" * 5000 + "x" + ")" * 5000
LONG = "x+" * 3000 + "x"
NOTES = ["notes", "--depth", "3", "--loss", "bce"]
VERIFY = ["verify", "--depth", "3", "--activation", "sigmoid", "--loss", "bce"]
CLAIM = VERIFY + ["--param", "W_3", "--claim"]
EXPORT = ["export", "--loss", "mse", "-o", "g.py"]
CAT = ["catalogue", "--expr"]
NESTED_EXP = "exp(" * 30 + "y^T A x" + ")" * 30
TOWERS = ["custom:exp(exp(exp(exp(x))))", "custom:x^x^x^x^x^x"]
TOWER_VERIFY = ["verify", "--depth", "2", "--loss", "mse", "--param", "W_2", "--claim",
                "(z_2 - y) z_1^T", "--activation"]
GALLERY_TEX = "output/000_sigmoid_bce_depth3.tex"
DOCUMENT = "T/notes/latex/document.j2"        # a user's template: replaces the shipped one

#: (id, argv, words the one stderr line must contain, files to create first)
ROWS = [
    # --- names that are not in the tables
    ("activation", NOTES + ["--activation", "wiggle"], ["'wiggle'", "allowed", "sigmoid"]),
    ("activations-list", ["notes", "--depth", "2", "--activations", "tanh,wiggle", "--loss",
                          "mse"], ["'wiggle'", "allowed"]),
    ("loss", ["notes", "--loss", "hinge"], ["'hinge'", "allowed", "mse"]),
    ("loss-verify", ["verify", "--activation", "tanh", "--loss", "hinge", "--param", "W_L",
                     "--claim", "z_L"], ["'hinge'", "allowed"]),
    ("notation", NOTES + ["--notation", "xy"], ["'xy'", "allowed", "hz"]),
    ("notation-verify", CLAIM + ["z_3", "--notation", "xy"], ["'xy'", "allowed", "hz"]),
    ("format", NOTES + ["--format", "docx"], ["'docx'", "allowed", "latex"]),
    ("bias", NOTES + ["--bias", "sideways"], ["'sideways'", "allowed", "augmented"]),
    ("bias-export", EXPORT + ["--widths", "2,1", "--activation", "tanh", "--bias", "up"],
     ["'up'", "allowed"]),
    ("layout", NOTES + ["--layout", "diagonal", "--format", "markdown"],
     ["'diagonal'", "allowed", "numerator"]),
    ("command", ["frobnicate"], ["frobnicate", "choose from", "notes"]),
    ("option", NOTES + ["--colour", "red"], ["unrecognized", "--colour"]),
    ("missing-required", ["verify", "--activation", "tanh", "--loss", "mse"],
     ["required", "--param"]),
    # --- depth
    ("depth-0", NOTES + ["--depth", "0"], ["depth", "0", "positive"]),
    ("depth-negative", ["notes", "--depth", "-2", "--loss", "mse"], ["depth", "-2"]),
    ("depth-fraction", ["notes", "--depth", "2.5"], ["depth", "'2.5'", "integer or L"]),
    ("depth-huge", ["notes", "--depth", "100000"], ["depth", "100000", "256"]),
    ("depth-0-verify", ["verify", "--depth", "0", "--activation", "tanh", "--loss", "mse",
                        "--param", "W_1", "--claim", "x"], ["depth", "0"]),
    ("depth-word-verify", ["verify", "--depth", "three", "--activation", "tanh", "--loss",
                           "mse", "--param", "W_1", "--claim", "x"], ["depth", "'three'"]),
    ("depth-export", EXPORT + ["--depth", "0", "--activation", "tanh"], ["depth", "0"]),
    ("depth-widths-export", EXPORT + ["--depth", "3", "--widths", "2,2", "--activation",
                                      "tanh"], ["--depth 3", "--widths"]),
    ("activations-count", ["notes", "--depth", "3", "--activations", "tanh,tanh", "--loss",
                           "mse"], ["--activations", "2", "3"]),
    ("activations-depth-verify", ["verify", "--depth", "3", "--activations", "tanh,identity",
                                  "--loss", "mse", "--param", "W_1", "--claim", "x"],
     ["--activations", "expected 3", "--depth 3", "got 2"]),
    ("activations-widths-verify", ["verify", "--activations", "tanh,identity", "--widths",
                                   "3,4,2,2", "--loss", "mse", "--param", "W_1", "--claim",
                                   "x"], ["--widths", "expected 3", "--activations", "got 4"]),
    ("activations-widths-notes", ["notes", "--activations", "tanh,identity", "--widths",
                                  "3,4,2,2", "--loss", "mse"], ["--widths", "expected 3"]),
    ("activations-widths-export", EXPORT + ["--activations", "tanh,identity", "--widths",
                                            "3,4,2,2"], ["--widths", "expected 3"]),
    ("activation-needs-depth", EXPORT + ["--activation", "tanh"],
     ["--activation", "--depth", "--widths"]),
    # --- widths
    ("widths-count", ["notes", "--depth", "2", "--loss", "mse", "--widths", "3,4"],
     ["widths", "expected 3", "got 2"]),
    ("widths-zero", ["notes", "--depth", "2", "--loss", "mse", "--widths", "3,0,2"],
     ["widths", "positive", "0"]),
    ("widths-negative", ["notes", "--depth", "2", "--loss", "mse", "--widths", "3,-4,2"],
     ["widths", "positive", "-4"]),
    ("widths-letters", ["notes", "--depth", "2", "--loss", "mse", "--widths", "3,a,2"],
     ["widths", "'3,a,2'", "integers"]),
    ("widths-fraction-export", EXPORT + ["--widths", "3,2.5,1", "--activation", "tanh"],
     ["--widths", "'3,2.5,1'", "integers"]),
    ("widths-empty-verify", VERIFY[:1] + ["--depth", "2", "--activation", "tanh", "--loss",
                                          "mse", "--widths", ",,", "--param", "W_1",
                                          "--claim", "x"], ["widths", "',,'"]),
    ("widths-symbolic", ["notes", "--depth", "L", "--loss", "mse", "--widths", "2,2"],
     ["widths", "symbolic"]),
    # --- combinations the rules forbid
    ("softmax-hidden", ["notes", "--depth", "2", "--activations", "softmax,sigmoid",
                        "--loss", "bce"], ["softmax", "output layer", "layer 1"]),
    ("softmax-hidden-L", ["notes", "--depth", "L", "--activation", "softmax", "--loss", "cce"],
     ["softmax", "output layer", "hidden"]),
    ("bce-tanh", NOTES + ["--activation", "tanh"], ["bce", "(0, 1)", "tanh", "allowed"]),
    ("bce-identity-export", EXPORT[:1] + ["--widths", "2,1", "--activation", "identity",
                                          "--loss", "bce", "-o", "g.py"],
     ["bce", "identity", "allowed"]),
    ("cce-sigmoid", ["notes", "--loss", "cce"], ["cce", "sigmoid", "allowed", "softmax"]),
    ("softmax-one-unit", EXPORT + ["--widths", "3,1", "--activation", "softmax",
                                   "--loss", "cce"], ["softmax", "2 units"]),
    ("pdf-needs-file", NOTES + ["--format", "pdf"], ["pdf", "-o"]),
    # --- parameters
    ("param-W9", CLAIM[:-3] + ["--param", "W_9", "--claim", "z_3"], ["layer 9 of W", "does not exist",
                                                                      "layers 1 … 3"]),
    ("param-b-without-bias", CLAIM[:-3] + ["--param", "b_1", "--claim", "z_1"],
     ["b_l", "bias='explicit'"]),
    ("param-not-a-parameter", CLAIM[:-3] + ["--param", "q_1", "--claim", "z_1"],
     ["'q'", "expected one of"]),
    ("param-h", CLAIM[:-3] + ["--param", "h_1", "--claim", "z_1"],
     ["'h_1'", "expected W_l, b_l"]),
    # --- malformed and hostile claims
    ("claim-unbalanced", CLAIM + ["(z_3 - y"], ["expected ')'", "column 9"]),
    ("claim-extra-close", CLAIM + ["z_3 - y)"], ["end of the claim", "column 8"]),
    ("claim-unknown-name", CLAIM + ["q_2 z_2^T"], ["unknown name 'q'", "expected one of"]),
    ("claim-layer-missing", CLAIM + ["(z_9 - y) z_2^T"], ["layer 9 of z", "does not exist", "0 … 3"]),
    ("claim-python", CLAIM + [PWN], ["unexpected character '.'", "column 17"]),
    ("claim-dunder-class", CLAIM + ["().__class__"], ["unexpected character", "column 3"]),
    ("claim-lambda", CLAIM + ["lambda: 0"], ["unexpected character ':'", "column 7"]),
    ("claim-latex-input", CLAIM + ["\\input{/etc/passwd}"], ["unknown command \\input"]),
    ("claim-nested", CLAIM + ["(" * 5000 + "z_3" + ")" * 5000], ["too long"]),
    ("claim-nested-deep", CLAIM + ["(" * 150 + "z_3" + ")" * 150], ["nested too deeply"]),
    ("claim-empty", CLAIM + [""], ["expected a name", "end of the claim", "column 1"]),
    ("claim-long", CLAIM + ["z_3 + " * 1400 + "z_3"], ["claim too long", "at most 8000"]),
    ("claim-chain", CLAIM + ["z_3 + " * 500 + "z_3"], ["nested too deeply", "250 levels"]),
    ("claim-not-utf8", CLAIM + [b"z_3 \xff\xfe"], ["unexpected character", "column 5"]),
    ("claim-newline", CLAIM + ["z_3\n$ y"], ["unexpected character '$'", "column 5"]),
    ("claim-general-layer", CLAIM + ["z_l"], ["general layer l", "symbolic depth"]),
    # --- malformed and hostile custom activations
    ("custom-python", NOTES[:2] + ["1", "--loss", "mse", "--activation", "custom:" + PWN],
     ["custom activation", "unexpected", "allowed"]),
    ("custom-dunder-class", ["notes", "--depth", "1", "--loss", "mse", "--activation",
                             "custom:().__class__"], ["custom activation", "allowed"]),
    ("custom-unbalanced", ["notes", "--loss", "mse", "--activation", "custom:(x+1"],
     ["custom activation", "expected ')'", "allowed"]),
    ("custom-unknown-name", ["notes", "--loss", "mse", "--activation", "custom:foo(x)"],
     ["custom activation", "unknown name 'foo'", "allowed"]),
    ("custom-empty", ["notes", "--loss", "mse", "--activation", "custom:"],
     ["custom activation is empty"]),
    ("custom-nested", ["notes", "--loss", "mse", "--activation", "custom:" + NESTED],
     ["custom activation", "longer than 400"]),
    ("custom-nested-deep", ["notes", "--loss", "mse", "--activation",
                            "custom:" + "(" * 100 + "x" + ")" * 100],
     ["custom activation", "nesting deeper than 60"]),
    ("custom-long", ["notes", "--loss", "mse", "--activation", "custom:" + LONG],
     ["custom activation", "longer than 400"]),
    ("custom-constant", ["notes", "--loss", "mse", "--activation", "custom:3"],
     ["custom activation", "does not depend on x"]),
    ("custom-division-by-zero", ["notes", "--loss", "mse", "--activation", "custom:x/0"],
     ["custom activation", "undefined"]),
    ("custom-huge-power", ["notes", "--loss", "mse", "--activation", "custom:x*9^9^9"],
     ["custom activation", "exponent larger than 1000"]),
    ("custom-undefined-power", ["notes", "--loss", "mse", "--activation",
                                "custom:(x)^(sin(pi))^(-((e)+(e)))^(e)"],
     ["custom activation", "is undefined"]),
    ("custom-export", EXPORT + ["--widths", "2,1", "--activation", "custom:x+os"],
     ["custom activation", "unknown name 'os'"]),
    ("custom-in-verify", VERIFY[:3] + ["--activations", "custom:exec(x),sigmoid,sigmoid",
                                       "--loss", "bce", "--param", "W_3", "--claim", "z_3"],
     ["custom activation", "unknown name 'exec'"]),
    # --- the matrix-derivative catalogue: expressions, variables, shapes, claims
    ("cat-not-scalar", CAT + ["A x", "--wrt", "A"], ["column vector", "not a scalar"]),
    ("cat-shape", CAT + ["x A", "--wrt", "A"], ["cannot multiply", "inner sizes differ"]),
    ("cat-wrt-missing", CAT + ["y^T A x", "--wrt", "B"], ["'B' does not occur", "y, A, x"]),
    ("cat-wrt-python", CAT + ["y^T A x", "--wrt", "__class__"], ["wrt", "variable name"]),
    ("cat-expr-alone", CAT + ["y^T A x"], ["--expr and --wrt together"]),
    ("cat-unknown-function", CAT + ["y^T relu(A) x", "--wrt", "A"],
     ["unknown function 'relu'", "allowed", "sigma"]),
    ("cat-python", CAT + [PWN, "--wrt", "A"], ["unexpected character '.'", "column 17"]),
    ("cat-dunder-class", CAT + ["().__class__", "--wrt", "A"], ["unexpected character"]),
    ("cat-nested", CAT + [NESTED, "--wrt", "x"], ["too long"]),
    ("cat-nested-deep", CAT + ["(" * 150 + "x^T x" + ")" * 150, "--wrt", "x"],
     ["nested too deeply"]),
    ("cat-empty", CAT + ["", "--wrt", "x"], ["expected a name", "column 1"]),
    ("cat-norm-unclosed", CAT + ["||A x", "--wrt", "A"], ["closing the norm"]),
    ("cat-shape-option", CAT + ["y^T A x", "--wrt", "A", "--shape", "A=two"],
     ["--shape", "NAME=ROWS,COLS"]),
    ("cat-shape-unknown", CAT + ["y^T A x", "--wrt", "A", "--shape", "Q=2,3"],
     ["'Q' not in the expression"]),
    ("cat-claim-unknown-name", CAT + ["y^T A x", "--wrt", "A", "--claim", "y B^T"],
     ["the claim names B", "y, A, x"]),
    ("cat-claim-python", CAT + ["y^T A x", "--wrt", "A", "--claim", PWN],
     ["unexpected character"]),
    ("cat-format", ["catalogue", "--format", "docx"], ["'docx'", "allowed", "markdown"]),
    ("cat-extension", ["catalogue", "-o", "c.docx"], ["c.docx", "--format"]),
    ("cat-file-exists", ["catalogue", "-o", "c.md"], ["c.md exists", "--force"], ["c.md"]),
    # --- files
    ("file-exists", NOTES + ["-o", "notes.tex"], ["notes.tex exists", "--force"],
     ["notes.tex"]),
    ("file-exists-export", EXPORT + ["--widths", "2,1", "--activation", "tanh"],
     ["g.py exists", "--force"], ["g.py"]),
    ("file-is-folder", NOTES + ["-o", ".", "--force"], ["is a folder"]),
    ("file-under-a-file", NOTES + ["-o", "notes.tex/n.tex"], ["cannot write", "notes.tex is a file, not a folder"],
     ["notes.tex"]),
    ("file-newline-in-name", NOTES + ["-o", "a\nb.tex"], ["a b.tex exists"], ["a\nb.tex"]),
    # --- issue 14: only regular files are replaced, bounds, option spellings
    ("case3-device", ["notes", "--depth", "1", "-o", "full", "--force"],
     ["full is a character device", "only regular files"], [("chr", "full")]),
    ("case4-fifo", ["notes", "--depth", "1", "-o", "p.tex", "--force"],
     ["p.tex is a FIFO", "only regular files"], [("fifo", "p.tex")]),
    ("case7-gallery-folder", [], [GALLERY_TEX, "is a folder", "only regular files"],
     [("dir", GALLERY_TEX)]),
    ("case8-gallery-fifo", [], [GALLERY_TEX, "is a FIFO"], [("fifo", GALLERY_TEX)]),
    ("case9-tower-exp", TOWER_VERIFY + [TOWERS[0]], ["cannot evaluate numerically",
                                                     "the limit is"]),
    ("case9-tower-power", TOWER_VERIFY + [TOWERS[1]], ["cannot evaluate numerically"]),
    ("case10-catalogue-nesting", CAT + [NESTED_EXP, "--wrt", "A"],
     ["nests functions 30 deep", "the limit is 10"]),
    ("case10-verify-widths", TOWER_VERIFY[:-1] + ["--activation", "tanh", "--widths",
                                                  "1000,1000,1000"], ["at most 16 per layer"]),
    ("old-export-out", ["export", "--widths", "2,1", "--activation", "tanh", "--loss", "mse",
                        "--out", "g.py"], ["--out", "no longer accepted", "-o/--output"]),
    ("old-verify-output", ["verify", "--activation", "tanh", "--output", "identity",
                           "--loss", "mse", "--param", "W_L", "--claim", "z_L"],
     ["--output", "no longer accepted", "--output-activation"]),
    # --- issue 23.4: the command line's conventions
    ("format-extension-conflict", NOTES + ["--format", "latex", "-o", "x.pdf"],
     ["--format latex", "x.pdf", ".pdf", "*.tex"]),
    ("format-extension-markdown", NOTES + ["--format", "markdown", "-o", "x.tex"],
     ["--format markdown", "x.tex", "latex"]),
    ("format-extension-python-notes", NOTES + ["-o", "x.py"],
     ["x.py", "python", "notes does not write", "latex"]),
    ("format-extension-export", EXPORT[:-2] + ["-o", "g.tex", "--widths", "2,1",
                                               "--activation", "tanh"],
     ["g.tex", "latex", "export does not write", "python"]),
    ("cat-format-conflict", ["catalogue", "--format", "latex", "-o", "c.md"],
     ["--format latex", "c.md", "markdown"]),
    ("top-level-output", ["-o", "x", "notes", "--depth", "1"],
     ["-o/--output", "before the command 'notes'", "gallery"]),
    ("top-level-force", ["--force", "notes", "--depth", "1", "-o", "n.tex"],
     ["--force", "before the command 'notes'", "gallery"], ["n.tex"]),
    ("top-level-both-export", ["-o", "x", "--force", "export", "--widths", "2,1",
                               "--activation", "tanh", "--loss", "mse", "-o", "-"],
     ["-o/--output and --force", "'export'", "these are the gallery's"]),
    ("gallery-dash", ["-o", "-"], ["-o '-'", "folder of files", "./-"]),
    ("did-you-mean-activation", NOTES + ["--activation", "sigmoud"],
     ["'sigmoud'", "did you mean 'sigmoid'?", "allowed"]),
    ("did-you-mean-activations", ["notes", "--depth", "2", "--activations", "tahn,identity",
                                  "--loss", "mse"], ["'tahn'", "did you mean 'tanh'?"]),
    ("did-you-mean-loss", ["notes", "--loss", "mean_mes"],
     ["unknown loss 'mean_mes'", "did you mean 'mean_mse'?", "allowed"]),
    ("did-you-mean-format", NOTES + ["--format", "markdwon"],
     ["'markdwon'", "did you mean 'markdown'?", "allowed"]),
    ("did-you-mean-bias", EXPORT + ["--widths", "2,1", "--activation", "tanh", "--bias",
                                    "explict"], ["'explict'", "did you mean 'explicit'?"]),
    ("did-you-mean-norm", NOTES + ["--norm", "lyer"], ["'lyer'", "did you mean 'layer'?"]),
    ("did-you-mean-command", ["nots"], ["'nots'", "did you mean 'notes'?", "choose from"]),
    # --- issue 23, hostile input: integers past Python's 4300-digit int-string limit
    ("digits-depth-notes", ["notes", "--depth", "7" * 5000],
     ["depth", "between 1 and 256", "7777…7777 (5000 digits)"]),
    ("digits-depth-negative", ["notes", "--depth", "-" + "7" * 5000], ["-7777…7777"]),
    ("digits-depth-verify", ["verify", "--depth", "7" * 5000, "--activation", "tanh",
                             "--loss", "mse", "--param", "W_1", "--claim", "x"],
     ["--depth", "between 1 and 256", "(5000 digits)"]),
    ("digits-depth-export", EXPORT + ["--depth", "7" * 5000, "--activation", "tanh"],
     ["--depth", "7777…7777 (5000 digits) is too large"]),
    ("digits-widths", ["notes", "--depth", "2", "--widths", "2," + "7" * 5000 + ",1"],
     ["widths", "(5000 digits)", "too large"]),
    ("digits-widths-export", EXPORT + ["--widths", "7" * 5000 + ",1", "--activation",
                                       "tanh"], ["--widths", "(5000 digits)"]),
    ("digits-param", CLAIM[:-3] + ["--param", "W_" + "7" * 5000, "--claim", "z_3"],
     ["--param", "7777…7777 (5000 digits)", "does not exist"]),
    ("digits-param-braced", CLAIM[:-3] + ["--param", "b_{" + "7" * 5000 + "}", "--claim",
                                          "z_3"], ["--param", "(5000 digits)"]),
    ("digits-shape", CAT + ["y^T A x", "--wrt", "A", "--shape", "A=" + "7" * 5000 + ",2"],
     ["--shape A", "(5000 digits)", "too large"]),
    # --- issue 23.5: a user's templates render sandboxed; each error is one line
    *[(f"template-{name}", NOTES + ["--templates", "T"], [f"template {DOCUMENT}", *words],
       [("file", DOCUMENT, body)]) for name, body, words in [
        ("globals", "<< lipsum.__globals__['os'].popen('touch pwned').read() >>",
         ["line 1", "'__globals__'", "unsafe"]),
        ("cycler", "x\n<< cycler.__init__.__globals__.os.popen('touch pwned').read() >>",
         ["line 2", "'__init__'", "unsafe"]),
        ("mro", "<< ''.__class__.__mro__[1].__subclasses__() >>", ["'__class__'", "unsafe"]),
        ("syntax", "fine\n<% if %>\n", ["line 2", "Expected an expression"]),
        ("undefined", "ok\nok\n<< y >>\n", ["line 3", "'y' is undefined"]),
        ("not-utf8", b"ok\n\xff\xfe\n", ["line 2", "not UTF-8"]),
        ("includes-itself", "<% include 'notes/latex/document.j2' %>", ["includes itself"]),
        ("range", "<< range(10**12)|list >>", ["line 1", "MAX_RANGE"]),
        ("division-by-zero", "\n<< 1/0 >>", ["line 2", "division by zero"]),
        ("power", "<< 2**100000 >>", ["line 1", "exponent above 1000"]),
        ("repetition", "<< 'x' * 10**7 >>", ["line 1", "repetition longer than"]),
        ("missing-include", "<% include 'nothere.j2' %>", ["line 1", "'nothere.j2'"]),
    ]],
    ("template-included-syntax", NOTES + ["--templates", "T"],
     ["template T/notes/steps/delta.j2 line 3", "endif"],
     [("file", "T/notes/steps/delta.j2", "a\nb\n<% if x %>")]),
]


#: rows that also run in a fresh interpreter: the exit status and "no traceback" of a real
#: interpreter (argparse, a parser error, bytes that are not UTF-8, hostile input, a custom
#: activation, a file that exists, the catalogue, the gallery, a user's templates)
SUBPROCESS_ROWS = ["command", "option", "depth-huge", "claim-python", "claim-not-utf8",
                   "custom-python", "cat-python", "file-exists-export", "case4-fifo",
                   "case8-gallery-fifo", "case9-tower-exp", "template-globals",
                   "digits-param", "gallery-dash", "top-level-output"]
#: of those, the ones run as ``python -m derive`` itself, one of each kind (argparse's
#: exit, argv bytes decoded by the interpreter, hostile input, a special file, the
#: gallery, a tower under a random hash seed); the others run together in one child
#: (`cli_batch.run_many`), which saves a cold import of derive (about a second) per row
ENTRY_ROWS = ["command", "claim-not-utf8", "claim-python", "case4-fifo", "gallery-dash",
              "case9-tower-exp"]


def _make(folder, item):
    kind, name, *text = ("file", item, "keep me") if isinstance(item, str) else item
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "file" and text and isinstance(text[0], bytes):
        path.write_bytes(text[0])
    elif kind == "file":
        path.write_text(text[0] if text else "keep me")
    elif kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:                                   # a character device: /dev/full's numbers
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        except PermissionError:
            pytest.skip("mknod needs root")


def snapshot(folder):
    """{relative path: (file type, content of a regular file)}; a FIFO is never opened."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        mode = os.lstat(p).st_mode
        out[p.relative_to(folder).as_posix()] = (
            stat.S_IFMT(mode), p.read_bytes() if stat.S_ISREG(mode) else None)
    return out


def _folder(row, base):
    name, argv, words, *rest = row
    folder = base / name
    folder.mkdir()
    for item in (rest[0] if rest else []):
        _make(folder, item)
    return folder, snapshot(folder)


def _run(row, base):
    """The row as a real interpreter: ``python -m derive …`` in a subprocess."""
    folder, made = _folder(row, base)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, "-m", "derive", *row[1]]
    proc = subprocess.run(args, cwd=folder, capture_output=True, timeout=120, env=env)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), \
        proc.stderr.decode("utf-8", "replace"), folder, made


def _run_in_process(row, base, monkeypatch):
    """The row through ``derive.cli.main.main(argv)`` in this interpreter, in its own empty
    folder, with stdout and stderr captured; argv as the interpreter would decode it
    (``os.fsdecode``: bytes that are not UTF-8 become surrogate escapes). An exception
    that escapes ``main`` is a traceback on stderr, as ``python -m derive`` would print."""
    folder, made = _folder(row, base)
    monkeypatch.chdir(folder)
    out, err = io.StringIO(), io.StringIO()
    argv = [os.fsdecode(a) for a in row[1]]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:        # what the interpreter would print: a traceback
            traceback.print_exc()
            code = 1
    return code, out.getvalue(), err.getvalue(), folder, made


def _run_batch(rows, base):
    """The rows through ``main(argv)`` in one fresh interpreter (`cli_batch.run_many`)."""
    folders = [_folder(row, base) for row in rows]
    done = run_many([(folder, row[1]) for row, (folder, _) in zip(rows, folders)])
    return [(*result, *folder) for result, folder in zip(done, folders)]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The subprocess rows: each of ``ENTRY_ROWS`` as its own ``python -m derive``, the
    rest in one batch, all at the same time."""
    base = tmp_path_factory.mktemp("bad-input")
    rows = [row for row in ROWS if row[0] in SUBPROCESS_ROWS]
    entry = [row for row in rows if row[0] in ENTRY_ROWS]
    batch = [row for row in rows if row[0] not in ENTRY_ROWS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        batched = pool.submit(_run_batch, batch, base)
        done = list(pool.map(lambda row: _run(row, base), entry)) + batched.result()
    return dict(zip((row[0] for row in entry + batch), done))


def _assert_refused(row, code, out, err, folder, made):
    words = row[2]
    assert "Traceback" not in out + err
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n") and lines[0].strip(), err
    assert lines[0].startswith("derive: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert snapshot(folder) == made       # nothing written or replaced, no pwned


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_bad_input_exits_2_with_one_line_naming_the_problem(tmp_path, monkeypatch, row):
    _assert_refused(row, *_run_in_process(row, tmp_path, monkeypatch))


@pytest.mark.slow
@pytest.mark.xdist_group("bad-input-subprocess")     # one worker runs the fixture
@pytest.mark.parametrize("row", [row for row in ROWS if row[0] in SUBPROCESS_ROWS],
                         ids=SUBPROCESS_ROWS)
def test_bad_input_through_the_real_entry_point(results, row):
    _assert_refused(row, *results[row[0]])


def test_the_table_is_large_and_ids_are_unique():
    assert len({row[0] for row in ROWS}) == len(ROWS) >= 60
    assert set(ENTRY_ROWS) <= set(SUBPROCESS_ROWS) <= {row[0] for row in ROWS}


# --- issue 14, the cases about the process: exit codes, pipes, signals --------------------
def _shell(command, folder, timeout=120, **extra):
    """``command`` in bash, with ``derive`` meaning ``python -m derive`` from this tree;
    (exit status of derive, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               **extra)
    script = f'derive() {{ "{sys.executable}" -m derive "$@"; }}\n{command}\nexit ${{PIPESTATUS[0]}}'
    proc = subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, env=env,
                          timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), \
        proc.stderr.decode("utf-8", "replace")


#: (case, id, shell command, exit status, words of the one stderr line or "" for none)
PROCESS_CASES = [
    (1, "full-disk", "derive notes --depth 1 > /dev/full", 2,
     "cannot write to standard output: No space left on device"),
    (2, "pipe-catalogue", "derive catalogue | head -1", 0, ""),
    (2, "pipe-catalogue-closed", "derive catalogue | true", 0, ""),
    (2, "pipe-verify", 'derive verify --depth L --activation sigmoid --loss bce --param W_L '
     '--claim "(z_L - y) z_{L-1}^T" | head -1', 0, ""),
    # a claim that does not hold is 1 whether or not anyone reads the verdict (issue 23)
    (2, "pipe-verify-closed", 'derive verify --depth 2 --activation tanh --loss mse '
     '--param W_2 --claim "z_1" | true', 1, ""),
    (2, "pipe-verify-closed-unbuffered", 'PYTHONUNBUFFERED=1 derive verify --depth 2 '
     '--activation tanh --loss mse --param W_2 --claim "z_1" | (exec <&-; sleep 1)', 1, ""),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", PROCESS_CASES, ids=[f"case{c[0]}-{c[1]}" for c in PROCESS_CASES])
def test_the_process_cases(tmp_path, case):
    number, name, command, status, words = case
    code, out, err = _shell(command, tmp_path)
    assert "Traceback" not in out + err and "Exception ignored" not in err, err
    assert code == status, (code, err)
    assert err == (f"derive: {words}\n" if words else ""), err
    assert list(tmp_path.iterdir()) == []


def test_case5_dash_is_stdout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["notes", "--depth", "1", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("\\documentclass")
    assert main(["export", "--widths", "2,1", "--activation", "tanh", "--loss", "mse",
                 "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith('"""Gradients')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.xdist_group("gallery")      # the worker that computed the gallery's content
def test_case6_the_gallery_leaves_a_users_file_alone(tmp_path, monkeypatch, capsys,
                                                     gallery_memo):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gallery, "pdflatex_available", lambda: False)
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "README.md").write_text("mine")
    assert main([]) == 2
    err = capsys.readouterr().err.splitlines()
    total = len(gallery.entries()) + 2                     # and the catalogue, the errata
    assert err[0] == f"[1/{total}] output/000_sigmoid_bce_depth3"    # progress, per document
    assert err[-1].startswith("derive: left alone 1 file(s)") and "output/README.md" in err[-1]
    assert "--force" in err[-1] and (tmp_path / "output" / "README.md").read_text() == "mine"
    assert (tmp_path / "output" / "000_sigmoid_bce_depth3.tex").is_file()
    manifest = (tmp_path / "output" / gallery.MANIFEST).read_text().splitlines()
    assert "README.md" not in manifest and "000_sigmoid_bce_depth3.tex" in manifest
    assert main(["--force"]) == 0 and "mine" not in (tmp_path / "output/README.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("seed", ["0", "1", "2"])
def test_case9_towers_are_refused_under_every_hash_seed(tmp_path, seed):
    """Both towers in one interpreter started with the seed (`cli_batch.run_many`); a
    tower through ``python -m derive`` itself is the row case9-tower-exp (``ENTRY_ROWS``)."""
    done = run_many([(tmp_path, TOWER_VERIFY + [tower]) for tower in TOWERS],
                    PYTHONHASHSEED=seed)
    for tower, (code, out, err) in zip(TOWERS, done):
        assert "Traceback" not in out + err and "j)" not in out, tower   # never complex
        assert (code, err.count("\n")) == (2, 1), (tower, err)
        assert "cannot evaluate numerically" in err, (tower, err)
    assert len(done) == len(TOWERS) and list(tmp_path.iterdir()) == []


def test_case10_certify_refuses_large_widths_quickly():
    d = backprop(Network.uniform(depth=2, activation="tanh", loss="mse"))
    start = time.monotonic()
    with pytest.raises(SpecError, match="at most 16 per layer"):
        d.certify(widths=(1000, 1000, 1000))
    assert time.monotonic() - start < 1
    with pytest.raises(SpecError, match="the limit is 72"):
        d.certify(widths=(9, 9, 9))


def _pdflatex_children(tmp):
    """Processes whose working folder is under ``tmp`` (pdflatex runs in one there)."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.readlink(f"/proc/{pid}/cwd").startswith(str(tmp)):
                found.append(pid)
        except OSError:
            pass
    return found


def _default_signal_dispositions():
    """In the child before exec: SIGINT and SIGTERM back to their defaults.

    A non-interactive shell starts its background jobs with SIGINT ignored, SIG_IGN
    survives exec, and CPython rightly leaves an inherited SIG_IGN alone; so when the
    suite itself runs as such a job, the child would never see the test's SIGINT. The
    test is about derive's handler, not about how the suite was launched."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_case11_a_signal_during_pdflatex_leaves_nothing_behind(tmp_path, sig, status):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "derive", "notes", "--depth", "2",
                             "--format", "pdf", "-o", "x.pdf"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_signal_dispositions)
    deadline = time.monotonic() + 60
    while not _pdflatex_children(tmp) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _pdflatex_children(tmp), "pdflatex never started"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert b"Traceback" not in err and err.count(b"\n") == 1
    time.sleep(0.2)
    assert _pdflatex_children(tmp) == [] and list(tmp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


def test_gallery_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, bar in ((Terminal(), True), (io.StringIO(), False)):
        progress = gallery.Progress(2, stream)
        progress.step("output/a")
        progress.step("output/b")
        progress.done()
        text = stream.getvalue()
        if bar:
            assert text.count("\r") == 3 and text.rstrip(" \n").endswith("#] 2/2")
            assert "[" + "#" * 12 + "." * 12 + "] 2/2 b" in text
        else:
            assert text == "[1/2] output/a\n[2/2] output/b\n"
