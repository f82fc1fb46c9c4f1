"""QR codes on pages: the catalog's SVG, made to scale with its box (full screen on tap)."""

from __future__ import annotations

import re

from o2o.catalog.labels import qr_svg

_SIZE = re.compile(r'<svg([^>]*?) width="(\d+)" height="(\d+)"')


def scalable_qr(data: str, *, scale: int = 8) -> str:
    """The QR as SVG with a ``viewBox``, so CSS can size it without cropping it."""
    svg = qr_svg(data, scale=scale)
    return _SIZE.sub(r'<svg\1 viewBox="0 0 \2 \3" width="\2" height="\3"', svg, count=1)
