from __future__ import annotations

from o2o.core.errors import InvalidInput, NotFound


class UnknownRegion(InvalidInput):
    code = "unknown_region"


class RegionNotFound(NotFound):
    code = "region_not_found"
