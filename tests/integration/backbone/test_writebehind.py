"""Write-behind: deferred statements are never lost, never read around, keep their order, and go with
the commit (on PostgreSQL as one pipeline). Runs on the suite's backend (SQLite, or PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, registry, sessionmaker

from helpdesk_common import writebehind
from helpdesk_common.clock import FakeClock
from helpdesk_common.db import UtcDateTime, infrastructure, make_engine, outbox_table
from helpdesk_common.testing import backend
from helpdesk_common.uow import UnitOfWork

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _write_behind_on(monkeypatch):
    """These tests are of the mechanism itself: on even in CI's run with ``HELPDESK_WRITE_BEHIND=off``."""
    monkeypatch.setenv("HELPDESK_WRITE_BEHIND", "on")

metadata = MetaData()
parents = Table("wb_parents", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
lines = Table(
    "wb_lines", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("parent_id", Integer, ForeignKey("wb_parents.id"), nullable=False),
    Column("note", String(50), nullable=False),
)
INSERT_PARENT = insert(parents)
INSERT_LINE = insert(lines).inline()


class Parent:
    pass


mapper = registry()
mapper.map_imperatively(Parent, parents)


@pytest.fixture
def engine(database_factory):
    engine = make_engine(database_factory.create("wb"))  # foreign keys enforced on both backends
    metadata.create_all(engine)
    infrastructure.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def statements(engine, monkeypatch):
    """Every statement the database receives, in order (COMMIT shows as 'COMMIT').

    SQLAlchemy's cursor events see what goes through ``Connection.execute``; on PostgreSQL the
    write-behind script goes out through ``writebehind.run_script``, watched here statement by
    statement (its COMMIT included).
    """
    seen: list[str] = []

    def statement(sql: str) -> None:
        words = sql.split()
        seen.append(f"INSERT {words[2]}" if words[0] == "INSERT" else words[0])

    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statement(sql))
    if backend() == "postgresql":
        run_script = writebehind.run_script

        def watched(driver, sql):
            for part in sql.split(";\n"):
                if part.strip() != "BEGIN":
                    statement(part)
            return run_script(driver, sql)

        monkeypatch.setattr(writebehind, "run_script", watched)
        return seen
    event.listen(engine, "commit", lambda conn: seen.append("COMMIT"))
    return seen


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_deferred_statements_are_sent_with_the_commit_and_not_before(engine, statements):
    session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 1, "name": "a"})
    writebehind.defer(session, INSERT_LINE, {"parent_id": 1, "note": "created"})

    assert statements == []
    assert writebehind.pending(session) == 2

    writebehind.commit(session)

    assert statements == ["INSERT wb_parents", "INSERT wb_lines", "COMMIT"]
    assert (count(engine, parents), count(engine, lines)) == (1, 1)
    assert writebehind.pending(session) == 0
    session.close()


def test_a_query_in_the_same_transaction_sees_what_was_deferred(engine):
    session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 7, "name": "seven"})

    assert session.scalar(select(parents.c.name).where(parents.c.id == 7)) == "seven"
    assert writebehind.pending(session) == 0
    session.rollback()
    session.close()

    assert count(engine, parents) == 0  # flushed inside the transaction, rolled back with it


def test_orm_changes_and_deferred_rows_land_in_the_order_they_were_made(engine):
    session = sessionmaker(bind=engine)()
    parent = Parent()
    parent.id, parent.name = 3, "orm"
    session.add(parent)  # pending in the ORM, not flushed yet
    writebehind.defer(session, INSERT_LINE, {"parent_id": 3, "note": "after the parent"})  # needs the parent row
    writebehind.commit(session)
    session.close()

    assert (count(engine, parents), count(engine, lines)) == (1, 1)


def test_an_orm_change_made_after_a_deferred_row_is_flushed_after_it(engine):
    session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 4, "name": "core"})
    parent = session.get(Parent, 4)  # a query: the deferred insert goes first, so the row is there
    parent.name = "renamed"
    writebehind.commit(session)
    session.close()

    with engine.connect() as conn:
        assert conn.scalar(select(parents.c.name).where(parents.c.id == 4)) == "renamed"


def test_a_plain_session_commit_still_sends_the_queue(engine):
    session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 5, "name": "plain"})

    session.commit()  # not writebehind.commit: nothing may be lost either way
    session.close()

    assert count(engine, parents) == 1


def test_a_rollback_drops_the_queue(engine):
    session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 6, "name": "dropped"})

    session.rollback()
    session.commit()

    assert writebehind.pending(session) == 0
    assert count(engine, parents) == 0
    session.close()


def test_a_failing_deferred_statement_fails_the_commit_and_writes_nothing(engine):
    with engine.begin() as conn:
        conn.execute(INSERT_PARENT, {"id": 9, "name": "exists"})
    session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 10, "name": "new"})
    writebehind.defer(session, INSERT_PARENT, {"id": 9, "name": "duplicate"})  # breaks the primary key

    with pytest.raises(Exception) as raised:
        writebehind.commit(session)
    session.rollback()
    session.close()

    assert isinstance(raised.value, IntegrityError) or "duplicate key" in str(raised.value) or "UNIQUE" in str(raised.value)
    assert count(engine, parents) == 1  # id 10 went down with the transaction


def test_a_plain_connection_runs_the_statement_at_once(engine):
    with engine.begin() as conn:
        writebehind.defer(conn, INSERT_PARENT, {"id": 11, "name": "now"})
        assert conn.scalar(select(func.count()).select_from(parents)) == 1


def test_a_unit_of_work_sends_state_and_events_in_one_trip_with_its_commit(engine, statements):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    with UnitOfWork(factory, producer="users", clock=clock) as uow:
        writebehind.defer(uow.session, INSERT_PARENT, {"id": 12, "name": "state"})
        uow.emit("user.password_changed", {"user_id": "0b9a3c1e-8f0e-4f4e-9d55-3f8a8d8b6a10", "email": "a@b.example"})
        assert statements == []
        uow.commit()

    assert statements == ["INSERT wb_parents", "INSERT outbox", "COMMIT"]
    assert count(engine, outbox_table) == 1


@pytest.mark.skipif(backend() != "postgresql", reason="the one-script batch is PostgreSQL's")
def test_on_postgresql_the_queue_and_its_commit_take_one_round_trip(engine, monkeypatch):
    session: Session = sessionmaker(bind=engine)()
    session.execute(select(1))  # BEGIN done: what follows is the write-behind batch alone
    driver = session.connection().connection.driver_connection
    trips: list[int] = []
    original = type(driver).wait

    def counting_wait(self, gen, *args, **kwargs):
        # every exchange with the server is a generator run by wait(); one that yields waits on the socket
        def watched():
            try:
                wanted = next(gen)
            except StopIteration as done:
                return done.value  # nothing to send or wait for
            trips.append(1)
            while True:
                try:
                    wanted = gen.send((yield wanted))
                except StopIteration as done:
                    return done.value

        return original(self, watched(), *args, **kwargs)

    monkeypatch.setattr(type(driver), "wait", counting_wait)
    for i in range(20, 25):
        writebehind.defer(session, INSERT_PARENT, {"id": i, "name": str(i)})
    writebehind.defer(session, INSERT_LINE, [{"parent_id": 20, "note": "a"}, {"parent_id": 21, "note": "b"}])

    writebehind.commit(session)
    monkeypatch.undo()
    session.close()

    assert trips == [1]  # one wait for the answer (an idle COMMIT or ROLLBACK sends nothing)
    assert (count(engine, parents), count(engine, lines)) == (5, 2)


@pytest.mark.skipif(backend() != "postgresql", reason="the one-script batch is PostgreSQL's")
def test_on_postgresql_values_are_quoted_safely_in_the_script(engine):
    session: Session = sessionmaker(bind=engine)()
    hostile = "x'); DROP TABLE wb_lines; --"
    writebehind.defer(session, INSERT_PARENT, {"id": 30, "name": hostile[:50]})
    writebehind.commit(session)
    session.close()

    with engine.connect() as conn:
        assert conn.scalar(select(parents.c.name).where(parents.c.id == 30)) == hostile[:50]
    assert count(engine, lines) == 0  # the table is still there


@pytest.mark.skipif(backend() != "postgresql", reason="the one-script batch is PostgreSQL's")
def test_on_postgresql_a_transaction_that_only_deferred_sends_its_begin_in_the_script(engine, monkeypatch):
    session: Session = sessionmaker(bind=engine)()
    for i in range(40, 43):
        writebehind.defer(session, INSERT_PARENT, {"id": i, "name": str(i)})
    driver = session.connection().connection.driver_connection
    assert driver.info.transaction_status == TransactionStatus.IDLE  # nothing sent yet, not even BEGIN
    commands: list[bytes] = []
    original = type(driver)._exec_command

    def exec_command(self, command, *args, **kwargs):  # psycopg's own BEGIN/COMMIT go through here
        commands.append(bytes(command))
        return (yield from original(self, command, *args, **kwargs))

    monkeypatch.setattr(type(driver), "_exec_command", exec_command)

    writebehind.commit(session)
    monkeypatch.undo()

    assert commands == []  # BEGIN and COMMIT went in the script
    assert (driver.autocommit, driver.info.transaction_status) == (False, TransactionStatus.IDLE)
    assert count(engine, parents) == 3
    session.close()


@pytest.mark.skipif(backend() != "postgresql", reason="the one-script batch is PostgreSQL's")
def test_on_postgresql_a_failed_script_leaves_the_connection_idle_and_transactional(engine):
    with engine.begin() as conn:
        conn.execute(INSERT_PARENT, {"id": 50, "name": "exists"})
    session: Session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 51, "name": "new"})
    writebehind.defer(session, INSERT_PARENT, {"id": 50, "name": "duplicate"})
    driver = session.connection().connection.driver_connection

    with pytest.raises(Exception, match="duplicate key"):
        writebehind.commit(session)
    session.rollback()

    assert (driver.autocommit, driver.info.transaction_status) == (False, TransactionStatus.IDLE)
    assert count(engine, parents) == 1
    writebehind.defer(session, INSERT_PARENT, {"id": 52, "name": "after"})  # the session goes on
    writebehind.commit(session)
    session.close()
    assert count(engine, parents) == 2


@pytest.mark.skipif(backend() != "postgresql", reason="numbers come from a PostgreSQL sequence")
def test_a_ticket_number_taken_first_needs_no_transaction_and_leaves_none_open(database_factory):
    from helpdesk_common.testing import REPO_ROOT, migrate
    from services.tickets.adapters.repository import SqlAlchemyTicketRepository

    url = database_factory.create("numbers")
    migrate(REPO_ROOT / "services/tickets/alembic.ini", url)
    tickets_engine = make_engine(url)
    session = sessionmaker(bind=tickets_engine)()

    first = SqlAlchemyTicketRepository(session).next_number()
    driver = session.connection().connection.driver_connection
    assert (driver.autocommit, driver.info.transaction_status) == (False, TransactionStatus.IDLE)
    second = SqlAlchemyTicketRepository(session).next_number()

    assert second == first + 1
    session.close()
    tickets_engine.dispose()


typed = Table(
    "wb_typed", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payload", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("tries", Integer, nullable=False, default=0),  # a scalar Python-side default
    Column("state", String(10), nullable=False, server_default="new"),
    Column("odd name%", String(10)),  # a bind name the driver needs escaped
    Column("label", String(20), default=lambda context: "made-per-row"),  # a default computed per row
)
_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _typed_row(**extra):
    return {"payload": {"a": [1, "ü"]}, "at": _AT, "odd name%": "x", **extra}


def _rendered_by_sqlalchemy(engine, statement, row) -> list:
    recorded: list = []
    writebehind._hook(engine)
    with engine.begin() as conn:
        conn.info[writebehind._RECORDING] = recorded
        try:
            conn.execute(statement, row)
        finally:
            del conn.info[writebehind._RECORDING]
    return recorded


@pytest.mark.skipif(backend() != "postgresql", reason="plans render PostgreSQL's one-script batch")
def test_on_postgresql_a_plan_renders_exactly_what_sqlalchemy_would_execute(engine):
    upsert = pg_insert(parents).values(id=bindparam("id"), name=func.upper(bindparam("name")))
    upsert = upsert.on_conflict_do_update(index_elements=[parents.c.id], set_={"name": upsert.excluded.name})
    cases = [
        (INSERT_PARENT, {"id": 1, "name": "o'hara"}),
        (INSERT_LINE, {"parent_id": 1, "note": "n"}),
        (insert(typed).values(label="fixed").inline(), _typed_row()),
        (insert(outbox_table).inline(), {"producer": "users", "event_type": "user.created", "envelope": {"id": "e"},
                                         "created_at": _AT}),
        (upsert, {"id": 2, "name": "b"}),
        (update(parents).where(parents.c.id == bindparam("pid")).values(name=parents.c.name + "!"), {"pid": 1}),
    ]
    import psycopg

    with engine.connect() as conn, psycopg.ClientCursor(conn.connection.driver_connection) as cursor:
        for statement, row in cases:
            plan = writebehind._compiled(statement, engine.dialect, tuple(sorted(row)))
            assert plan is not None, statement
            # the SQL text the server gets is the same (psycopg's Json wrappers do not compare equal)
            (sql, params), = _rendered_by_sqlalchemy(engine, statement, row)
            assert cursor.mogrify(plan.sql, plan.parameters(row)) == cursor.mogrify(sql, params)


@pytest.mark.skipif(backend() != "postgresql", reason="plans render PostgreSQL's one-script batch")
def test_on_postgresql_statements_a_plan_cannot_hold_still_go_through_sqlalchemy(engine):
    per_row_default = insert(typed).inline()  # ``label`` is computed by a callable for each row
    assert writebehind._compiled(per_row_default, engine.dialect, tuple(sorted(_typed_row()))) is None
    session: Session = sessionmaker(bind=engine)()
    writebehind.defer(session, INSERT_PARENT, {"id": 40, "name": "first"})
    writebehind.defer(session, per_row_default, [_typed_row(), _typed_row()])
    writebehind.defer(session, INSERT_LINE, {"parent_id": 40, "note": "last"})
    writebehind.commit(session)
    session.close()

    with engine.connect() as conn:
        rows = conn.execute(select(typed.c.label, typed.c.tries, typed.c.state, typed.c.payload, typed.c.at)).all()
    assert rows == [("made-per-row", 0, "new", {"a": [1, "ü"]}, _AT)] * 2
    assert (count(engine, parents), count(engine, lines)) == (1, 1)


@pytest.mark.skipif(backend() != "postgresql", reason="psycopg's BEGIN")
def test_the_script_opens_its_transaction_as_psycopg_would(engine):
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert writebehind.begin_command(driver) == "BEGIN"
        conn.connection.driver_connection.isolation_level = psycopg_isolation("REPEATABLE_READ")
        driver.read_only = True
        assert writebehind.begin_command(driver) == "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        conn.invalidate()


def psycopg_isolation(name):
    import psycopg

    return psycopg.IsolationLevel[name]


@pytest.mark.skipif(backend() != "postgresql", reason="psycopg's transaction handling")
def test_a_failing_script_that_opened_its_transaction_leaves_the_connection_idle(engine):
    import psycopg

    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        conn.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):
            writebehind.run_script(driver, "BEGIN;\nINSERT INTO no_such_table VALUES (1);\nCOMMIT")
        assert writebehind.idle(driver)
        assert writebehind.run_script(driver, "SELECT 41 + 1")[0].get_value(0, 0) == b"42"
