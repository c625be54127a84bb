"""Jinja2 templates of backprop-derive (installed as the package `derive.templates`)."""
