"""How ticket categories are loaded and stored (plain rows: a category has no behaviour of its own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.tickets.adapters.orm import categories
from services.tickets.domain.errors import NotFound


class SqlAlchemyCategoryRepository:
    """Categories in the tickets database."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, row: dict[str, Any]) -> None:
        self.session.execute(insert(categories).values(**row))

    def get(self, category_id: str, *, for_update: bool = False) -> dict[str, Any]:
        query = select(categories).where(categories.c.id == category_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            raise NotFound("No such category.")  # contract class: errors cross RPC by name
        return dict(row._mapping)

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        """Return the category of this name, ignoring case (names are unique that way too)."""
        row = self.session.execute(
            select(categories).where(func.lower(categories.c.name) == name.strip().lower())
        ).first()
        return dict(row._mapping) if row else None

    def list(self) -> list[dict[str, Any]]:
        query = select(categories).order_by(func.lower(categories.c.name), categories.c.id)
        return [dict(row._mapping) for row in self.session.execute(query)]

    def change(self, category_id: str, values: dict[str, Any]) -> None:
        self.session.execute(update(categories).where(categories.c.id == category_id).values(**values))

    def remove(self, category_id: str) -> None:
        self.session.execute(delete(categories).where(categories.c.id == category_id))
