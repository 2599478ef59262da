"""Scalar random draws for the tree-shaped parts of the demo, fast and deterministic.

Agent traces have a shape that depends on earlier draws, so they are built one task at a time.
Calling a numpy `Generator` once per scalar costs microseconds; `Dice` draws blocks of uniforms,
normals and bytes from the one seeded generator and hands them out in order, so a run is
reproducible bit for bit from the seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_BLOCK = 1 << 16


class Dice:
    """Sequential scalar draws backed by one `numpy.random.Generator`."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._u: list[float] = []
        self._z: list[float] = []
        self._b = b""
        self._iu = self._iz = self._ib = 0

    def u(self) -> float:
        """Uniform on [0, 1)."""
        if self._iu == len(self._u):
            self._u, self._iu = self._rng.random(_BLOCK).tolist(), 0
        self._iu += 1
        return self._u[self._iu - 1]

    def z(self) -> float:
        """Standard normal."""
        if self._iz == len(self._z):
            self._z, self._iz = self._rng.standard_normal(_BLOCK).tolist(), 0
        self._iz += 1
        return self._z[self._iz - 1]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def lognorm(self, median: float, sigma: float, lo: float, hi: float) -> int:
        """An integer from a lognormal with this median and log-sd, clipped to [lo, hi]."""
        return int(min(hi, max(lo, median * math.exp(sigma * self.z()))))

    def seconds(self, median: float, sigma: float = 0.4) -> float:
        """A positive duration [s] from a lognormal with this median."""
        return median * math.exp(sigma * self.z())

    def pick(self, items: Sequence[T], weights: Sequence[float] | None = None) -> T:
        if weights is None:
            return items[int(self.u() * len(items))]
        x = self.u() * sum(weights)
        for item, w in zip(items, weights, strict=True):
            x -= w
            if x < 0:
                return item
        return items[-1]

    def hex(self, nbytes: int) -> str:
        """Random lower-case hex of `nbytes` bytes (16 for a trace id, 8 for a span id)."""
        if self._ib + nbytes > len(self._b):
            self._b, self._ib = self._rng.bytes(_BLOCK * 8), 0
        self._ib += nbytes
        return self._b[self._ib - nbytes : self._ib].hex()


def lognormal_ints(
    rng: np.random.Generator, n: int, median: float, sigma: float, lo: float, hi: float
) -> np.ndarray:
    """`n` integers from a lognormal with this median and log-sd, clipped to [lo, hi]."""
    x = median * np.exp(sigma * rng.standard_normal(n))
    return np.clip(x, lo, hi).astype(np.int64)


def hex_ids(rng: np.random.Generator, n: int, nbytes: int, prefix: str = "") -> list[str]:
    """`n` random hex ids of `nbytes` bytes each, with a prefix."""
    h = rng.bytes(n * nbytes).hex()
    w = 2 * nbytes
    return [prefix + h[i * w : (i + 1) * w] for i in range(n)]


def sessions(
    rng: np.random.Generator, user: list[str], ts: np.ndarray, gap_ns: int, prefix: str
) -> list[str]:
    """Conversation ids: a user's events belong to one session until a pause of `gap_ns`."""
    n = len(user)
    if n == 0:
        return []
    _, uix = np.unique(np.array(user), return_inverse=True)
    order = np.lexsort((ts, uix))
    u, t = uix[order], ts[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (t[1:] - t[:-1] > gap_ns)
    sid = np.cumsum(new) - 1
    names = hex_ids(rng, int(sid[-1]) + 1, 8, prefix)
    out = [""] * n
    for pos, i in enumerate(order.tolist()):
        out[i] = names[sid[pos]]
    return out
