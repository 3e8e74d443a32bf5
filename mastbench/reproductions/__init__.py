"""Reproductions of the seed papers' experiments, one module per family."""
