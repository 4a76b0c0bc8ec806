"""Nameko dependency providers of the tickets service."""

from __future__ import annotations

from typing import Any

from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy


class UsersDirectory(RpcProxy):
    """Look people up in the users service (``get_user`` answers None for an unknown id)."""

    def __init__(self):
        super().__init__("users")

    def get_dependency(self, worker_ctx):
        proxy = super().get_dependency(worker_ctx)
        return _Directory(proxy)


class _Directory:
    def __init__(self, proxy):
        self._proxy = proxy

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        try:
            return self._proxy.get_user(user_id)
        except RemoteError as exc:
            if exc.exc_type == "UserNotFound":
                return None
            raise
