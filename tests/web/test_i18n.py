"""Catalogs, locale choice and the small parsers behind the forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from o2o.web import i18n, views
from o2o.web.render import money


def test_every_message_has_a_chinese_translation() -> None:
    po = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    missing = [
        m.id
        for m in catalog
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert missing == []
    assert len(catalog) > 150


def test_catalogs_compile_when_missing_or_stale(tmp_path: Path) -> None:
    source = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    po = tmp_path / "zh_CN" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes(source.read_bytes())
    (tmp_path / "en" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "en" / "LC_MESSAGES" / "messages.po").write_bytes(
        (i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").read_bytes()
    )
    translations = i18n.load_translations(tmp_path)
    assert po.with_suffix(".mo").exists()
    assert translations["zh_CN"].gettext("Nearby") == "附近"
    assert translations["en"].gettext("Nearby") == "Nearby"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("zh_CN", None, None, "zh_CN"),
        ("zh-cn", "en", None, "zh_CN"),
        (None, "zh_CN", "en", "zh_CN"),
        (None, None, "fr-FR,zh-Hans;q=0.8,en;q=0.5", "zh_CN"),
        (None, None, "en-GB,zh;q=0.9", "en"),
        (None, None, "de", "en"),
        ("klingon", None, None, "en"),
        (None, None, "zh;q=abc, en;q=0.1", "en"),
    ],
)
def test_locale_choice(
    query: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    cookies = {"o2o_lang": cookie} if cookie else {}
    assert i18n.choose_locale(query, cookies, header, cookie="o2o_lang") == expected


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("10:00-22:00", [[600, 1320]]),
        ("10:00-14:00, 17:00-22:00", [[600, 840], [1020, 1320]]),
        ("18:00-02:00", [[1080, 1560]]),
        ("0:00-24:00", [[0, 1440]]),
        ("9-17", [[540, 1020]]),
        ("", []),
    ],
)
def test_parse_day(text: str, spans: list[list[int]]) -> None:
    assert views.parse_day(text) == spans


@pytest.mark.parametrize("text", ["ten", "10:00", "25:00-26:00", "10:61-11:00", "24:30-01:00"])
def test_parse_day_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message is the bad text itself)
        views.parse_day(text)


def test_money_is_written_as_shoppers_read_it() -> None:
    assert money(49900, "CNY", "en") == "¥499"
    assert money(1590, "CNY", "zh_CN") == "¥15.90"
    assert money(1290000, "CNY", "en") == "¥12,900"
