"""The tickets service next to the real users service: a ticket's department is checked against the local
projection, which ``department.*`` events keep (a deleted department is refused from then on), which asks
``users.get_department`` about a department it has not heard of, and which the reconciliation catches up."""

import uuid
from datetime import UTC, datetime

import pytest
from nameko.exceptions import RemoteError
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from sqlalchemy import delete, insert, select

from helpdesk_common.db import make_engine
from helpdesk_contracts.errors import ValidationFailed
from services.tickets.adapters.departments import departments

pytestmark = pytest.mark.integration

AGENT = {"id": str(uuid.uuid4()), "role": "supervisor", "department_id": None, "organization_id": None}


def projected(event_type):
    """Match the tickets service's handling of one department event type."""
    return lambda worker_ctx, result, exc_info: exc_info is None and worker_ctx.args[0].type == event_type


def open_in(tickets_rpc, department_id):
    return tickets_rpc.create({"title": "Switch down", "description": "Floor 2", "department_id": department_id}, AGENT)


def stored(tickets_db_url):
    engine = make_engine(tickets_db_url)
    with engine.connect() as conn:
        rows = {row.id: row.deleted for row in conn.execute(select(departments))}
    engine.dispose()
    return rows


def test_a_department_deleted_in_the_users_service_is_refused_once_its_event_arrives(services, users_rpc,
                                                                                     tickets_rpc, tickets_db_url):
    _, tickets_container = services
    with entrypoint_waiter(tickets_container, "project_department", callback=projected("department.created"),
                           timeout=10):
        department = users_rpc.create_department({"name": f"Redes {uuid.uuid4().hex[:6]}"})
    assert stored(tickets_db_url) == {department["id"]: False}
    assert open_in(tickets_rpc, department["id"])["department_id"] == department["id"]

    with entrypoint_waiter(tickets_container, "project_department", callback=projected("department.deleted"),
                           timeout=10):
        users_rpc.delete_department(department["id"])

    with pytest.raises(RemoteError) as refused:
        open_in(tickets_rpc, department["id"])
    assert refused.value.exc_type == ValidationFailed.__name__
    assert refused.value.value == "Unknown department."


def test_a_department_the_projection_has_not_heard_of_is_asked_of_the_users_service(services, users_rpc,
                                                                                    tickets_rpc, tickets_db_url):
    _, tickets_container = services
    with entrypoint_waiter(tickets_container, "project_department", callback=projected("department.created"),
                           timeout=10):
        department = users_rpc.create_department({"name": f"Hardware {uuid.uuid4().hex[:6]}"})
    engine = make_engine(tickets_db_url)
    with engine.begin() as conn:  # as if its event were still in flight
        conn.execute(delete(departments))
    engine.dispose()

    ticket = open_in(tickets_rpc, department["id"])

    assert ticket["department_id"] == department["id"]
    assert stored(tickets_db_url) == {department["id"]: False}  # remembered: the next one is checked locally
    with pytest.raises(RemoteError) as refused:
        open_in(tickets_rpc, str(uuid.uuid4()))
    assert refused.value.exc_type == ValidationFailed.__name__


def test_departments_whose_events_were_missed_are_caught_up_by_the_reconciliation(services, users_rpc,
                                                                                  tickets_db_url):
    _, tickets_container = services
    with entrypoint_waiter(tickets_container, "project_department", callback=projected("department.created"),
                           timeout=10):
        department = users_rpc.create_department({"name": f"Software {uuid.uuid4().hex[:6]}"})
    gone = str(uuid.uuid4())  # a department the users service no longer has
    engine = make_engine(tickets_db_url)
    with engine.begin() as conn:  # as if the created event had reached no queue of ours, and a deletion neither
        conn.execute(delete(departments))
        conn.execute(insert(departments).values(id=gone, deleted=False, updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
    engine.dispose()

    with entrypoint_hook(tickets_container, "sync_departments") as sync:
        result = sync()

    assert result == {"listed": 1, "added": 1, "deleted": 1}
    assert stored(tickets_db_url) == {department["id"]: False, gone: True}
