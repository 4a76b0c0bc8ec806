"""The tickets service's copy of what it needs to know about departments: which exist.

Fed by the users service's ``department.*`` events (see ``references.project_department``) and reconciled
with its listing, so checking a ticket's ``department_id`` rarely waits on another service. A deleted
department stays as a tombstone (``deleted``), so that a late ``department.updated`` cannot revive it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, String, Table, select, update
from sqlalchemy.orm import Session

from helpdesk_common.db import UtcDateTime, insert_if_absent
from services.tickets.adapters.orm import metadata

departments = Table(
    "ticket_departments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

class SqlAlchemyDepartmentRepository:
    """Department rows (id, deleted, as of updated_at) in the tickets database."""

    def __init__(self, session: Session):
        self.session = session

    def find(self, department_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(departments).where(departments.c.id == department_id)).first()
        return dict(row._mapping) if row is not None else None

    def exists(self, department_id: str) -> bool | None:
        """Tell whether a department exists: True, False (deleted), or None when this copy never heard of it."""
        row = self.find(department_id)
        return None if row is None else not row["deleted"]

    def alive_older_than(self, moment: datetime) -> list[str]:
        """Return the ids of departments stored as existing whose last known fact is older than ``moment``."""
        return list(self.session.scalars(select(departments.c.id).where(
            departments.c.deleted.is_(False), departments.c.updated_at < moment)))

    def remember(self, department_id: str, *, as_of: datetime) -> None:
        """Store a department the users service just confirmed, unless a row for it is already there.

        Insert-if-absent in one statement: two requests confirming the same department at once both succeed
        (the second one's insert does nothing), and an event stored meanwhile is never overwritten.
        """
        insert_if_absent(self.session, departments, {"id": department_id, "deleted": False, "updated_at": as_of})

    def apply(self, department_id: str, *, deleted: bool, as_of: datetime) -> bool:
        """Store what an event (or a listing) says unless a newer fact is already stored; tell whether it was.

        A deletion is final: nothing revives a tombstone. Two transactions storing the same new department at
        once (an event and the listing, or two replicas): one inserts, the other then finds the row.
        """
        query = (select(departments.c.updated_at, departments.c.deleted)
                 .where(departments.c.id == department_id).with_for_update())
        current = self.session.execute(query).first()
        if current is None:
            if insert_if_absent(self.session, departments,
                                {"id": department_id, "deleted": deleted, "updated_at": as_of}):
                return True
            current = self.session.execute(query).one()
        if current.deleted or (as_of < current.updated_at and not deleted):
            return False  # already gone, or an older event arriving late
        self.session.execute(update(departments).where(departments.c.id == department_id)
                             .values(deleted=deleted, updated_at=max(as_of, current.updated_at)))
        return True
