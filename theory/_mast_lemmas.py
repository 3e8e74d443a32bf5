"""MAST lemmas: sketch constants, smoothness of f_D, T-GAP, key lemma."""
