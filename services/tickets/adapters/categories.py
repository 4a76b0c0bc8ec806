"""How ticket categories are loaded and stored (plain rows: a category has no behaviour of its own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk_contracts.names import fold_name, name_key
from services.tickets.adapters.orm import categories
from services.tickets.domain.errors import NotFound, category_name_taken

name_taken = category_name_taken  # kept here for callers of the adapter; the message is the domain's


class SqlAlchemyCategoryRepository:
    """Categories in the tickets database.

    Lookups by name are kept for the rest of the transaction (the repository lives as long as its unit of
    work): a command that files a ticket under a category and then answers and emits the ticket, whose
    snapshot names the category's ``required_skills``, reads the category once. Writes through this
    repository forget what was kept.
    """

    def __init__(self, session: Session):
        self.session = session
        self._by_key: dict[str, dict[str, Any] | None] = {}

    def add(self, row: dict[str, Any]) -> None:
        """Insert a category (its ``name_key`` from its name); a name taken meanwhile is a Conflict.

        The handler's check names the existing category; this covers the concurrent create that passed the
        same check (the unique index decides, on PostgreSQL as on SQLite).
        """
        self._by_key.clear()
        self._unique(insert(categories).values(**row, name_key=name_key(row["name"])), row["name"])

    def get(self, category_id: str, *, for_update: bool = False) -> dict[str, Any]:
        query = select(categories).where(categories.c.id == category_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            raise NotFound("No such category.")  # contract class: errors cross RPC by name
        return dict(row._mapping)

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        """Return the category of this name, ignoring case, width and spacing (``helpdesk_contracts.names``)."""
        key = fold_name(name)
        if key not in self._by_key:
            row = self.session.execute(select(categories).where(categories.c.name_key == key)).first()
            self._by_key[key] = dict(row._mapping) if row else None
        found = self._by_key[key]
        return dict(found) if found is not None else None

    def find_by_names(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the categories of these names (as ``find_by_name`` matches them), keyed by the names given,
        in one query at most; names of no category are left out."""
        keys = {name: fold_name(name) for name in set(names)}
        missing = set(keys.values()) - self._by_key.keys()
        if missing:
            self._by_key.update(dict.fromkeys(missing))
            query = select(categories).where(categories.c.name_key.in_(sorted(missing)))
            self._by_key.update({row.name_key: dict(row._mapping) for row in self.session.execute(query)})
        return {name: dict(self._by_key[key]) for name, key in keys.items() if self._by_key[key] is not None}

    def list(self) -> list[dict[str, Any]]:
        query = select(categories).order_by(func.lower(categories.c.name), categories.c.id)
        return [dict(row._mapping) for row in self.session.execute(query)]

    def change(self, category_id: str, values: dict[str, Any]) -> None:
        """Change a category's columns (a new name brings its new key); a name taken meanwhile is a Conflict."""
        if "name" in values:
            values = {**values, "name_key": name_key(values["name"])}
        self._by_key.clear()
        self._unique(update(categories).where(categories.c.id == category_id).values(**values), values.get("name"))

    def _unique(self, statement: Any, name: str | None) -> None:
        # the transaction is lost with the race (rolled back, the error answered), as the check would have had it
        try:
            self.session.execute(statement)
        except IntegrityError:
            if name is None:
                raise
            self.session.rollback()
            raise name_taken(name) from None

    def remove(self, category_id: str) -> None:
        self._by_key.clear()
        self.session.execute(delete(categories).where(categories.c.id == category_id))
