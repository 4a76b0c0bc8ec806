"""Highlights: every index marks matches with two private-use characters, which become ``<mark>`` here.

Snippets are returned as HTML-escaped text with ``<mark>…</mark>`` around matches, so a browser may render
them as HTML without letting a ticket's text inject any. Document text never contains the two markers
(``clean`` drops them before indexing), so a ticket cannot forge a highlight either.
"""

from __future__ import annotations

import html
import unicodedata

START = "\ue000"
END = "\ue001"
ELLIPSIS = "…"
SNIPPET_WORDS = 24


def clean(text: str | None) -> str:
    """Return ``text`` as indexes store it: NFC, without the highlight markers."""
    if not text:
        return ""
    return unicodedata.normalize("NFC", text).replace(START, "").replace(END, "")


def marked(raw: str | None) -> bool:
    """Tell whether an index's raw snippet marks a match."""
    return bool(raw) and START in raw


def render(raw: str) -> str:
    """Turn an index's raw snippet into escaped HTML with ``<mark>`` around matches."""
    return html.escape(raw, quote=False).replace(START, "<mark>").replace(END, "</mark>")


def best(candidates: list[str | None]) -> str | None:
    """Render the first candidate that marks a match, else the first non-empty one (a plain excerpt)."""
    for raw in candidates:
        if marked(raw):
            return render(raw.strip())
    for raw in candidates:
        if raw and raw.strip():
            return render(raw.strip())
    return None
