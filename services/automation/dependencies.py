"""Nameko dependency providers of the automation service: the tickets service it acts through, and the
users directory it reads staff and departments from (both over RPC, each call bounded in time)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import eventlet
from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy

from helpdesk_common.context import COMMAND_ID_KEY, FINGERPRINT_KEY
from helpdesk_contracts.vocabulary import STAFF_ROLES
from services.automation.domain.errors import (
    ActionRefused,
    AssigneeRefused,
    TicketChanged,
    TicketNotFound,
    Unavailable,
)

SYSTEM = {"id": None, "role": "system", "via": "automation"}
CALL_TIMEOUT_SECONDS = 10.0
PAGE_SIZE = 100
WORKING = ["new", "open", "in_progress"]


def _bounded(call, *args, **kwargs):
    try:
        with eventlet.Timeout(CALL_TIMEOUT_SECONDS, TimeoutError()):
            return call(*args, **kwargs)
    except TimeoutError:
        raise Unavailable("A service the router asks did not answer in time.") from None


def _pages(fetch) -> Iterator[list[dict[str, Any]]]:
    page = 1
    while True:
        answer = _bounded(fetch, page)
        items = list(answer["items"])
        if items:
            yield items
        if len(items) < PAGE_SIZE or page * PAGE_SIZE >= int(answer["total"]):
            return
        page += 1


class TicketsDesk(RpcProxy):
    """The tickets service as the router uses it: as the ``system`` actor (see ``handlers.ports.TicketDesk``)."""

    def __init__(self):
        super().__init__("tickets")

    def get_dependency(self, worker_ctx):
        return _Desk(super().get_dependency(worker_ctx), worker_ctx)


class _Desk:
    def __init__(self, proxy, worker_ctx=None):
        self._proxy = proxy
        self._worker_ctx = worker_ctx

    def act(self, method: str, ticket_id: str, *, via: str, command_id: str, **arguments: Any) -> dict[str, Any]:
        """Call a tickets command as the system actor under ``command_id`` (sent as its fingerprint too, so
        the tickets service looks it up: the same command sent again - this event handled again after a
        crash - is answered from its record instead of acting twice)."""
        data = self._worker_ctx.data if self._worker_ctx is not None else {}
        data[COMMAND_ID_KEY] = data[FINGERPRINT_KEY] = command_id
        try:
            return _bounded(getattr(self._proxy, method), ticket_id, actor={**SYSTEM, "via": via}, **arguments)
        except RemoteError as exc:
            if exc.exc_type == "TicketNotFound":
                raise TicketNotFound(str(exc)) from None
            if exc.exc_type in ("ValidationFailed", "UserNotFound", "DepartmentNotFound", "IllegalTransition",
                                "Conflict", "PermissionDenied", "StaleTicket"):
                raise ActionRefused(exc.value or str(exc)) from None
            raise
        finally:
            data.pop(COMMAND_ID_KEY, None)
            data.pop(FINGERPRINT_KEY, None)

    def assign(self, ticket_id: str, assignee_id: str, *, expected_version: int, via: str) -> dict[str, Any]:
        try:
            return _bounded(self._proxy.assign, ticket_id, {**SYSTEM, "via": via}, assignee_id=assignee_id,
                            set_assignee=True, expected_version=expected_version)
        except RemoteError as exc:
            if exc.exc_type in ("StaleTicket", "IllegalTransition", "Conflict"):
                raise TicketChanged(str(exc)) from None
            if exc.exc_type == "TicketNotFound":
                raise TicketChanged(str(exc)) from None  # re-read: it is gone
            if exc.exc_type in ("ValidationFailed", "UserNotFound"):
                raise AssigneeRefused(str(exc)) from None
            raise

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        try:
            return _bounded(self._proxy.get, ticket_id, SYSTEM)
        except RemoteError as exc:
            if exc.exc_type == TicketNotFound.__name__:
                return None
            raise

    def get_as(self, ticket_id: str, actor: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return _bounded(self._proxy.get, ticket_id, actor)
        except RemoteError as exc:
            if exc.exc_type in (TicketNotFound.__name__, "PermissionDenied", "ValidationFailed"):
                return None
            raise

    def working(self) -> Iterator[list[dict[str, Any]]]:
        return _pages(lambda page: self._proxy.list(SYSTEM, filters={"status": WORKING}, page=page, limit=PAGE_SIZE,
                                                    sort_by="created_at", sort_order="asc"))


class UsersDirectory(RpcProxy):
    """The users service as the router reads it (see ``handlers.ports.Directory``)."""

    def __init__(self):
        super().__init__("users")

    def get_dependency(self, worker_ctx):
        return _Directory(super().get_dependency(worker_ctx))


class _Directory:
    def __init__(self, proxy):
        self._proxy = proxy

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        try:
            return _bounded(self._proxy.get_user, user_id)
        except RemoteError as exc:
            if exc.exc_type == "UserNotFound":
                return None
            raise

    def get_organization(self, organization_id: str) -> dict[str, Any] | None:
        try:
            return _bounded(self._proxy.get_organization, organization_id)
        except RemoteError as exc:
            if exc.exc_type == "OrganizationNotFound":
                return None
            raise

    def department_exists(self, department_id: str) -> bool:
        try:
            _bounded(self._proxy.get_department, department_id)
        except RemoteError as exc:
            if exc.exc_type == "DepartmentNotFound":
                return False
            raise
        return True

    def staff(self) -> Iterator[list[dict[str, Any]]]:
        for role in STAFF_ROLES:
            yield from _pages(lambda page, role=role: self._proxy.list_users(
                filters={"role": role}, page=page, limit=PAGE_SIZE))
