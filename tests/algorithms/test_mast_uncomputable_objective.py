"""dsgd runs when f_D has no exact evaluation (non-quadratic f, support too large).

Regression test: the MAST objective of logistic regression with a Bernoulli sketch on d = 13
coordinates needs 2¹³ > 4096 outcomes; dsgd must still run (the use case of Monte Carlo on
real data sets such as a5a), recording f − f* and saying why the f_D metrics are skipped.
"""

import numpy as np

from mastbench.algorithms.mast import dsgd
from mastbench.backend import rng
from mastbench.sketches import Bernoulli
from problems import random as random_problems


def test_dsgd_skips_f_D_metrics_when_the_support_cannot_be_enumerated():
    problem = random_problems.logistic(40, 13, rng(0))
    sketch = Bernoulli(0.5, 13)
    trace = dsgd(problem, np.zeros(13), sketch=sketch, step=0.01, iters=3, rng=rng(1), replicates=2)
    assert "subopt" in trace.metrics
    assert trace.metrics["subopt"].shape == (trace.iterations.size, 2)
    skipped = trace.params["skipped_metrics"]
    assert {"subopt_D", "dist2", "gradnorm2_D"} <= set(skipped)
    assert "cannot be enumerated" in skipped["dist2"]
