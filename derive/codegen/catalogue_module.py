"""Export of a catalogue derivative (SPEC §5b): ``f_and_grad(**arrays)`` → (f, ∂f/∂wrt).

f is the scalar as written and the gradient the derivation's matrix form, both printed by
the target's catalogue printer (`derive.printing.matrix_code`); the dimension names of
the shapes are read off the first array that has them and every array is checked
against them. The template (``templates/export/catalogue.py.j2``) lays the module out.

>>> from derive import matrix_derivative
>>> g = export_derivative(matrix_derivative("y^T A x", "A"), "torch")
>>> print(g.source.split("# ∂f/∂A = ")[1].splitlines()[1].strip())
grad = y @ x.T
"""
import keyword

from sympy import Symbol

from ..printing.matrix_code import MATRIX_PRINTERS, symbol_name
from ..util.templates import environment
from .lines import text
from .targets import ExportedModule, check_target

#: per target: the import lines, the array test, and how the namespace is found
HEADERS = {
    "numpy": ("import numpy as np", "isinstance(a, np.ndarray)", None),
    "torch": ("import torch", "isinstance(a, torch.Tensor)", None),
    "jax": ("import jax\nimport jax.numpy as jnp\nimport numpy as np",
            "isinstance(a, (jax.Array, np.ndarray))", None),
    "array_api": ("from array_api_compat import array_namespace, is_array_api_obj\n"
                  "from array_api_compat import device as _device", "is_array_api_obj(a)",
                  "xp = array_namespace(*arrays.values())"),
}


#: the names the generated function binds itself
RESERVED = {"f", "grad", "arrays", "xp", "np", "jnp", "jax", "torch"}


def _dimensions(names, shapes):
    """[(dimension name, variable, axis)]: where each named size is read from, and
    {size: its Python name} (``dim_k`` where k would be a keyword or another name)."""
    seen, out, rename = set(), [], {}
    taken = RESERVED | {symbol_name(n) for n in names}
    for name in names:
        for axis, size in enumerate(shapes[name]):
            if isinstance(size, Symbol) and size not in seen:
                seen.add(size)
                code = str(size)
                if keyword.iskeyword(code) or code in taken or not code.isidentifier():
                    code = rename[size] = f"dim_{symbol_name(code)}"
                out.append((code, symbol_name(name), axis))
    return out, {size: Symbol(code) for size, code in rename.items()}


def catalogue_source(d, target):
    """The text of the module computing f and ∂f/∂wrt of the derivation ``d``."""
    check_target(target)
    wrt = symbol_name(d.wrt.name)
    printer = MATRIX_PRINTERS[target](dict(ref=wrt))
    names = list(d.shapes)
    dims, rename = _dimensions(names, d.shapes)
    f = printer.doprint(d.expr.xreplace(rename))
    if d.expr.is_Matrix:         # a 1×1 product: its one entry
        f = f"({f})[0, 0]"
    grad = printer.doprint(d.result.xreplace(rename))
    imports, is_array, namespace = HEADERS[target]
    shapes = {symbol_name(n): tuple(str(s) if isinstance(s, Symbol) else int(s)
                                    for s in d.shapes[n]) for n in names}
    return environment("python").get_template("export/catalogue.py.j2").render(
        expression=text(d.expr), wrt=wrt, wrt_label=d.wrt.name, names=[symbol_name(n) for n in names],
        shapes=shapes, dims=dims, f=f, grad=grad,
        f_text=text(d.expr), grad_text=text(d.result), imports=imports, is_array=is_array,
        namespace=namespace, target=target)


def export_derivative(d, target="numpy"):
    """The module of ``f_and_grad(**arrays)`` for a catalogue derivation, any target."""
    return ExportedModule(target, catalogue_source(d, target), f"d/d{d.wrt.name} of {d.text}")
