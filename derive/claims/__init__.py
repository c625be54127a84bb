"""Closed-form claims: lexer, grammar (network and free names), builders, checks and verdicts."""
