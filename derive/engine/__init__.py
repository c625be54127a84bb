"""Backpropagation: the layer templates derived once and instantiated per layer, the Derivation, its certificate."""
