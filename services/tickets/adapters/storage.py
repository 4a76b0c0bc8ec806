"""Where attachment bytes live: the storage port and its local-directory implementation.

The database holds the metadata; the bytes are stored under a random key. An S3-compatible store would
implement the same three methods.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from helpdesk_common.config import var_dir
from services.tickets.domain.attachments import storage_path

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The stream is longer than the storage was told to accept (nothing was kept)."""


class AttachmentStorage(Protocol):
    """Bytes by key."""

    def put(self, key: str, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[int, str]:
        """Store a stream under ``key``; return its size and SHA-256 (hex). ``TooLarge`` past ``max_bytes``."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the bytes stored under ``key`` for reading (``FileNotFoundError`` if there are none)."""
        ...

    def delete(self, key: str) -> None:
        """Forget the bytes under ``key`` (nothing to do if there are none)."""
        ...


def attachments_dir() -> Path:
    """Return ``ATTACHMENTS_DIR``, default ``<var dir>/attachments`` (the gateway reads the same setting)."""
    raw = os.environ.get("ATTACHMENTS_DIR")
    return Path(raw).resolve() if raw else var_dir() / "attachments"


relative_path = storage_path  # the rule is the domain's: handlers check keys without this adapter


class LocalFileStorage:
    """Attachments as files below one directory, written to a temporary file then renamed (atomic)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / relative_path(key)

    def put(self, key: str, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[int, str]:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge()
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
