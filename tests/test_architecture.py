"""The house's rules (DESIGN.md, "The house"), held by an ast walk of derive/.

- each part imports only the parts the design's table allows (and no forbidden
  third-party package);
- the module import graph has no cycles;
- no import inside a function outside cli/ (start-up cost is the only excuse);
- no module reads another module's ``_private`` name;
- no file over 400 lines, no function over 60.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "derive"
COMMON = {"vocab", "errors"}
#: part -> the parts of derive it may import (besides itself)
ALLOWED = {
    "vocab": set(), "errors": set(), "util": {"errors"},
    "spec": COMMON | {"ir.quantities", "ir.calls"},   # a network's blocks are calls of quantities
    "ir": COMMON,
    "calculus": COMMON | {"ir"},
    "engine": COMMON | {"spec", "ir", "calculus"},
    "matrix": COMMON | {"ir", "calculus", "engine.certificate"},
    "claims": COMMON | {"spec", "ir", "calculus", "engine", "matrix", "printing"},
    "printing": COMMON | {"ir", "spec"},
    "documents": COMMON | {"ir", "printing", "spec", "util", "engine.derivation"},
    "codegen": COMMON | {"ir", "spec", "engine", "printing.numpy_code", "printing.text", "util",
                         "printing.framework_code", "printing.matrix_code", "printing.graph_code"},
}
FACE = {"__init__", "__main__", "api", "cli"}      # may import everything
#: third-party packages a part must never import
FORBIDDEN = {"engine": {"jinja2", "numpy"}, "documents": {"numpy"}, "spec": {"jinja2", "numpy"},
             "ir": {"jinja2", "numpy"}, "calculus": {"jinja2", "numpy"}, "matrix": {"jinja2", "numpy"},
             "claims": {"jinja2", "numpy"}, "printing": {"jinja2", "numpy"}}
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60


def _modules():
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out[".".join(parts)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return out


MODULES = _modules()


def _part(module):
    return module.split(".")[0]


def _package(module):
    """The package a module's relative imports start from."""
    parts = module.split(".")
    return parts if parts[-1] == "__init__" else parts[:-1]


def _imports(module, tree, top_level_only=False):
    """[(imported derive module or third-party name, node, is_derive)]."""
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(a.name.split(".")[0], node, False) if not a.name.startswith("derive")
                    else (a.name[len("derive."):], node, True) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module.startswith("derive"):
                    base = node.module[len("derive."):] if "." in node.module else ""
                    out += [(_join(base, a.name), node, True) for a in node.names]
                else:
                    out.append((node.module.split(".")[0], node, False))
                continue
            pkg = _package(module)
            pkg = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
            base = ".".join(p for p in pkg if p != "__init__")
            base = _join(base, node.module or "")
            for a in node.names:
                target = _join(base, a.name)
                out.append((target if target in MODULES or f"{target}.__init__" in MODULES
                            else base, node, True))
    return out


def _join(*parts):
    return ".".join(p for p in parts if p)


def _allowed(part, target):
    allowed = ALLOWED[part]
    return any(target == a or target.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_part_imports_only_what_the_design_allows(module):
    part = _part(module)
    if part in FACE:
        return
    path, tree = MODULES[module]
    wrong = []
    for target, node, ours in _imports(module, tree):
        if not ours:
            if target in FORBIDDEN.get(part, ()):
                wrong.append(f"line {node.lineno}: {target}")
            continue
        if target == "" or _part(target) == part:
            continue
        if not _allowed(part, target):
            wrong.append(f"line {node.lineno}: derive.{target}")
    assert not wrong, f"{module} ({part}) imports what DESIGN.md does not allow: {wrong}"


def test_the_import_graph_has_no_cycles():
    graph = {}
    for module, (_, tree) in MODULES.items():
        targets = set()
        for target, _, ours in _imports(module, tree, top_level_only=True):
            if not ours:
                continue
            if target in MODULES:
                targets.add(target)
            elif f"{target}.__init__" in MODULES:
                targets.add(f"{target}.__init__")
        graph[module] = targets - {module}
    # a package's __init__ runs before its submodules; the root __init__ is the face
    graph.pop("__init__")
    for deps in graph.values():
        deps.discard("__init__")
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"
    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m) != "cli"))
def test_no_import_inside_a_function_outside_the_cli(module):
    _, tree = MODULES[module]
    inner = [f"{f.name} line {n.lineno}" for f in ast.walk(tree)
             if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not inner, f"{module}: imports inside functions: {inner}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reads_another_modules_private_names(module):
    _, tree = MODULES[module]
    imported = {}       # local name -> derive module it stands for
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or node.module.startswith("derive")):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    reads.append(f"line {node.lineno}: imports {a.name}")
                imported[a.asname or a.name] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in imported and node.attr.startswith("_")
                and not node.attr.startswith("__") and _is_module(imported[node.value.id])):
            reads.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    assert not reads, f"{module} reads private names of other modules: {reads}"


def _is_module(name):
    return any(m.split(".")[-1] == name for m in MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_and_functions_stay_small(module):
    path, tree = MODULES[module]
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_FILE_LINES, f"{module}: {lines} lines (at most {MAX_FILE_LINES})"
    long = [(f.name, f.end_lineno - f.lineno + 1) for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            and f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{module}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_checks_see_the_whole_package():
    """The walk finds every part of the design, so a moved folder cannot hide."""
    parts = {_part(m) for m in MODULES}
    assert set(ALLOWED) | FACE - {"__main__"} <= parts | {"__main__"}
    assert all(_part(m) in ALLOWED or _part(m) in FACE for m in MODULES)


#: the modules of the quantity table: derive/ir/quantities.py and its architectures' rows
TABLE = ("ir.quantities", "ir.kinds_rnn", "ir.kinds_attention")
#: the quantity kinds of the table, read from its source
QUANTITY_KINDS = {node.args[0].value for module in TABLE for node in ast.walk(MODULES[module][1])
                  if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Kind"}
#: modules that still spell a quantity's shape themselves, to be ported to the table by
#: their owners (issue 20); a module may leave this list, none may join it
SPELLS_SHAPES_STILL = {"calculus.lifting", "claims.network_build", "documents.answers",
                       "documents.notes", "documents.one_node", "documents.scalars",
                       "documents.sections"}


def _spelled_shapes(tree):
    """Lines of ``Var("kind", layer, rows, cols)`` whose shape is written out, not copied
    from another quantity's ``.shape``."""
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Var"
                and node.args and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in QUANTITY_KINDS):
            continue
        shape = node.args[2:]
        copied = any(isinstance(a, ast.Starred) for a in shape) or all(
            any(isinstance(n, ast.Attribute) and n.attr == "shape" for n in ast.walk(a))
            for a in shape)
        if not copied:
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in TABLE))
def test_no_new_module_spells_a_quantitys_shape(module):
    assert QUANTITY_KINDS >= {"W", "b", "h", "z", "gamma", "beta", "hhat", "M", "delta"}
    lines = _spelled_shapes(MODULES[module][1])
    assert not lines or module in SPELLS_SHAPES_STILL, \
        f"{module} spells a quantity's shape at lines {lines}: read it from derive/ir/quantities.py"
