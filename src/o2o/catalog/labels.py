"""Product label QR codes: scanning one in a store opens the product's availability page."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno


def label_url(base_url: str, *, product_id: int, store_id: int | None = None) -> str:
    query = f"?{urlencode({'store': store_id})}" if store_id is not None else ""
    return f"{base_url.rstrip('/')}/p/{product_id}{query}"


def qr_svg(data: str, *, scale: int = 4) -> str:
    """An SVG QR code (error correction M: labels get scuffed)."""
    qr = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=2, xmldecl=False, title=data)
    return out.getvalue().decode()
