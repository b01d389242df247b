"""What a batched solve costs, learnt from the solves a process has run.

seconds = requests x (per_request + per_weight x longest text weight). Measured on the built-in
model, 2 CPU cores, `nfe` 7 (`benchmarks/solve_cost.py`): one request of 12 characters took
0.55 s and of 120 characters 0.99 s, so most of a short chunk's cost is fixed (the reference
prompt the model attends over), and two requests took twice one (2.05 s at 120). Fitted on all
ten cases this model is within 6.4 % of each; a cost per character alone is off by up to 72 %.
On a GPU requests in a batch cost less than that: this model over-predicts there, which only
makes a reply start a little later.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SolveCost:
    """Weighted least squares of seconds on (requests, requests x longest), refit on each solve;
    older solves weigh `decay` less each time, so the fit follows the load the process is under
    (a face drawn beside the model slows it). Both coefficients stay non-negative."""

    decay: float = 0.7
    _nn: float = 0.0  # weighted sums of products of n (requests), u (n x longest) and t (seconds)
    _nu: float = 0.0
    _uu: float = 0.0
    _nt: float = 0.0
    _ut: float = 0.0
    _tt: float = 0.0
    per_request: float | None = None
    per_weight: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {self.decay}")

    def observe(self, requests: int, longest: int, seconds: float) -> None:
        n, u, t, d = float(requests), float(requests * longest), float(seconds), self.decay
        self._nn, self._nu, self._uu = d * self._nn + n * n, d * self._nu + n * u, d * self._uu + u * u
        self._nt, self._ut, self._tt = d * self._nt + n * t, d * self._ut + u * t, d * self._tt + t * t
        self.per_request, self.per_weight = self._fit()

    def predict(self, requests: int, longest: int) -> float | None:
        """Seconds a batch of `requests`, the longest of text weight `longest`, should take; None
        before any solve was observed."""
        if self.per_request is None or self.per_weight is None:
            return None
        return requests * (self.per_request + self.per_weight * longest)

    def _fit(self) -> tuple[float, float]:
        det = self._nn * self._uu - self._nu**2
        if det > 1e-9 * self._nn * self._uu:  # more than one length seen: both coefficients
            a = (self._uu * self._nt - self._nu * self._ut) / det
            b = (self._nn * self._ut - self._nu * self._nt) / det
            if a >= 0 and b >= 0:
                return a, b
        # one coefficient: the one that leaves less error; with one length seen they tie, and a
        # cost per request is the safer guess for other lengths (most of it is fixed)
        a_only = (self._nt / self._nn, 0.0) if self._nn else (0.0, 0.0)
        b_only = (0.0, self._ut / self._uu) if self._uu else a_only
        err_a = self._tt - self._nt**2 / self._nn if self._nn else float("inf")
        err_b = self._tt - self._ut**2 / self._uu if self._uu else float("inf")
        return b_only if err_b < err_a - 1e-12 * max(self._tt, 1e-30) else a_only
