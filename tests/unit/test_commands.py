"""Commands act once: record and replay of RPC commands (``helpdesk_common.commands``) on a real database."""

import sys
import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import FakeClock
from helpdesk_common.commands import CommandLog
from helpdesk_common.db import commands_table, infrastructure
from helpdesk_common.uow import UnitOfWork
from helpdesk_contracts.errors import Conflict, ValidationFailed

effects_metadata = MetaData()
effects = Table("effects", effects_metadata, Column("id", Integer, primary_key=True), Column("note", String(50)))


@pytest.fixture
def engine(database_factory):
    engine = create_engine(database_factory.create("commands"))  # a pool of several: tests read alongside
    infrastructure.create_all(engine)
    effects_metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def log(engine, clock):
    return CommandLog(sessionmaker(bind=engine, expire_on_commit=False), service="things", clock=clock)


def _run(log, command_id, handler, *, fingerprint="fp-1", method="create"):
    """Deliver one command as the entrypoint does: look up, run the handler unless recorded, finish."""
    run = log.begin(command_id, fingerprint, method)
    result = exc_info = None
    try:
        if run.stored is not None:
            result = log.answer(run)
        else:
            uow = UnitOfWork(log.session_factory, producer="things", clock=log.clock, command=run,
                             session=run.take_session())
            with uow:
                result = handler(uow)
    except Exception:
        exc_info = sys.exc_info()
    return log.finish(run, result, exc_info)


def _create(note):
    def handler(uow):
        uow.session.execute(insert(effects).values(note=note))
        uow.commit()
        return {"note": note, "id": str(uuid.uuid4())}

    return handler


def _count(engine, table=effects):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_command_records_its_answer_with_its_state(log, engine):
    result, exc_info, replayed = _run(log, "cmd-1", _create("once"))

    assert exc_info is None and not replayed
    assert _count(engine) == 1
    with engine.connect() as conn:
        row = conn.execute(select(commands_table)).one()
    assert (row.id, row.service, row.method, row.fingerprint) == ("cmd-1", "things", "create", "fp-1")
    assert row.result.startswith("{") and result["id"] in row.result


def test_redelivered_command_is_answered_from_the_record_without_running(log, engine):
    first, _, _ = _run(log, "cmd-1", _create("once"))
    ran = []

    second, exc_info, replayed = _run(log, "cmd-1", lambda uow: ran.append(1))

    assert exc_info is None and replayed
    assert second == first
    assert ran == []
    assert _count(engine) == 1


def test_same_id_with_another_request_is_refused(log, engine):
    _run(log, "cmd-1", _create("once"))

    _, exc_info, replayed = _run(log, "cmd-1", _create("other"), fingerprint="fp-2")

    assert isinstance(exc_info[1], ValidationFailed) and not replayed
    assert "different request" in str(exc_info[1])
    assert _count(engine) == 1


def test_held_commit_is_invisible_until_the_answer_is_recorded(log, engine):
    seen = {}

    def handler(uow):
        uow.session.execute(insert(effects).values(note="held"))
        uow.commit()
        with engine.connect() as other:  # another connection: nothing committed yet
            seen["during"] = other.scalar(select(func.count()).select_from(effects))
        return {"ok": True}

    _run(log, "cmd-1", handler)

    assert seen["during"] == 0
    assert _count(engine) == 1


def test_failed_command_is_not_recorded(log, engine):
    def handler(uow):
        uow.session.execute(insert(effects).values(note="never"))
        raise Conflict("no")

    _, exc_info, _ = _run(log, "cmd-1", handler)
    again, exc_info_again, replayed = _run(log, "cmd-1", _create("retried"))

    assert isinstance(exc_info[1], Conflict)
    assert exc_info_again is None and not replayed and again["note"] == "retried"
    assert _count(engine) == 1 and _count(engine, commands_table) == 1


def test_handler_raising_after_its_commit_keeps_the_commit_without_a_record(log, engine):
    def handler(uow):
        uow.session.execute(insert(effects).values(note="revoked"))
        uow.commit()
        raise Conflict("refused after recording the revocation")

    _, exc_info, _ = _run(log, "cmd-1", handler)

    assert isinstance(exc_info[1], Conflict)
    assert _count(engine) == 1
    assert _count(engine, commands_table) == 0


def test_handler_writing_after_its_commit_then_raising_keeps_nothing(log, engine):
    def handler(uow):
        uow.session.execute(insert(effects).values(note="first"))
        uow.commit()
        uow.after_commit(lambda: pytest.fail("ran after a rolled-back commit"))
        uow.emit("department.deleted", {"department": {"id": str(uuid.uuid4()), "name": "X", "description": None,
                                                        "default_sla_hours": None, "notification_email": None}})
        raise RuntimeError("bug")

    _, exc_info, _ = _run(log, "cmd-1", handler)

    assert isinstance(exc_info[1], RuntimeError)
    assert _count(engine) == 0


def test_concurrent_twin_answers_with_the_first_ones_result(log, engine):
    twin = log.begin("cmd-1", "fp-1", "create")  # delivered twice: both miss the lookup
    assert twin.stored is None
    first, _, _ = _run(log, "cmd-1-other-process", _create("first"))  # keeps the SQLite writer free
    winner, _, _ = _run(log, "cmd-1", _create("winner"))

    uow = UnitOfWork(log.session_factory, producer="things", clock=log.clock, command=twin,
                     session=twin.take_session())
    with uow:
        loser = _create("loser")(uow)
    result, exc_info, replayed = log.finish(twin, loser, None)

    assert exc_info is None and replayed
    assert result == winner != loser
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(effects.c.note))) == ["first", "winner"]


def test_after_commit_steps_run_once_the_command_is_recorded(log, engine):
    steps = []

    def handler(uow):
        uow.after_commit(lambda: steps.append(_count(engine, commands_table)))
        uow.session.execute(insert(effects).values(note="x"))
        uow.commit()
        assert steps == []  # held: not yet
        return {"ok": True}

    _run(log, "cmd-1", handler)

    assert steps == [1]


def test_query_commits_nothing_and_records_nothing(log, engine):
    result, exc_info, replayed = _run(log, "cmd-1", lambda uow: {"count": _count(engine)})

    assert result == {"count": 0} and exc_info is None and not replayed
    assert _count(engine, commands_table) == 0


def test_prune_deletes_records_past_the_retention_only(log, engine, clock):
    _run(log, "old", _create("old"))
    clock.advance(hours=47)
    _run(log, "recent", _create("recent"))
    clock.advance(hours=2)

    assert log.prune() == 1
    with engine.connect() as conn:
        assert list(conn.scalars(select(commands_table.c.id))) == ["recent"]


def test_retention_is_never_shorter_than_a_day(engine, clock):
    log = CommandLog(sessionmaker(bind=engine), service="things", clock=clock, retention_hours=1)

    assert log.retention.total_seconds() == 24 * 3600


def test_twin_failing_on_the_winners_effect_answers_with_the_winners_result(log, engine):
    twin = log.begin("cmd-1", "fp-1", "create")
    winner, _, _ = _run(log, "cmd-1", _create("winner"))
    refused = Conflict("A category named 'winner' already exists.")  # the twin's handler met the winner's row

    result, exc_info, replayed = log.finish(twin, None, (Conflict, refused, None))

    assert exc_info is None and replayed
    assert result == winner
    assert _count(engine) == 1


def test_first_delivery_without_a_lookup_still_acts_once(log, engine):
    first, _, _ = _run(log, "cmd-1", _create("first"))
    run = log.begin("cmd-1", "fp-1", "create", look_up=False)  # a caller that sent a seen id as new
    uow = UnitOfWork(log.session_factory, producer="things", clock=log.clock, command=run, session=run.take_session())
    with uow:
        again = _create("again")(uow)

    result, exc_info, replayed = log.finish(run, again, None)

    assert exc_info is None and replayed and result == first
    assert _count(engine) == 1
