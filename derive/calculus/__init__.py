"""Index-notation calculus: Kronecker contraction and lifting, the one evaluator, exact and numeric comparison."""
