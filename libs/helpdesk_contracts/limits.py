"""The limits every input is held to: what the databases and our encoders can hold, checked before use.

One set of rules for every client: the gateway applies them to each request (JSON bodies, query strings,
form fields and upload names) before authentication, and every service applies them to its RPC
arguments (``helpdesk_common.nameko_ext.HelpdeskRpc``), because RPC callers are clients too.

- JSON nests at most ``MAX_DEPTH`` levels (deeper, Python's parser and encoder recurse out of stack);
- text is valid Unicode without NUL: no lone UTF-16 surrogate (``"\\ud800"`` cannot be encoded to
  UTF-8, so the database driver or the JSON encoder fails on it) and no ``U+0000`` (PostgreSQL refuses
  NUL in text);
- integers fit a signed 64-bit column (``BIGINT``, SQLite's ``INTEGER``, an ``OFFSET``); numbers are
  finite (``NaN`` and ``Infinity`` are not JSON, and PostgreSQL's ``jsonb`` refuses them);
- a page's offset, ``(page - 1) * limit``, fits the same 64 bits: ``page`` is at most ``PAGE_MAX``;
- a moment stays within years 1 to 9999 once converted to UTC (what Python's ``datetime`` and both
  databases' timestamps hold).

Pure functions: they answer ``Problem``s (or raise ``ValidationFailed`` for RPC arguments), never touch I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from helpdesk_contracts.errors import ValidationFailed

MAX_DEPTH = 32
"""Levels of arrays and objects a JSON value may nest (``[[1]]`` is 2)."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

PAGE_LIMIT_MAX = 100
"""The most items one page of a list holds."""

PAGE_LIMIT_DEFAULT = 20
"""The items a page holds when the request names no ``limit``."""

PAGE_MAX = INT64_MAX // PAGE_LIMIT_MAX
"""The last page a list serves: ``(page - 1) * limit`` then fits a signed 64-bit ``OFFSET`` for any limit."""

WHOLE_BODY = "_schema"
"""Where a problem of the whole value is reported (the envelope's convention for the whole body)."""

TOO_DEEP = f"Nested more than {MAX_DEPTH} levels deep."
NOT_JSON = "Not valid JSON."
NUL_CHARACTER = "Must not contain NUL characters (U+0000)."
LONE_SURROGATE = "Must be valid Unicode text (no lone UTF-16 surrogate such as \\ud800)."
INTEGER_RANGE = f"Must be an integer between {INT64_MIN} and {INT64_MAX}."
NOT_FINITE = "Must be a finite number."
MOMENT_RANGE = "Must fall within the years 1 to 9999 once converted to UTC."


@dataclass(frozen=True)
class Problem:
    """Why an input is refused: the field (dotted path, ``_schema`` for the whole value) and a message.

    ``malformed`` problems are about the input's shape (not JSON, nested too deep), not one value:
    the gateway answers them 400, the others 422.
    """

    field: str
    message: str
    malformed: bool = False

    def as_errors(self) -> dict[str, list[str]]:
        """Return the problem as the envelope's ``{field: [message]}``."""
        return {self.field: [self.message]}


def text_problem(text: str) -> str | None:
    """Return why ``text`` cannot be stored (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return NUL_CHARACTER
    if not text.isascii():  # ASCII (the usual case) holds no surrogate: skip the encoding
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return LONE_SURROGATE
    return None


def integer_problem(number: int) -> str | None:
    """Return why ``number`` does not fit a signed 64-bit column, or None."""
    return None if INT64_MIN <= number <= INT64_MAX else INTEGER_RANGE


def value_problem(value: Any, field: str = "") -> Problem | None:
    """Return the first problem in a JSON-like value (nesting, text, keys, numbers), or None.

    ``field`` names the value; problems inside it are named by dotted paths (``metadata.size``,
    ``tags.0``), as the error envelope names nested fields.
    """
    return _walk(value, field, 0)


def _walk(value: Any, field: str, depth: int) -> Problem | None:
    # bool before int: True is an int, and always in range
    if isinstance(value, str):
        message = text_problem(value)
        return Problem(field or WHOLE_BODY, message) if message else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        message = integer_problem(value)
        return Problem(field or WHOLE_BODY, message) if message else None
    if isinstance(value, float):
        return None if math.isfinite(value) else Problem(field or WHOLE_BODY, NOT_FINITE)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return Problem(field or WHOLE_BODY, TOO_DEEP, malformed=True)
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            if isinstance(key, str) and (message := text_problem(key)):
                return Problem(field or WHOLE_BODY, f"A key {message[0].lower()}{message[1:]}")
            if (problem := _walk(item, name, depth + 1)) is not None:
                return problem
        return None
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            return Problem(field or WHOLE_BODY, TOO_DEEP, malformed=True)
        for index, item in enumerate(value):
            if (problem := _walk(item, f"{field}.{index}" if field else str(index), depth + 1)) is not None:
                return problem
    return None


def parse_json(raw: bytes | str) -> tuple[Any, Problem | None]:
    """Parse a JSON document and check it: answer ``(value, None)``, or ``(None, problem)`` when refused.

    Never raises for any input: a document too deep for Python's parser (which gives up with a
    RecursionError near the interpreter's recursion limit) is a ``malformed`` problem like one
    nested past ``MAX_DEPTH``.
    """
    try:
        value = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)  # JSON on the wire is UTF-8
    except RecursionError:
        return None, Problem(WHOLE_BODY, TOO_DEEP, malformed=True)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None, Problem(WHOLE_BODY, NOT_JSON, malformed=True)
    problem = value_problem(value)
    return (value, None) if problem is None else (None, problem)


def utc_moment(moment: datetime) -> datetime:
    """Return ``moment`` in UTC (a naive one is taken as UTC), or raise ValueError outside years 1 to 9999."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(MOMENT_RANGE) from None


def page_problem(page: int, limit: int) -> Problem | None:
    """Return why ``page``/``limit`` cannot be served (out of 1..PAGE_MAX, 1..PAGE_LIMIT_MAX), or None."""
    if not 1 <= page <= PAGE_MAX:
        return Problem("page", f"Must be between 1 and {PAGE_MAX}.")
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        return Problem("limit", f"Must be between 1 and {PAGE_LIMIT_MAX}.")
    return None


def check_arguments(arguments: Mapping[str, Any]) -> None:
    """Raise ValidationFailed naming the first argument (and the field in it) that breaks a limit."""
    for name, value in arguments.items():
        problem = _walk(value, name, 0)
        if problem is not None:
            raise ValidationFailed(f"Invalid input: {problem.field}: {problem.message}", problem.as_errors())
