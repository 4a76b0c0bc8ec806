"""Pure rules of attachments: which files are accepted, what they are served as, and safe names."""

from __future__ import annotations

import re
import unicodedata

from helpdesk_contracts.vocabulary import FILENAME_MAX

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SNIFF_BYTES = 8192  # how much of the start of a file the content checks read

# extension → (the content type it is stored and served as, the kind its first bytes must show).
# The client's declared type is never trusted: it would let a page be served as text/html.
ALLOWED: dict[str, tuple[str, str]] = {
    "png": ("image/png", "png"),
    "jpg": ("image/jpeg", "jpeg"),
    "jpeg": ("image/jpeg", "jpeg"),
    "gif": ("image/gif", "gif"),
    "webp": ("image/webp", "webp"),
    "pdf": ("application/pdf", "pdf"),
    "txt": ("text/plain", "text"),
    "log": ("text/plain", "text"),
    "csv": ("text/csv", "text"),
    "eml": ("message/rfc822", "text"),
    "zip": ("application/zip", "zip"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "zip"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "zip"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "zip"),
}

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def extension(filename: str) -> str:
    """Return the lower-case extension of a file name ('' without one)."""
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def sanitize_filename(raw: str) -> str:
    """Return a name safe to show and to send back: no directories, control characters or reserved marks."""
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > FILENAME_MAX:  # keep the extension, which decides how the file is served
        ext = extension(name)
        keep = FILENAME_MAX - len(ext) - 1 if ext else FILENAME_MAX
        name = f"{name[:keep]}.{ext}" if ext else name[:keep]
    return name


def content_type_for(filename: str) -> str | None:
    """Return the content type an accepted file name is stored as, None if its extension is not allowed."""
    allowed = ALLOWED.get(extension(filename))
    return allowed[0] if allowed else None


def content_matches(filename: str, head: bytes) -> bool:
    """Tell whether the first bytes of a file are what its extension claims."""
    allowed = ALLOWED.get(extension(filename))
    if allowed is None:
        return False
    kind = allowed[1]
    if kind == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if kind == "text":
        return _is_text(head)
    return head.startswith(_SIGNATURES[kind])


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sniff window is still text; anything else is not
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


_STORAGE_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def storage_path(key: str) -> str:
    """Return where a storage key lives below the storage root: ``<2-char prefix>/<key>`` (ValueError if not a key)."""
    if not _STORAGE_KEY.match(key):
        raise ValueError("invalid storage key")
    return f"{key[:2]}/{key}"


def is_storage_key(key: str) -> bool:
    """Tell whether ``key`` is one the attachment storage hands out."""
    return bool(_STORAGE_KEY.match(key))
