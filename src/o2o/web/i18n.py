"""Languages of the pages: Babel catalogs, compiled on start, and the choice of locale.

The ``.po`` files are the source; ``.mo`` files are build output (not committed), written next
to them when missing or older than their ``.po``. Where the package directory is read-only,
the catalog is compiled in memory instead.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger("o2o.web")

LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# What people type or browsers send, mapped onto the locales we have.
_ALIASES = {
    "en": "en",
    "zh": "zh_CN",
    "zh_cn": "zh_CN",
    "zh_hans": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "zh_sg": "zh_CN",
}


def _compiled(po_path: Path) -> bytes:
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_catalog(po_path: Path) -> bytes:
    """The ``.mo`` bytes for a ``.po`` file, refreshing the ``.mo`` beside it when stale."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return mo_path.read_bytes()
    data = _compiled(po_path)
    try:
        tmp = mo_path.with_suffix(".mo.tmp")
        tmp.write_bytes(data)
        tmp.replace(mo_path)
    except OSError as exc:  # an installed, read-only package: keep it in memory
        log.info("could not write %s (%s); using the catalog from memory", mo_path, exc)
    return data


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, Translations]:
    """One ``Translations`` per supported locale, compiled from the ``.po`` sources."""
    out: dict[str, Translations] = {}
    for code in LOCALES:
        po = locale_dir / code / "LC_MESSAGES" / "messages.po"
        out[code] = Translations(fp=io.BytesIO(compile_catalog(po)), domain="messages")
    return out


def normalize(tag: str | None) -> str | None:
    """A supported locale for a language tag (``zh-CN``, ``zh_Hans``, ``en-GB``), or None."""
    if not tag:
        return None
    key = tag.strip().replace("-", "_").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    primary = key.split("_", 1)[0]
    return _ALIASES.get(primary)


def from_accept_language(header: str | None) -> str | None:
    """The best supported locale of an ``Accept-Language`` header, by its q-values."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalize(tag)
        if locale and quality > 0:
            choices.append((-quality, index, locale))
    return min(choices)[2] if choices else None


def choose_locale(
    query: str | None, cookies: Mapping[str, str], accept_language: str | None, *, cookie: str
) -> str:
    """``?lang=`` first, then the remembered cookie, then the browser's languages, then en."""
    return (
        normalize(query)
        or normalize(cookies.get(cookie))
        or from_accept_language(accept_language)
        or DEFAULT_LOCALE
    )
