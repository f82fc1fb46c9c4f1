"""Accept only real raster images, recognised by their first bytes (never SVG: it can script)."""

from __future__ import annotations

from o2o.catalog.exceptions import InvalidPhoto

MAX_PHOTO_BYTES = 5 * 1024 * 1024
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"GIF87a", 0, "image/gif", ".gif"),
    (b"GIF89a", 0, "image/gif", ".gif"),
    (b"WEBP", 8, "image/webp", ".webp"),
)


def sniff_image(data: bytes) -> tuple[str, str]:
    """The content type and file suffix of an image; refuses anything else."""
    if not data:
        raise InvalidPhoto("The photo is empty.", field="file")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidPhoto("Photos must be at most 5 MB.", field="file")
    for magic, offset, content_type, suffix in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type, suffix
    raise InvalidPhoto("Upload a JPEG, PNG, GIF or WebP image.", field="file")
