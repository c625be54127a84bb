"""Printers: notation presets, LaTeX, claim text, plain text and NumPy code."""
