"""MAST convergence theorems: T-SC, convex variant, T-NC, T-ABC, T-VR, T-DIST."""
