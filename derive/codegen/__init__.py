"""Code generation: the standalone NumPy gradient module."""
