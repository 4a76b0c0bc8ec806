"""When two names are the same name: the key admin-managed names are unique by.

Categories, departments and organizations (and later SLA policies, rules, templates) are unique by
``name_key(name)``, stored next to the name under a unique index, so the database holds the rule too.
The key ignores case in full Unicode (case folding, not ASCII lowering: ``É…`` and ``é…`` are one name),
compatibility forms (NFKC: a full-width ``Ａ`` is ``A``, the ligature ``ﬁ`` is ``fi``) and blanks around
and between words. Changing this function changes which stored names collide: it needs a migration that
recomputes every key.
"""

from __future__ import annotations

import unicodedata

from helpdesk_contracts.errors import ValidationFailed

NAME_KEY_MAX_CHARS = 400
"""Longest key stored (folding may lengthen a name: ``ß`` is ``ss``, one ligature is up to 18 characters)."""


def fold_name(name: str) -> str:
    """Return ``name`` normalised (NFKC), case-folded, normalised again, with blanks collapsed to one space."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def name_key(name: str, *, field: str = "name") -> str:
    """Return the key that ``name`` is unique by; refuse a name whose key would not fit its column."""
    key = fold_name(name)
    if len(key) > NAME_KEY_MAX_CHARS:
        raise ValidationFailed(f"The {field} is too long.",
                               {field: [f"At most {NAME_KEY_MAX_CHARS} characters once case and width are folded."]})
    return key


def unique_names(rows: list[tuple[str, str]], *, max_chars: int) -> dict[str, tuple[str, str]]:
    """Give every (id, name), oldest first, a name whose key no earlier one has: ``{id: (name, key)}``.

    For migrations that add a key to names stored before it: the first of colliding names keeps its name,
    each later one becomes ``<name> (2)``, ``(3)``, … cut to fit ``max_chars``.
    """
    taken: set[str] = set()
    answer: dict[str, tuple[str, str]] = {}
    for row_id, name in rows:
        candidate, n = name, 1
        while fold_name(candidate)[:NAME_KEY_MAX_CHARS] in taken:
            n += 1
            suffix = f" ({n})"
            candidate = name[: max_chars - len(suffix)] + suffix
        key = fold_name(candidate)[:NAME_KEY_MAX_CHARS]
        taken.add(key)
        answer[row_id] = (candidate, key)
    return answer
