"""Uploaded files (product photos), served from the storage."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from o2o.core.errors import NotFound
from o2o.http.deps import storage_of

router = APIRouter(include_in_schema=False)
TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp"}


@router.get("/media/{key:path}")
async def media(request: Request, key: str) -> Response:
    suffix = "." + key.rsplit(".", 1)[-1] if "." in key else ""
    if suffix not in TYPES or ".." in key.split("/"):
        raise NotFound("No such file.")
    try:
        data = storage_of(request).read(key)
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise NotFound("No such file.") from exc
    return Response(
        data,
        media_type=TYPES[suffix],
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
