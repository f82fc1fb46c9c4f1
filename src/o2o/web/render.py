"""Templates: the Jinja environment, formatting filters, and responses that carry cookies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import get_day_names
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from o2o import __version__
from o2o.web import deps

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    translations: Translations = ctx["translations"]
    return str(translations.gettext(message))


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    translations: Translations = ctx["translations"]
    return str(translations.ngettext(singular, plural, n))


def money(minor: int, currency: str, locale: str) -> str:
    """Integer minor units as the locale writes the amount (``¥25.00``, ``CN¥25.00``)."""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    pattern = "¤#,##0" if amount == amount.to_integral_value() else "¤#,##0.00"
    text = str(format_currency(amount, currency, pattern, locale=locale, currency_digits=False))
    # Shoppers in China read "¥", not the international "CN¥".
    return text.replace("CN¥", "¥")


def distance(translations: Translations, metres: float | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return str(translations.gettext("%(n)s m") % {"n": int(round(metres, -1) or 10)})
    km = f"{metres / 1000:.0f}" if metres >= 10_000 else f"{metres / 1000:.1f}"
    return str(translations.gettext("%(n)s km") % {"n": km})


def delivery_minutes(metres: float) -> int:
    """A rough promise shown on cards: preparation plus riding at ~12 km/h, rounded to 5."""
    minutes = 15 + metres / 200
    return int(5 * round(minutes / 5))


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    env.globals["delivery_minutes"] = delivery_minutes
    return env


class Pages:
    """What every page needs, built once in ``create_app``."""

    def __init__(self, translations: dict[str, Translations]) -> None:
        self.env = build_environment()
        self.translations = translations


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def translations_for(request: Request) -> Translations:
    return pages_of(request).translations[deps.state(request).locale]


def gettext(request: Request, message: str, **values: Any) -> str:
    text = str(translations_for(request).gettext(message))
    return text % values if values else text


def url_with(request: Request, **params: str | None) -> str:
    """This page's URL with some query parameters replaced (None removes one)."""
    query = dict(request.query_params)
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def base_context(request: Request) -> dict[str, Any]:
    st = deps.state(request)
    settings = deps.settings_of(request)
    translations = translations_for(request)
    zh = st.locale == "zh_CN"

    def pick(obj: Any, name: str) -> str:
        """The Chinese or English form of a field (``name`` / ``name_zh``)."""
        if isinstance(obj, dict):
            value = obj.get(f"{name}_zh") if zh else obj.get(name)
            return str(value or obj.get(name) or "")
        value = getattr(obj, f"{name}_zh", None) if zh else getattr(obj, name, None)
        return str(value or getattr(obj, name, "") or "")

    return {
        "request": request,
        "translations": translations,
        "locale": st.locale,
        "lang_attr": "zh-CN" if zh else "en",
        "zh": zh,
        "viewer": st.viewer,
        "settings": settings,
        "csrf_token": deps.csrf_token(request),
        "csrf_field": deps.CSRF_FIELD,
        "version": __version__,
        "pick": pick,
        # The message itself, unformatted: for strings with placeholders that scripts fill in.
        "gt": lambda message: str(translations.gettext(message)),
        "url_with": lambda **kw: url_with(request, **kw),
        "distance": lambda m: distance(translations, m),
        "money": lambda minor, currency="CNY": money(minor, currency, st.locale),
        "number": lambda n: format_decimal(n, locale=st.locale),
        "day_names": get_day_names("wide", locale=st.locale),
    }


def apply_cookies(request: Request, response: Response) -> Response:
    settings = deps.settings_of(request)
    secure = settings.base_url.startswith("https://")
    for cookie in deps.state(request).cookies:
        if cookie.value is None:
            response.delete_cookie(cookie.name, path="/", samesite="lax", httponly=True)
            continue
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            path="/",
            httponly=cookie.httponly,
            samesite="lax",
            secure=secure,
        )
    return response


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render a template with the page context; pending cookies ride along."""
    ctx = base_context(request)
    ctx.update(context or {})
    html = pages_of(request).env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status)
    apply_cookies(request, response)
    return response


def redirect(request: Request, url: str, *, status: int = 303) -> RedirectResponse:
    response = RedirectResponse(url, status_code=status)
    apply_cookies(request, response)
    return response


def safe_next(url: str | None, default: str = "/") -> str:
    """Only local paths are followed after login (no open redirects)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url
