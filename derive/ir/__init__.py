"""The intermediate representation: SymPy node types, activation atoms, derivation steps, display hooks."""
