"""Nameko dependency providers of the users service."""

from __future__ import annotations

from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.users.adapters.passwords import Argon2PasswordHasher


class PasswordHasher(DependencyProvider):
    """Argon2id hashing run in OS threads, so a login never stalls the other workers of this process."""

    def setup(self) -> None:
        self.hasher = Argon2PasswordHasher(run=tpool.execute)

    def get_dependency(self, worker_ctx) -> Argon2PasswordHasher:
        return self.hasher
