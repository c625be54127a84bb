"""The truth check's forward pass compiled for central differences (`Plan`), used by
`tests/truthcheck.py`'s `World`."""
import mpmath
from sympy import Float, Function, Integer, Matrix, Symbol, lambdify

from derive.calculus.evaluate import NetworkEvaluator
from derive.ir.activations import realize
from derive.vocab import LAMBDA


class Plan:
    """The world's forward pass compiled once: each forward definition (and the loss,
    and the penalty) evaluated over matrices of placeholder symbols, its activation atoms
    replaced by their definitions, and turned into an mpmath function of the entries it
    reads. A central difference then runs in mpmath arithmetic at the world's precision
    and re-runs only the definitions that read the moved entry, directly or through
    another one; everything else keeps the world's values. Same definitions, same precision as the
    SymPy pass (`World._forward`), which remains the fallback when a definition does not
    compile to numbers (``ready`` is False)."""

    def __init__(self, world, digits, step):
        self.digits, self.step = digits, step
        env, net = world.env, world.net
        keys = [k for k in env if isinstance(k, tuple)]
        self.shape = {k: env[k].shape for k in keys}
        self.syms = {k: Matrix(*env[k].shape, lambda r, c, k=k: Symbol(
            f"_{k[0]}_{k[1]}_{r}_{c}")) for k in keys}
        self.movable = set(world.leaves) | {key for key, _ in world.defs}
        steps = []
        if net.bias == "augmented":
            steps += [(("Wbar", l), self.syms[("W", l)][:, :env[("W", l)].cols - 1])
                      for l in range(1, world.L + 1)]
        steps += [(key, NetworkEvaluator(self.syms)(rhs)) for key, rhs in world.defs]
        out = self.syms[("z", world.L)]
        steps.append(("J_data", Matrix([[world._loss.xreplace(
            {world._out[r, c]: out[r, c] for r in range(out.rows) for c in range(out.cols)})]])))
        weights = "Wbar" if net.bias == "augmented" else "W"
        penalty = (world.point[LAMBDA] / 2 * sum(
            (w ** 2 for l in range(1, world.L + 1) for w in self.syms[(weights, l)]),
            Integer(0))) if net.weight_decay else Integer(0)
        steps.append(("penalty", Matrix([[penalty]])))
        self.ready = True
        self.steps = [self._compile(key, value) for key, value in steps]
        with mpmath.workdps(self.digits):
            self.base = {k: [mpmath.mpf(v) for v in env[k]] for k in keys}

    def _compile(self, key, value):
        """(key, the keys it reads in a fixed order, the mpmath function)."""
        value = value.applyfunc(lambda v: realize(v) if v.atoms(Function) else v)
        free = value.free_symbols
        reads = [k for k, m in self.syms.items() if any(s in free for s in m)]
        known = {s for k in reads for s in self.syms[k]}
        if not free <= known:
            self.ready = False
            return key, reads, None
        args = [s for k in reads for s in self.syms[k]]
        return key, reads, lambdify(args, list(value), modules="mpmath")

    def run(self, key, r, c, entry):
        """The forward pass with entry (r, c) of ``key`` set to ``entry``: {key: flat
        values} for what changed, and "J", "J_data"."""
        env, dirty = dict(self.base), set()
        if key in self.movable:
            values = list(env[key])
            values[r * self.shape[key][1] + c] = entry
            env[key], dirty = values, {key}
        for out, reads, fn in self.steps:      # the loss and the penalty always run
            if out == key or (dirty.isdisjoint(reads) and out in env):
                continue
            env[out] = fn(*(v for k in reads for v in env[k]))
            dirty.add(out)
        env["J"] = [env["J_data"][0] + env["penalty"][0]]
        return env

    def derivative(self, num, key, r, c):
        with mpmath.workdps(self.digits):
            step = mpmath.mpf(self.step)
            sides = []
            for sign in (1, -1):
                entry = self.base[key][r * self.shape[key][1] + c] + sign * step
                env = self.run(key, r, c, entry)
                sides.append(env[num][0] if isinstance(num, str)
                             else env[num[0]][num[1] * self.shape[num[0]][1] + num[2]])
            return Float((sides[0] - sides[1]) / (2 * step), self.digits)
