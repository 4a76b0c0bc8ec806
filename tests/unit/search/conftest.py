"""Fixtures of the search tests: migrated tickets databases (SQLite always, PostgreSQL when
HELPDESK_TEST_POSTGRES_URL is set), an Elasticsearch index when ELASTICSEARCH_URL is set, an in-memory
Elasticsearch stand-in, and a ``World`` that puts tickets into the tickets table and an index together."""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk_common.clock import FakeClock
from helpdesk_common.db import infrastructure, make_engine
from helpdesk_common.testing import POSTGRES_ENV, REPO_ROOT, DatabaseFactory, empty_tables, migrate
from services.tickets.adapters.orm import counters, metadata, start_mappers
from services.tickets.adapters.search import TicketSearchIndex, document_for, embedded_index
from services.tickets.adapters.uow import TicketsUnitOfWork
from services.tickets.domain import rules
from services.tickets.domain.model import Comment, Ticket
from services.tickets.domain.search.port import SearchResult
from tests.unit.search.fake_elasticsearch import FakeCluster

ALEMBIC_INI = REPO_ROOT / "services/tickets/alembic.ini"
ES_ENV = "ELASTICSEARCH_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set: no PostgreSQL to run the embedded index on")),
    pytest.param("elasticsearch", id="elasticsearch", marks=pytest.mark.skipif(
        not os.environ.get(ES_ENV), reason=f"{ES_ENV} is not set: no Elasticsearch server to run the contract against")),
]


def new_id() -> str:
    return str(uuid.uuid4())


def customer(**overrides: Any) -> rules.Actor:
    return rules.Actor(**{"id": new_id(), "role": "customer", **overrides})


def agent(department_id: str | None = None, **overrides: Any) -> rules.Actor:
    return rules.Actor(**{"id": new_id(), "role": "agent", "department_id": department_id, **overrides})


def admin() -> rules.Actor:
    return rules.Actor(id=new_id(), role="admin")


def as_dict(actor: rules.Actor) -> dict[str, Any]:
    """The actor as callers pass it to the service."""
    return {"id": actor.id, "role": actor.role, "department_id": actor.department_id,
            "organization_id": actor.organization_id}


@pytest.fixture(scope="session", autouse=True)
def _mappers():
    start_mappers()


@pytest.fixture(scope="session")
def database_url_for(tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """Return a migrated tickets database URL for an embedded backend (one per session and backend)."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("search"))
    urls: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in urls:
            url = f"sqlite:///{factory.tmp_path / 'search.db'}" if backend == "sqlite" else factory.create("search")
            migrate(ALEMBIC_INI, url)
            urls[backend] = url
        return urls[backend]

    yield get
    factory.drop_all()


@pytest.fixture(scope="session")
def engine_for(database_url_for) -> Iterator[Callable[[str], Any]]:
    """Return an engine on an emptied database of an embedded backend."""
    engines: dict[str, Any] = {}

    def get(backend: str):
        if backend not in engines:
            engines[backend] = make_engine(database_url_for(backend))
        engine = engines[backend]
        empty_tables(engine, metadata, infrastructure)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM ticket_search"))
            conn.execute(insert(counters).values(name="ticket", value=0))
        return engine

    yield get
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fake_es() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def elasticsearch_index() -> Iterator[Callable[[], Any]]:
    """Make an index on the real Elasticsearch of ELASTICSEARCH_URL under a throwaway alias; removed after."""
    made: list[Any] = []

    def make():
        from services.tickets.adapters.search.elastic import ElasticsearchTicketSearchIndex, make_client

        index = ElasticsearchTicketSearchIndex(make_client(os.environ[ES_ENV], timeout=30),
                                               alias=f"tickets-test-{uuid.uuid4().hex[:8]}", refresh="wait_for")
        index.ensure_index()
        made.append(index)
        return index

    yield make
    for index in made:
        drop_elasticsearch_alias(index.client, index.alias)
        index.client.close()


def drop_elasticsearch_alias(client, alias: str) -> None:
    """Delete a test alias's indices (by name: clusters refuse wildcard deletes) and its template."""
    for name in client.indices.get(index=f"{alias}-v*", expand_wildcards="all").body:
        client.indices.delete(index=name)
    client.indices.delete_index_template(name=alias)


class World:
    """Tickets kept in the tickets table (embedded backends) and in the index under test."""

    def __init__(self, backend: str, clock: FakeClock, *, session: Session | None = None, external: Any = None):
        self.backend = backend
        self.clock = clock
        self.session = session
        self.external = external
        self.tickets: dict[str, tuple[Ticket, list[Comment]]] = {}
        self._numbers = iter(range(1, 1_000_000))

    @property
    def index(self) -> TicketSearchIndex:
        return self.external if self.external is not None else embedded_index(self.session)

    def add(self, title: str = "Untitled", description: str = "Nothing more to say.", *, requester: rules.Actor | None = None,
            comments: tuple[tuple[str, bool], ...] = (), status: str = "new", tags: tuple[str, ...] = (),
            assignee_id: str | None = None, number: int | None = None, **fields: Any) -> str:
        """Open a ticket one minute after the previous one; ``comments`` are ``(body, internal)``."""
        self.clock.advance(minutes=1)
        ticket = Ticket(id=new_id(), number=rules.format_number(number or next(self._numbers)), title=title,
                        description=description, requester_id=(requester or customer()).id, now=self.clock.now(),
                        tags=list(tags), **fields)
        ticket.status = status
        ticket.assignee_id = assignee_id
        thread = [Comment(id=new_id(), ticket_id=ticket.id, author_id=new_id(), author_role="agent", body=body,
                          internal=internal, mentions=[], now=self.clock.now()) for body, internal in comments]
        if self.session is not None:
            self.session.add(ticket)
            self.session.flush()
            self.session.add_all(thread)
            self.session.flush()
        self.index.index(document_for(ticket, thread))
        self._commit()
        self.tickets[ticket.id] = (ticket, thread)
        return ticket.id

    def change(self, ticket_id: str, **changes: Any) -> None:
        """Edit a ticket (a new version) and index it again."""
        ticket, thread = self.tickets[ticket_id]
        self.clock.advance(minutes=1)
        for name, value in changes.items():
            setattr(ticket, name, value)
        ticket.updated_at = self.clock.now()
        ticket.version += 1
        self.index.index(document_for(ticket, thread))
        self._commit()

    def delete(self, ticket_id: str) -> None:
        ticket, _ = self.tickets[ticket_id]
        ticket.soft_delete(now=self.clock.now())
        self.index.delete(ticket_id, version=ticket.version)
        self._commit()

    def search(self, query: str, actor: rules.Actor, filters: dict[str, Any] | None = None, *, page: int = 1,
               limit: int = 20, sort: tuple[str, str] | None = None) -> SearchResult:
        return self.index.search(query, visibility=actor, filters=filters or {}, page=page, limit=limit, sort=sort)

    def ids(self, query: str, actor: rules.Actor | None = None, filters: dict[str, Any] | None = None, **options) -> list[str]:
        return self.search(query, actor or admin(), filters, **options).ids

    def _commit(self) -> None:
        if self.session is not None:
            self.session.commit()


@pytest.fixture(params=BACKENDS)
def world(request, clock, engine_for, elasticsearch_index) -> Iterator[World]:
    """The contract suite's world, once per adapter: SQLite, PostgreSQL, Elasticsearch."""
    if request.param == "elasticsearch":
        yield World("elasticsearch", clock, external=elasticsearch_index())
        return
    session = sessionmaker(bind=engine_for(request.param), expire_on_commit=False)()
    try:
        yield World(request.param, clock, session=session)
    finally:
        session.close()


# handlers on a real database (the backend the suite runs on) ------------------------------------------

@pytest.fixture
def engine(engine_for):
    return engine_for("postgresql" if os.environ.get(POSTGRES_ENV) else "sqlite")


@pytest.fixture
def run(engine, clock):
    """Call a handler with a fresh unit of work, like one RPC."""
    session_factory = sessionmaker(bind=engine, expire_on_commit=False)

    def call(handler, *args, **kwargs):
        with TicketsUnitOfWork(session_factory, producer="tickets", clock=clock) as uow:
            if "directory" in inspect.signature(handler).parameters:
                kwargs.setdefault("directory", None)
            return handler(*args, uow=uow, **kwargs)

    return call
