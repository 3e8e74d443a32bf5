"""A fake reproduction module for the report tests (the ``reproduce`` contract)."""

import numpy as np


def reproduce(quick: bool = True, seed: int = 0) -> dict:
    """Accuracy of a fixed-seed random model at sparsity levels q."""
    rng = np.random.default_rng(seed)
    q = np.linspace(0.1, 0.9, 3 if quick else 9)
    accuracy = 0.9 - 0.3 * q + 0.01 * rng.standard_normal(q.size)
    return {
        "title": "Fake accuracy vs sparsity",
        "table": [
            {"q": float(a), "accuracy": float(b), "model": "dense"}
            for a, b in zip(q, accuracy, strict=True)
        ],
        "curves": {
            "accuracy": {
                "x": q.tolist(),
                "y": {
                    "dense": accuracy.tolist(),
                    "sparse draws": (accuracy[:, None] - 0.1 * rng.random((q.size, 5))).tolist(),
                },
                "xlabel": "q",
                "ylabel": "accuracy",
                "logy": False,
            }
        },
        "notes": "Fake numbers for the tests.",
    }
