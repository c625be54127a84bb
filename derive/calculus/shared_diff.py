"""SymPy's derivative of an expression whose subtrees are shared, each subtree once.

The fully expanded loss of a network (what `certify` differentiates, entry by entry)
is a DAG: every pre-activation of layer 1 appears inside every unit of layer 2, and so
on up. ``sympy.diff`` walks it as a tree and differentiates a shared subtree once for
every place it appears, so its cost grows with the tree (a depth-3 layer-norm residual
net: 17 s for eight entries). `shared_diff` applies **SymPy's own rules** node by node,
in SymPy's order (``Add``: the sum of the terms' derivatives; ``Mul``: the product
rule as ``Mul._eval_derivative_n_times`` writes it for n = 1; ``Pow``: as
``Pow._eval_derivative``; a function: ``fdiff`` times the argument's derivative, as
``Function._eval_derivative``) and remembers every subtree's derivative, so each
distinct subtree is differentiated once. The result is the very expression
``sympy.diff`` returns (``==``, tested over the activation and loss tables); node
types without a rule here are handed to ``sympy.diff`` itself.

>>> from sympy import Symbol, exp, diff
>>> x, y = Symbol("x"), Symbol("y")
>>> u = exp(x * y) + x
>>> shared_diff(u * u + u, x) == diff(u * u + u, x)
True
"""
from sympy import Add, Mul, Piecewise, S, log
from sympy.core.function import ArgumentIndexError, Function
from sympy.functions.elementary.miscellaneous import MinMaxBase


def shared_diff(expr, x):
    """∂expr/∂x for a symbol ``x``, equal to ``sympy.diff(expr, x)``."""
    contains, derivative = {}, {}

    def has_x(e):
        found = contains.get(e)
        if found is None:
            found = contains[e] = e == x or any(has_x(a) for a in e.args)
        return found

    def d(e):
        done = derivative.get(e)
        if done is not None:
            return done
        if e == x:
            out = S.One
        elif not has_x(e):
            out = S.Zero
        elif e.is_Add:
            out = Add(*[d(a) for a in e.args])
        elif e.is_Mul:
            args = e.args
            out = Add(*[Mul(*(args[:n] + (d(a),) + args[n + 1:]))
                        for n, a in enumerate(args) if has_x(a)])
        elif e.is_Pow:
            base, power = e.args
            out = e * (d(power) * log(base) + d(base) * power / base)
        elif isinstance(e, (Function, MinMaxBase)) and not isinstance(e, Piecewise):
            out = _chain(e, d)
            if out is None:
                out = e.diff(x)
        else:   # Piecewise and any other node: SymPy's own rule, unshared
            out = e.diff(x)
        derivative[e] = out
        return out

    return d(expr)


def _chain(e, d):
    """f(a_1, …)' = Σ_n ∂f/∂a_n · a_n' over the arguments whose derivative is not zero;
    None where f has no ``fdiff`` for an argument (SymPy then writes a Subs)."""
    terms = []
    for n, a in enumerate(e.args, 1):
        da = d(a)
        if not da.is_zero:
            try:
                terms.append(e.fdiff(n) * da)
            except ArgumentIndexError:
                return None
    return Add(*terms)
