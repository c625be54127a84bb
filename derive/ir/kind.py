"""One row of the quantity table (`derive.ir.quantities`): what a kind of quantity is."""
from dataclasses import dataclass
from typing import Callable

#: what a quantity is to the network: learned, given, or computed from the others
ROLES = ("trained", "input", "computed")
#: on which layers a kind exists (before the options say whether the network has it)
WHERE = ("every", "hidden", "output", "input", "conv", "shared", "time", "token")


@dataclass(frozen=True)
class Kind:
    """One row of the quantity table (see the module docstring)."""

    name: str                 # the engine's key: "W", "hhat"
    shape: Callable           # (sizes, layer) -> (rows, cols)
    role: str                 # one of ROLES
    where: str                # one of WHERE
    needs: str = ""           # the network option it needs: "explicit", "norm", "dropout"
    field: str = ""           # the notation field it prints with ("pre", "weight", …) …
    letter: str = ""          # … or a fixed LaTeX letter; a "{}" in it takes the field's
    bold: bool = True         # a vector (or a matrix of columns): printed bold
    claim: str = ""           # its name in a claim ("W_2", "gamma_1", "hhat_1")
    text: str = ""            # its plain-text letter ("W", "γ", "ĥ")
    numpy: str = ""           # its NumPy variable stem ("W" → W2, "y" → Y)
    indices: str = "samples"  # its index slots: "entries" (a, b), "column" (a), "samples" (k, s),
    #                           "grid" (channel, position), "kernel" (out, in, tap)

    @property
    def trained(self):
        return self.role == "trained"

    def exists(self, net, layer, depth):
        """Whether ``net`` (anything with ``bias``, ``norm``, ``dropout``) has this kind at
        ``layer`` of a network of ``depth`` layers (concrete ints)."""
        convs, cell = getattr(net, "convs", 0), getattr(net, "cell", None)
        place = {"every": 1 <= layer <= depth, "hidden": 1 <= layer < depth,
                 "output": layer == depth, "input": layer == 0,
                 "conv": 1 <= layer <= convs, "shared": layer == 1 and cell is not None,
                 "time": cell is not None and 0 <= layer <= depth,
                 "token": hasattr(net, "tokens")}[self.where]
        option = {"": True, "explicit": net.bias == "explicit",
                  "augmented": net.bias == "augmented", "norm": net.norm != "none",
                  "dropout": net.dropout, "pool": getattr(net, "pool", None) is not None,
                  "max": getattr(net, "pool", None) == "max", "never": False,
                  "tanh": cell == "tanh", "lstm": cell == "lstm", "gru": cell == "gru",
                  "gates": cell in ("lstm", "gru")}[self.needs]
        return place and option
