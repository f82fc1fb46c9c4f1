"""Latitude/longitude to the engine's planar metres around a region's centre (pure).

An equirectangular projection: within a city (tens of kilometres) its error is well under the
straight-line travel model's own.
"""

from __future__ import annotations

import math

from o2o.delivery.model import Point

METRES_PER_DEGREE = 111_195.0


class Plane:
    def __init__(self, center_lat: float, center_lng: float) -> None:
        self.lat0 = center_lat
        self.lng0 = center_lng
        self._kx = METRES_PER_DEGREE * math.cos(math.radians(center_lat))

    def point(self, lat: float, lng: float) -> Point:
        return Point((lng - self.lng0) * self._kx, (lat - self.lat0) * METRES_PER_DEGREE)
