"""Nameko dependency providers of the tickets service."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import eventlet
from nameko.exceptions import RemoteError
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy

from helpdesk_contracts.errors import Unavailable

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT_SECONDS = 5.0  # a reference checked over RPC (a department the projection does not know yet)


class UsersDirectory(RpcProxy):
    """Look people, departments and organizations up in the users service (None for an unknown id)."""

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

    def find_users(self, handles: list[str]) -> list[dict[str, Any]]:
        return self._proxy.find_users(handles)

    def get_department(self, department_id: str) -> dict[str, Any] | None:
        """Return a department, None if unknown; Unavailable when the users service does not answer in time."""
        return self._lookup("get_department", department_id, missing="DepartmentNotFound")

    def get_organization(self, organization_id: str) -> dict[str, Any] | None:
        """Return an organization, None if unknown; Unavailable when the users service does not answer in time."""
        return self._lookup("get_organization", organization_id, missing="OrganizationNotFound")

    def _lookup(self, method: str, object_id: str, *, missing: str) -> dict[str, Any] | None:
        # a caller waits on this: bounded, so an absent users service is a 503, not a hung request
        try:
            with eventlet.Timeout(LOOKUP_TIMEOUT_SECONDS, TimeoutError()):
                return getattr(self._proxy, method)(object_id)
        except TimeoutError:
            raise Unavailable("The users service did not answer in time; try again later.") from None
        except RemoteError as exc:
            if exc.exc_type == missing:
                return None
            raise

    def all_organizations(self, *, timeout: float, page_size: int = 100) -> tuple[list[dict[str, Any]], bool]:
        """Page through every organization; also tell whether the set stayed the same while paging."""
        return self._all("list_organizations", timeout=timeout, page_size=page_size)

    def all_departments(self, *, timeout: float, page_size: int = 100) -> tuple[list[dict[str, Any]], bool]:
        """Page through every department; also tell whether the set stayed the same while paging."""
        return self._all("list_departments", timeout=timeout, page_size=page_size)

    def _all(self, method: str, *, timeout: float, page_size: int) -> tuple[list[dict[str, Any]], bool]:
        """Page through a users listing; also tell whether the set stayed the same while paging.

        Each call waits at most ``timeout`` seconds (then TimeoutError), so a users service that is away
        never holds a worker, or the container's shutdown, for long.
        """
        listing: list[dict[str, Any]] = []
        totals: set[int] = set()
        page = 1
        while True:
            with eventlet.Timeout(timeout, TimeoutError(f"users.{method} did not answer within {timeout}s")):
                answer = getattr(self._proxy, method)(page=page, limit=page_size)
            listing.extend(answer["items"])
            totals.add(int(answer["total"]))
            if len(answer["items"]) < page_size or page * page_size >= answer["total"]:
                break
            page += 1
        return listing, len(totals) == 1 and len({o.get("id") for o in listing}) == next(iter(totals))


class SearchIndex(DependencyProvider):
    """Give workers the Elasticsearch ticket index when ``ELASTICSEARCH_URL`` is set, else None.

    None means the embedded index, which handlers open on their own unit of work. Config (service YAML,
    else the environment): ``ELASTICSEARCH_URL``, ``ELASTICSEARCH_INDEX`` (the alias, default ``tickets``),
    ``ELASTICSEARCH_TIMEOUT_SECONDS`` (default 5). One client per container: it is thread-safe, and its
    sockets are green under eventlet's monkey-patching. At start the template and the first index are set
    up in the background, so the service starts (and takes writes) while Elasticsearch is down.
    """

    def setup(self) -> None:
        self.index = None
        url = self._setting("ELASTICSEARCH_URL", "")
        if not url:
            return
        from services.tickets.adapters.search.elastic import ElasticsearchTicketSearchIndex, make_client

        client = make_client(url, timeout=float(self._setting("ELASTICSEARCH_TIMEOUT_SECONDS", "5")))
        self.index = ElasticsearchTicketSearchIndex(client, alias=self._setting("ELASTICSEARCH_INDEX", "tickets"))

    def start(self) -> None:
        if self.index is not None:
            self.container.spawn_managed_thread(self._prepare, identifier="search-index-setup")

    def stop(self) -> None:
        if self.index is not None:
            self.index.client.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.index

    def _setting(self, name: str, default: str) -> str:
        return str(self.container.config.get(name) or os.environ.get(name) or default)

    def _prepare(self) -> None:
        from elasticsearch import ApiError, TransportError

        try:
            self.index.ensure_index()
        except (ApiError, TransportError) as exc:  # down or refusing: the first indexed event tries again
            log.warning("could not set up the Elasticsearch ticket index yet: %r", exc)


class AttachmentStore(DependencyProvider):
    """Give workers the attachment storage: a local directory, ``ATTACHMENTS_DIR`` (default ``var/attachments``).

    The gateway writes uploads into the same storage, so both must see it (one host, a shared volume, or
    later an S3-compatible bucket behind the same port). One instance per container: it keeps no state.
    """

    def setup(self) -> None:
        from services.tickets.adapters.storage import LocalFileStorage, attachments_dir

        configured = self.container.config.get("ATTACHMENTS_DIR")
        self.storage = LocalFileStorage(Path(configured).resolve() if configured else attachments_dir())

    def get_dependency(self, worker_ctx):
        return self.storage
