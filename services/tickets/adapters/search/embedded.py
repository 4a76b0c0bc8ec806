"""The embedded ticket index: SQLite FTS5 or PostgreSQL ``tsvector``, inside the tickets database.

(Over 400 lines on purpose: the shared base and its two dialects are read side by side, each overriding
the same few methods; split, a reader would hold three files to compare them.)

Handlers write it in the transaction of the ticket change, so it is never behind and never ahead of the
tickets table: a search right after a commit finds the change. It holds only text (``ticket_search``: one
row per ticket); visibility, the list's filters and recency come from joining the tickets table with the
repository's own conditions, so search and list can never disagree about who sees what.

SQLite: ``ticket_search`` is the external content of the FTS5 table ``ticket_search_fts`` (tokenizer
``unicode61 remove_diacritics 2``), kept in step by triggers; ranking is ``bm25`` with column weights,
highlights ``snippet()``.

PostgreSQL: ``ticket_search`` carries two ``tsvector`` columns with GIN indexes, one of the public text and
one with internal notes too (for staff). They are built here from ``query.words`` — number and title
weighted A, tags B, description and replies C, internal notes D — rather than by ``to_tsvector``: the
words are then exactly those SQLite and the query parser see (accents folded, no stemming, no stop words),
with no extension such as ``unaccent`` to install. Ranking is ``ts_rank``; highlights ``ts_headline`` over
the unaccented text, mapped back onto the original characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy import delete as sql_delete
from sqlalchemy import table as sql_table
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.visitors import replacement_traverse

from helpdesk_common.writebehind import defer
from services.tickets.adapters.orm import tickets
from services.tickets.adapters.repository import SORTABLE, SqlAlchemyTicketRepository
from services.tickets.domain.rules import Actor
from services.tickets.domain.search.highlight import ELLIPSIS, END, SNIPPET_WORDS, START, best
from services.tickets.domain.search.port import SearchDocument, SearchResult, join_thread
from services.tickets.domain.search.query import SearchQuery, parse, unaccent, words

TEXT_COLUMNS = ("number", "title", "tags", "description", "comments", "internal")
PUBLIC_COLUMNS = TEXT_COLUMNS[:-1]
# where a highlight is cut from, in order of preference (internal notes for staff only)
SNIPPET_COLUMNS = ("description", "comments", "internal", "title")


def _text_columns() -> list[Column]:
    return [Column(name, Text, nullable=False, server_default="") for name in TEXT_COLUMNS]


def embedded_index(db: Any) -> EmbeddedTicketSearchIndex:
    """Return the embedded index on ``db`` (a Session or Connection), in its transaction."""
    bind = db.get_bind() if hasattr(db, "get_bind") else db
    dialect = bind.dialect.name
    if dialect == "sqlite":
        return SqliteFts5TicketSearchIndex(db)
    if dialect == "postgresql":
        return PostgresTicketSearchIndex(db)
    raise ValueError(f"no embedded search index for {dialect}")


def _sees_internal(actor: Actor) -> bool:
    return actor.is_staff or actor.role == "system"


class EmbeddedTicketSearchIndex:
    """What both embedded indexes share: the row they keep per ticket, and how a search is put together.

    Work per search is bounded however common the words: relevance ranks the newest ``RANK_WINDOW``
    matches (all of them when fewer match), the older ones follow newest first, and matches are counted
    up to ``RANK_WINDOW`` (beyond, ``total`` is that lower bound and ``total_exact`` is false).
    """

    docs: Table
    RANK_WINDOW = 1000

    def __init__(self, db: Any):
        self.db = db

    # writing ----------------------------------------------------------------------------------------
    def index(self, doc: SearchDocument) -> None:
        """Store the ticket's text (the version is not needed: this runs in the ticket's transaction)."""
        self._upsert(_row(doc))

    def append_comment(self, ticket_id: str, body: str, *, internal: bool) -> bool:
        """Add a reply (or an internal note) to the ticket's text; False if the ticket has no row yet."""
        row = self.db.execute(
            select(*(self.docs.c[name] for name in TEXT_COLUMNS)).where(self.docs.c.ticket_id == ticket_id)
        ).mappings().first()
        if row is None:
            return False
        values = {"ticket_id": ticket_id, **row}
        field = "internal" if internal else "comments"
        values[field] = join_thread([values[field], body])
        self._upsert(values)
        return True

    def delete(self, ticket_id: str, *, version: int | None = None) -> None:
        """Drop the ticket's row."""
        self.db.execute(sql_delete(self.docs).where(self.docs.c.ticket_id == ticket_id))

    def rebuild(self, *, batch_size: int = 500) -> int:
        """Rewrite every row from the tickets and their comments; return how many tickets are indexed."""
        from services.tickets.adapters.search.feed import documents

        self.db.execute(sql_delete(self.docs))
        count = 0
        for doc, _deleted in documents(self.db, batch_size=batch_size):
            self.index(doc)
            count += 1
        return count

    def _upsert(self, values: dict[str, Any]) -> None:
        raise NotImplementedError

    # searching --------------------------------------------------------------------------------------
    def search(
        self,
        query: str | SearchQuery,
        *,
        visibility: Actor,
        filters: Mapping[str, Any],
        page: int,
        limit: int,
        sort: tuple[str, str] | None = None,
        highlight: bool = True,
    ) -> SearchResult:
        """Return a page of matching tickets ``visibility`` may see, with the list's ``filters`` applied."""
        parsed = parse(query)
        if not parsed:
            return SearchResult(ids=[], total=0)
        staff = _sees_internal(visibility)
        conditions = SqlAlchemyTicketRepository(self.db).conditions(visibility, dict(filters))
        order = None
        if sort is not None:
            field, direction = sort
            order = [getattr(SORTABLE[field], direction)(), getattr(tickets.c.id, direction)()]
        source, where, order, updated = self._plan([self._match(parsed, staff), *conditions], order)
        offset = (page - 1) * limit
        window = self.RANK_WINDOW
        matched = None
        if order is None:
            ids, matched = self._ranked_page(parsed, staff, source, where, updated, offset, limit)
        else:
            ids = self._ids(select(self.docs.c.ticket_id).select_from(source).where(*where).order_by(*order),
                            offset, limit)
        if matched is None:
            matched = self._count(source, where)
        if order is None and matched > window and offset + limit > window:
            # past the ranked newest matches, the older ones follow newest first
            start = max(offset, window)
            rest = select(self.docs.c.ticket_id).select_from(source).where(*where).order_by(
                updated.desc(), self.docs.c.ticket_id)
            ids += self._ids(rest, start, offset + limit - start)
        highlights = self._highlights(parsed, staff, ids) if highlight and ids else {}
        return SearchResult(ids=ids, total=min(matched, window), highlights=highlights, total_exact=matched <= window)

    def _plan(self, where: list, order: list | None) -> tuple[Any, list, list | None, Any]:
        """Return what a search reads (``source``), its ``where`` and ``order`` over it, and its recency column.

        Here: the index joined with the tickets table, whose columns the list's conditions are written on.
        """
        return self._source(), where, order, tickets.c.updated_at

    def _ids(self, query, offset: int, limit: int) -> list[str]:
        return [row[0] for row in self.db.execute(query.offset(offset).limit(limit)).all()]

    def _count(self, source, where: list) -> int:
        """Count the matches, stopping one past ``RANK_WINDOW`` (more than that is reported as a lower bound)."""
        limited = select(literal(1)).select_from(source).where(*where).limit(self.RANK_WINDOW + 1).subquery()
        return int(self.db.execute(select(func.count()).select_from(limited)).scalar() or 0)

    def _ranked_page(self, query: SearchQuery, staff: bool, source, where: list, updated, offset: int,
                     limit: int) -> tuple[list[str], int | None]:
        """Return a relevance page of the newest ``RANK_WINDOW`` matches and how many matched (at most
        ``RANK_WINDOW + 1``; None when the page is past them), in one query.

        Ranking every match costs in proportion to how many match, so relevance orders the newest
        ``RANK_WINDOW`` matches only: all of them whenever fewer match, which is the usual case. The newest
        come from the ``updated_at`` index, so a word most tickets have costs no more than a rare one.
        """
        window = self.RANK_WINDOW
        newest = (
            select(self.docs.c.ticket_id, updated.label("updated_at"), *self._window_columns(query, staff))
            .select_from(source).where(*where)
            .order_by(updated.desc(), self.docs.c.ticket_id).limit(window + 1).subquery()
        )
        numbered = select(
            newest,
            func.row_number().over(order_by=[newest.c.updated_at.desc(), newest.c.ticket_id]).label("recency"),
            func.count().over().label("matched"),
        ).subquery()
        rows = self.db.execute(
            select(numbered.c.ticket_id, numbered.c.matched)
            .where(numbered.c.recency <= window)
            .order_by(self._window_rank(numbered, query), numbered.c.updated_at.desc(), numbered.c.ticket_id)
            .offset(offset).limit(limit)
        ).all()
        return [row.ticket_id for row in rows], (int(rows[0].matched) if rows else None)

    def _window_columns(self, query: SearchQuery, staff: bool) -> list:
        """What the window of newest matches carries for ranking them."""
        raise NotImplementedError

    def _window_rank(self, window, query: SearchQuery):
        """The relevance order over the window's columns, best first."""
        raise NotImplementedError

    def _source(self):
        raise NotImplementedError

    def _match(self, query: SearchQuery, staff: bool):
        raise NotImplementedError

    def _highlights(self, query: SearchQuery, staff: bool, ids: list[str]) -> dict[str, str]:
        raise NotImplementedError


def _row(doc: SearchDocument) -> dict[str, Any]:
    return {
        "ticket_id": doc.id,
        "number": doc.number,
        "title": doc.title,
        "tags": " ".join(doc.tags),
        "description": doc.description,
        "comments": doc.comments,
        "internal": doc.internal_notes,
    }


# SQLite FTS5 ---------------------------------------------------------------------------------------

sqlite_docs = Table(
    "ticket_search",
    MetaData(),
    Column("key", Integer, primary_key=True),  # the FTS5 rowid: SQLite may renumber implicit rowids on VACUUM
    Column("ticket_id", String(36), nullable=False, unique=True),
    *_text_columns(),
)
_fts = sql_table("ticket_search_fts", column("rowid"))
_FTS = literal_column("ticket_search_fts")
# bm25 weights in FTS column order (number, title, tags, description, comments, internal)
BM25_WEIGHTS = (10.0, 10.0, 4.0, 1.0, 1.0, 0.5)


def fts5_expression(query: SearchQuery, *, staff: bool) -> str:
    """Return the FTS5 MATCH expression of ``query``; customers' is confined to the public columns."""
    # words are letters and digits only, so quoting them is enough to keep FTS5 syntax out
    expression = " AND ".join(f'"{term.text}"' + ("*" if term.prefix else "") for term in query.terms)
    return expression if staff else "{" + " ".join(PUBLIC_COLUMNS) + "} : (" + expression + ")"


@cache
def _sqlite_upsert():
    """The row upsert, built once (statement construction costs more than its execution)."""
    statement = sqlite_insert(sqlite_docs).values({name: bindparam(name) for name in ("ticket_id", *TEXT_COLUMNS)})
    return statement.on_conflict_do_update(
        index_elements=[sqlite_docs.c.ticket_id], set_={name: statement.excluded[name] for name in TEXT_COLUMNS}
    )


class SqliteFts5TicketSearchIndex(EmbeddedTicketSearchIndex):
    """The embedded index on SQLite: an FTS5 table over ``ticket_search``."""

    docs = sqlite_docs

    def _upsert(self, values: dict[str, Any]) -> None:
        defer(self.db, _sqlite_upsert(), values)

    def _source(self):
        return _fts.join(self.docs, self.docs.c.key == _fts.c.rowid).join(
            tickets, tickets.c.id == self.docs.c.ticket_id
        )

    def _match(self, query: SearchQuery, staff: bool):
        return _FTS.op("MATCH")(literal(fts5_expression(query, staff=staff)))

    def _window_columns(self, query: SearchQuery, staff: bool) -> list:
        # bm25() only exists inside the MATCH query; lower is better
        return [func.bm25(_FTS, *(literal(w) for w in BM25_WEIGHTS)).label("rank")]

    def _window_rank(self, window, query: SearchQuery):
        return window.c.rank  # lower is better

    def _highlights(self, query: SearchQuery, staff: bool, ids: list[str]) -> dict[str, str]:
        wanted = [name for name in SNIPPET_COLUMNS if staff or name != "internal"]
        snippets = [
            func.snippet(_FTS, literal(TEXT_COLUMNS.index(name)), literal(START), literal(END), literal(ELLIPSIS),
                         literal(SNIPPET_WORDS))
            for name in wanted
        ]
        rows = self.db.execute(
            select(self.docs.c.ticket_id, *snippets)
            .select_from(_fts.join(self.docs, self.docs.c.key == _fts.c.rowid))
            .where(self._match(query, staff), self.docs.c.ticket_id.in_(ids))
        ).all()
        return {row[0]: text for row in rows if (text := best(list(row[1:]))) is not None}


# PostgreSQL tsvector --------------------------------------------------------------------------------

# the tickets columns a PostgreSQL row carries (filled and kept by triggers: migration 0009)
CARRIED = ("updated_at", "created_at", "deleted_at", "status", "priority", "category", "source", "requester_id",
           "assignee_id", "department_id", "organization_id")
postgres_docs = Table(
    "ticket_search",
    MetaData(),
    Column("ticket_id", String(36), primary_key=True),
    *_text_columns(),
    Column("document_public", TSVECTOR, nullable=False),
    Column("document_staff", TSVECTOR, nullable=False),
    *(Column(name, tickets.c[name].type) for name in CARRIED),
)
# the key of a tickets column -> its copy in ticket_search
_CARRIED_COPIES = {"id": postgres_docs.c.ticket_id} | {name: postgres_docs.c[name] for name in CARRIED}
WEIGHTS = {"number": "A", "title": "A", "tags": "B", "description": "C", "comments": "C", "internal": "D"}
MAX_POSITION = 16383  # PostgreSQL's last tsvector position; later words share it
MAX_POSITIONS_PER_WORD = 256
# ts_headline drops what its parser takes for markup (<b>, &amp;); blanked, the text stays whole and aligned
_MARKUP = str.maketrans("<>&", "   ")
HEADLINE_OPTIONS = (
    f"StartSel={START}, StopSel={END}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, ShortWord=0"
)


def tsvector_literal(fields: list[tuple[str, str]]) -> str:
    """Return a ``tsvector`` literal of ``(text, weight)`` fields, in order.

    A position is skipped between fields so that a phrase never matches across two of them (FTS5 does
    not either).
    """
    positions: dict[str, list[str]] = {}
    position = 0
    for text, weight in fields:
        for word in words(text):
            position += 1
            entry = f"{min(position, MAX_POSITION)}{weight}"
            seen = positions.setdefault(word, [])
            if len(seen) < MAX_POSITIONS_PER_WORD and (not seen or seen[-1] != entry):
                seen.append(entry)
        position += 1
    return " ".join(f"'{word}':{','.join(entries)}" for word, entries in positions.items())


def tsquery_expression(query: SearchQuery) -> str:
    """Return the ``tsquery`` literal of ``query``: terms ANDed, a phrase's words joined by ``<->``."""
    parts = []
    for term in query.terms:
        lexemes = [f"'{word}'" for word in term.words]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def restore_accents(fragment: str, folded: str, original: str) -> str:
    """Put the original characters back into a headline cut from ``folded`` (``unaccent(original)``)."""
    plain = fragment.replace(START, "").replace(END, "")
    at = folded.find(plain)
    if not plain or at < 0:
        return fragment
    out, cursor = [], at
    for piece in _MARKS.split(fragment):  # text between marks, copied from the original a run at a time
        if piece in (START, END):
            out.append(piece)
        elif piece:
            out.append(original[cursor:cursor + len(piece)])
            cursor += len(piece)
    before = ELLIPSIS if original[:at].strip() else ""
    after = ELLIPSIS if original[cursor:].strip() else ""
    return before + "".join(out) + after


_MARKS = re.compile(f"({START}|{END})")


@cache
def _postgres_upsert():
    """The row upsert with both documents given as ``tsvector`` literals, built once."""
    documents = ("document_public", "document_staff")
    statement = pg_insert(postgres_docs).values(
        {name: bindparam(name) for name in ("ticket_id", *TEXT_COLUMNS)}
        | {name: cast(bindparam(name, type_=Text), TSVECTOR) for name in documents}
    )
    return statement.on_conflict_do_update(
        index_elements=[postgres_docs.c.ticket_id],
        set_={name: statement.excluded[name] for name in (*TEXT_COLUMNS, *documents)},
    )


class PostgresTicketSearchIndex(EmbeddedTicketSearchIndex):
    """The embedded index on PostgreSQL: weighted ``tsvector`` columns with GIN indexes.

    Each row also carries the ticket's list columns (``CARRIED``: recency, deletion, visibility and the
    list's filters), copied by triggers whenever the ticket is written, by whatever statement. A search
    whose conditions use only those columns reads ``ticket_search`` alone: the window of newest matches
    comes from one table (by the GIN index, or for a common word by the ``updated_at`` index, or for a
    customer by the requester's), and no match pays a lookup in ``tickets``. The conditions are still the
    repository's own, rewritten column for column, so search and list keep one definition of who sees what;
    one on a column not carried (the tag filter, a sort by title) reads through the join as SQLite does.
    """

    docs = postgres_docs

    def _plan(self, where: list, order: list | None) -> tuple[Any, list, list | None, Any]:
        missing: list[Any] = []

        def copy(element):
            if isinstance(element, Column) and element.table is tickets:
                if element.key in _CARRIED_COPIES:
                    return _CARRIED_COPIES[element.key]
                missing.append(element)
            return None

        local_where = [replacement_traverse(clause, {}, copy) for clause in where]
        local_order = None if order is None else [replacement_traverse(clause, {}, copy) for clause in order]
        if missing:
            return super()._plan(where, order)
        # a row written before its ticket has no copies yet (the ticket's insert fills them)
        return self.docs, [self.docs.c.updated_at.isnot(None), *local_where], local_order, self.docs.c.updated_at

    def _upsert(self, values: dict[str, Any]) -> None:
        public = [(values[name], WEIGHTS[name]) for name in PUBLIC_COLUMNS]
        document_public = tsvector_literal(public)
        # with no internal notes (every new ticket) staff see the same words at the same positions
        document_staff = (tsvector_literal([*public, (values["internal"], WEIGHTS["internal"])])
                          if words(values["internal"]) else document_public)
        defer(self.db, _postgres_upsert(),
              {**values, "document_public": document_public, "document_staff": document_staff})

    def _document(self, staff: bool):
        return self.docs.c.document_staff if staff else self.docs.c.document_public

    @staticmethod
    def _tsquery(query: SearchQuery):
        return cast(literal(tsquery_expression(query)), TSQUERY)

    def _source(self):
        return self.docs.join(tickets, tickets.c.id == self.docs.c.ticket_id)

    def _match(self, query: SearchQuery, staff: bool):
        return self._document(staff).op("@@")(self._tsquery(query))

    def _window_columns(self, query: SearchQuery, staff: bool) -> list:
        return [self._document(staff).label("document")]  # ranked outside: only the window's rows pay ts_rank

    def _window_rank(self, window, query: SearchQuery):
        return func.ts_rank(window.c.document, self._tsquery(query)).desc()

    def _highlights(self, query: SearchQuery, staff: bool, ids: list[str]) -> dict[str, str]:
        wanted = [name for name in SNIPPET_COLUMNS if staff or name != "internal"]
        rows = self.db.execute(
            select(self.docs.c.ticket_id, *(self.docs.c[name] for name in wanted)).where(self.docs.c.ticket_id.in_(ids))
        ).all()
        slots = [(row[0], i, value) for row in rows for i, value in enumerate(row[1:]) if value]
        folded = [unaccent(value).translate(_MARKUP) for _, _, value in slots]
        headlines = dict(
            self.db.execute(
                sql_text(
                    "SELECT ord, ts_headline('simple', doc, CAST(:query AS tsquery), :options) "
                    "FROM unnest(CAST(:docs AS text[])) WITH ORDINALITY AS t(doc, ord)"
                ),
                {"query": tsquery_expression(query), "options": HEADLINE_OPTIONS, "docs": folded},
            ).all()
        )
        candidates: dict[str, list[str | None]] = {row[0]: [None] * len(wanted) for row in rows}
        for ordinal, ((ticket_id, i, value), folded_value) in enumerate(zip(slots, folded, strict=True), start=1):
            candidates[ticket_id][i] = restore_accents(headlines[ordinal], folded_value, value)
        return {ticket_id: text for ticket_id, found in candidates.items() if (text := best(found)) is not None}
