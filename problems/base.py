"""Base classes of smooth problems with exact constants, and of finite sums.

A problem evaluates ``value``, ``grad`` (and ``hess`` where cheap) on a single point of shape
(d,) or on a batch of R points of shape (R, d), in the array namespace of its data.  Its
constants (``L``, ``mu``, ``x_star``, ``f_star``) are exact: closed forms, or a solver run to
machine precision whose achieved accuracy is stored as ``certificate``.  Constants are computed
once, in float64 on the host, and cached.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems._data import check_design
from mastbench.problems.design import as_sparse_design, is_sparse

from mastbench.backend import array_namespace, device_of, to_numpy

__all__ = ["FiniteSum", "Problem"]


class Problem(ABC):
    """A smooth function f: R^d → R with exact constants.

    Attributes
    ----------
    d : int
        Dimension.
    xp : namespace
        Array namespace of the data; ``x`` passed in must belong to it.
    """

    d: int
    xp: Any

    @abstractmethod
    def value(self, x: Any) -> Any:
        """f(x): a scalar for x of shape (d,), an (R,) array for x of shape (R, d)."""

    @abstractmethod
    def grad(self, x: Any) -> Any:
        """∇f(x), same shape as ``x``."""

    def hess(self, x: Any) -> Any:
        """∇²f(x) for a single point x of shape (d,), as a (d, d) array."""
        raise NotImplementedError(f"{type(self).__name__} has no cheap Hessian")

    # -- exact constants ---------------------------------------------------------------------
    @property
    @abstractmethod
    def L(self) -> float:
        """Smoothness constant L: λ_max of the Hessian, sup over x (exact or a stated bound)."""

    @property
    @abstractmethod
    def mu(self) -> float:
        """Strong convexity constant μ: inf over x of λ_min of the Hessian (0 if not strongly
        convex)."""

    @property
    @abstractmethod
    def x_star_host(self) -> np.ndarray:
        """A minimizer x* as a float64 NumPy array (the minimum-norm one when not unique)."""

    @cached_property
    def x_star(self) -> Any:
        """A minimizer x* in the problem's namespace and device."""
        return self.asarray(self.x_star_host)

    @cached_property
    def f_star(self) -> float:
        """The minimum value f* = f(x*)."""
        return float(self.value_host(self.x_star_host))

    @property
    def certificate(self) -> float:
        """‖∇f(x*)‖ achieved by the computed minimizer (0 for closed forms up to round-off)."""
        return float(np.linalg.norm(self.grad_host(self.x_star_host)))

    # -- helpers -----------------------------------------------------------------------------
    def value_host(self, x: np.ndarray) -> float:
        """f at a NumPy point, evaluated in float64 (used for exact constants).

        Float64 data are evaluated by the backend oracle :meth:`value`; narrower data (float32)
        by the host oracle :meth:`_value_float64` on the data promoted exactly to float64, so
        the constants of a float32 problem are those of its float32 data to float64 accuracy.
        """
        if self._is_float64:
            return float(to_numpy(self.value(self.asarray(x))))
        return float(self._value_float64(np.asarray(x, dtype=np.float64)))

    def grad_host(self, x: np.ndarray) -> np.ndarray:
        """∇f at a NumPy point, as a float64 NumPy array (as :meth:`value_host`)."""
        if self._is_float64:
            return to_numpy(self.grad(self.asarray(x)))
        return self._grad_float64(np.asarray(x, dtype=np.float64))

    def _value_float64(self, x: np.ndarray) -> float:
        """f at a float64 NumPy point from the data in float64 (problems whose data may be
        narrower than float64 provide it)."""
        raise TypeError(
            f"{type(self).__name__} computes its exact constants from float64 data only, "
            f"got data of dtype {self.dtype}"
        )

    def _grad_float64(self, x: np.ndarray) -> np.ndarray:
        """∇f at a float64 NumPy point from the data in float64 (as :meth:`_value_float64`)."""
        raise TypeError(
            f"{type(self).__name__} computes its exact constants from float64 data only, "
            f"got data of dtype {self.dtype}"
        )

    @property
    def _is_float64(self) -> bool:
        return self.dtype == self.xp.float64

    def asarray(self, x: Any) -> Any:
        """Convert ``x`` to the problem's namespace, dtype and device."""
        return self.xp.asarray(x, dtype=self.dtype, device=self.device)

    @property
    def dtype(self) -> Any:
        """Floating dtype of the data."""
        return self._dtype

    @property
    def device(self) -> Any:
        """Device of the data."""
        return self._device

    def _set_backend(self, **arrays: Any) -> None:
        """Take namespace, dtype and device from the named data ``arrays`` (all one namespace)."""
        for name, a in arrays.items():
            if not hasattr(a, "shape"):
                raise TypeError(f"{name} must be an array, got {type(a).__name__}")
        names = list(arrays)
        first = arrays[names[0]]
        self.xp = array_namespace(first)
        self._dtype = first.dtype
        self._device = device_of(first)
        for name in names[1:]:
            if array_namespace(arrays[name]) is not self.xp:
                raise TypeError(
                    f"{name} must be an array of the same namespace as {names[0]} "
                    f"({self.xp.__name__})"
                )
        for name, a in arrays.items():
            if not self.xp.isdtype(a.dtype, "real floating"):
                raise TypeError(f"{name} must be real floating point, got dtype {a.dtype}")
            if a.dtype != self._dtype:
                raise TypeError(
                    f"{name} must have the same dtype as {names[0]} ({self._dtype}), got {a.dtype}"
                )
            if device_of(a) != self._device:
                raise ValueError(
                    f"{name} must be on the same device as {names[0]} ({self._device}), "
                    f"got {device_of(a)}"
                )

    def _check_point(self, x: Any) -> None:
        if array_namespace(x) is not self.xp:
            raise TypeError(
                f"x must be an array of the problem's namespace {self.xp.__name__}, "
                f"got {type(x).__name__}"
            )
        if x.ndim not in (1, 2) or x.shape[-1] != self.d:
            raise ValueError(f"x must have shape (d,) or (R, d) with d={self.d}, got {x.shape}")

    @property
    def kappa(self) -> float:
        """Condition number L/μ (inf when μ = 0)."""
        return self.L / self.mu if self.mu > 0 else float("inf")


class FiniteSum(Problem):
    """f(x) = (1/n) Σ_i f_i(x), with component gradients on index batches.

    Attributes
    ----------
    n : int
        Number of components (samples).
    """

    n: int

    @abstractmethod
    def grad_batch(self, x: Any, idx: Any) -> Any:
        """Mean gradient of the components in ``idx``.

        Parameters
        ----------
        x : array, shape (R, d)
            One point per replicate.
        idx : int array, shape (R, b)
            Component indices per replicate (a minibatch each).

        Returns
        -------
        array, shape (R, d)
            (1/b) Σ_{i ∈ idx[r]} ∇f_i(x[r]) for each replicate r.
        """

    def _set_design(self, X: Any, y: Any, l2: float) -> Any:
        """Backend, dtype and device from the data (from ``y`` alone for a SciPy sparse X,
        which is kept as CSR), the data checks, ``self.l2``; returns X as stored."""
        if is_sparse(X):
            X = as_sparse_design("X", X, y)
            self._set_backend(y=y)
        else:
            self._set_backend(X=X, y=y)
        self.l2 = check_design(X, y, l2)
        return X

    def _check_batch(self, x: Any, idx: Any) -> tuple[int, int]:
        """(R, b) of an index batch ``idx`` after checking it matches the points ``x`` (R, d)."""
        for name, a in (("x", x), ("idx", idx)):
            if not hasattr(a, "shape") or array_namespace(a) is not self.xp:
                raise TypeError(
                    f"{name} must be an array of the problem's namespace {self.xp.__name__}, "
                    f"got {type(a).__name__}"
                )
        if len(idx.shape) != 2:
            raise ValueError(f"idx must have shape (R, b), got {tuple(idx.shape)}")
        if not self.xp.isdtype(idx.dtype, "integral"):
            raise TypeError(f"idx must hold integer indices, got dtype {idx.dtype}")
        R, b = (int(s) for s in idx.shape)
        if tuple(x.shape) != (R, self.d):
            raise ValueError(
                f"x must have shape (R, d) = ({R}, {self.d}) to match idx, got {tuple(x.shape)}"
            )
        return R, b

    @property
    @abstractmethod
    def L_i(self) -> np.ndarray:
        """Per-component smoothness constants, shape (n,)."""

    @property
    def L_max(self) -> float:
        """max_i L_i."""
        return float(np.max(self.L_i))

    @property
    def L_mean(self) -> float:
        """(1/n) Σ_i L_i."""
        return float(np.mean(self.L_i))
