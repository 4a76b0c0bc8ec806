"""Password hashing with Argon2id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


def _run_inline(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class Argon2PasswordHasher:
    """Argon2id (m = 19 MiB, t = 2, p = 1: the OWASP baseline).

    ``run`` executes the CPU-bound hashing; services pass a thread-pool runner so the event loop keeps
    serving other requests meanwhile.
    """

    def __init__(self, *, run: Callable[..., Any] = _run_inline, time_cost: int = 2, memory_cost: int = 19456):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1, type=Type.ID)
        self._run = run
        # verifying unknown e-mails against this keeps their timing close to a wrong password's
        self._dummy = self._hasher.hash("not-a-real-password-0")

    def hash(self, password: str) -> str:
        return self._run(self._hasher.hash, password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return bool(self._run(self._hasher.verify, password_hash or self._dummy, password)) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
