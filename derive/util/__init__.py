"""Utilities: atomic file writes and the one Jinja environment factory."""
