"""Travel times behind one interface, so a road-routing service can replace the straight line.

A dispatch round asks for a whole matrix at once (couriers × stores), which is what routing
services (OSRM's and Valhalla's table calls) answer cheaply too.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from o2o.delivery.model import Point

Matrix = NDArray[np.float64]


class Travel(Protocol):
    def seconds(self, a: Point, b: Point, speed: float) -> float:
        """Travel time from ``a`` to ``b`` at ``speed`` metres per second."""
        ...

    def matrix(self, origins: Matrix, destinations: Matrix, speeds: Matrix) -> Matrix:
        """Seconds from each origin (n × 2 metres, speeds n) to each destination (m × 2)."""
        ...


class StraightLine:
    """Euclidean distance over the vehicle's speed, optionally rounded up to whole
    ``step`` seconds (the MDRP rule is ceil(distance / speed) in minutes: ``step=60``)."""

    def __init__(self, step: float = 0.0) -> None:
        self.step = step

    def _round(self, seconds: float) -> float:
        if self.step <= 0:
            return seconds
        # a hair under the step first: 640 m at 320 m/min is 2 minutes, not 3 from float noise
        return math.ceil(seconds / self.step - 1e-9) * self.step

    def seconds(self, a: Point, b: Point, speed: float) -> float:
        return self._round(math.hypot(a.x - b.x, a.y - b.y) / speed)

    def matrix(self, origins: Matrix, destinations: Matrix, speeds: Matrix) -> Matrix:
        delta = origins[:, None, :] - destinations[None, :, :]
        out: Matrix = np.sqrt((delta**2).sum(axis=2)) / speeds[:, None]
        if self.step > 0:
            out = np.ceil(out / self.step - 1e-9) * self.step
        return out
