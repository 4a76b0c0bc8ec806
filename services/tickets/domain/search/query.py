"""The search syntax every ticket index understands, and the text folding they share.

Syntax: words (every one must match), ``"quoted phrases"`` (adjacent words, in order) and ``prefix*`` (on a
word, or on a phrase's last word: ``"wi fi"*``). Anything else is text: ``AND``/``OR``/``-`` are plain
words, and punctuation separates words, so ``e-mail`` is the phrase ``"e mail"`` and ``TKT-000042`` the
phrase ``"tkt 000042"`` — which is also how the indexes split the documents, so both sides agree.

Matching ignores case and diacritics (``camara`` finds ``cámara`` and the other way round) and does not
stem: the embedded indexes behave the same on SQLite and PostgreSQL, for Spanish and English alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from helpdesk_contracts.vocabulary import SEARCH_MAX

MAX_QUERY_CHARS = SEARCH_MAX
"""The longest query accepted (the list's ``q`` filter has the same limit)."""

MAX_TERMS = 32
"""Terms beyond this many are dropped: a query is typed by a person, not generated."""

MAX_WORD_CHARS = 200
"""Longer "words" (pasted hashes, base64) are not indexed nor searched: PostgreSQL caps lexemes at 2 kB."""

# runs of letters and digits; ``_`` separates, as in SQLite's unicode61 tokenizer
_WORD = re.compile(r"[^\W_]+")
# a quoted phrase (an unclosed quote runs to the end) with an optional trailing *, or a bare chunk
_CHUNK = re.compile(r'"([^"]*)(?:"|$)(\*?)|([^\s"]+)')


def unaccent(text: str) -> str:
    """Return ``text`` without diacritics, character for character (``Cámara`` → ``Camara``).

    A character whose base is not one character (a ligature, a lone combining mark) is kept as it is,
    so the result is exactly as long as ``text`` once that is NFC: offsets in one are offsets in the other.
    """
    if text.isascii():
        return text
    return "".join(char if char.isascii() else _unaccented(char) for char in unicodedata.normalize("NFC", text))


@lru_cache(maxsize=4096)
def _unaccented(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base if len(base) == 1 else char


def words(text: str) -> list[str]:
    """Split ``text`` into the lower-cased, unaccented words that are indexed and searched."""
    return [w for w in _WORD.findall(unaccent(text.lower())) if len(w) <= MAX_WORD_CHARS]


@dataclass(frozen=True)
class Term:
    """Words that must appear together, in order; ``prefix`` lets the last one be a word's start."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class SearchQuery:
    """Terms that must all match."""

    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse(raw: str | SearchQuery | None) -> SearchQuery:
    """Read what a person typed into the search box; an empty result means nothing to look for."""
    if isinstance(raw, SearchQuery):
        return raw
    terms: list[Term] = []
    for match in _CHUNK.finditer(unicodedata.normalize("NFC", raw or "")):
        quoted, star, bare = match.groups()
        if bare is not None:
            found, prefix = words(bare), bare.endswith("*")
        else:
            found, prefix = words(quoted), bool(star)
        term = Term(tuple(found), prefix)
        if found and term not in terms:
            terms.append(term)
    return SearchQuery(tuple(terms[:MAX_TERMS]))
