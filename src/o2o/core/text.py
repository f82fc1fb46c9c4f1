"""Search text for Chinese and English: jieba tokens plus lower-cased words.

Documents keep a space-separated bag of tokens; a query matches when each of its tokens occurs
in the bag (substring match, so "jack" finds "jacket" and 夹克 finds 夹克衫). Tokenising the
query with jieba lets "男士夹克" find "夹克 男士" even though the words are apart.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

_WORD = re.compile(r"[0-9a-z]+|[\u4e00-\u9fff]+", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_QUERY_TOKENS = 8


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Lower-cased tokens of a text in any mix of Chinese and English."""
    out: list[str] = []
    for chunk in _WORD.findall(text.lower()):
        if _CJK.match(chunk):
            out.append(chunk)
            out.extend(t for t in _jieba().cut_for_search(chunk) if t.strip() and t != chunk)
        else:
            out.append(chunk)
    return out


def search_document(*parts: str | None) -> str:
    """The bag of tokens stored beside a searchable row."""
    seen: dict[str, None] = {}
    for part in parts:
        if part:
            for token in tokens(part):
                seen.setdefault(token, None)
    return " " + " ".join(seen) + " "


def query_terms(query: str) -> list[str]:
    """The terms a query requires, longest first, at most ``MAX_QUERY_TOKENS``."""
    terms: dict[str, None] = {}
    for chunk in _WORD.findall(query.lower()):
        if _CJK.match(chunk):
            for token in _jieba().cut(chunk):
                if token.strip():
                    terms.setdefault(token, None)
        else:
            terms.setdefault(chunk, None)
    # A term contained in a longer one adds nothing.
    ordered = sorted(terms, key=len, reverse=True)
    kept: list[str] = []
    for term in ordered:
        if not any(term in longer for longer in kept):
            kept.append(term)
    return kept[:MAX_QUERY_TOKENS]


def like_pattern(term: str) -> str:
    """A LIKE pattern for a term, with LIKE's wildcards escaped (escape char ``\\``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
