"""The gateway's fake tickets service answers as the real handlers do: one table of cases, run on both.

The gateway's unit tests stand on ``tests/unit/gateway/fakes.py``; these cases run each request against
the fake and against the handlers on the migrated database, and compare what comes back (the status a
ticket reaches or the error's class, what a caller sees, what the stats count), so the fake cannot drift
from the service on transitions, visibility or ``assignee_id=me``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from helpdesk_contracts.vocabulary import TICKET_STATUSES
from services.tickets import handlers
from tests.unit.tickets.factories import DEPT_A, DEPT_B

FAKES = Path(__file__).resolve().parents[1] / "gateway" / "fakes.py"


def _fakes():
    # the gateway tests load the module under this name: share it rather than load a second copy
    name = "gateway_unit_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FAKES)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _as_gateway(actor: dict) -> dict:
    """The actor as the gateway sends it (the fake checks the gateway keeps to that shape)."""
    return {**actor, "via": "gateway"}


def _outcome(call, *args, **kwargs):
    """Return what a call answers, or the name of the error it raises (both sides raise their own classes)."""
    try:
        return ("ok", call(*args, **kwargs))
    except Exception as error:  # compared by name below: the fake raises the contract's, the handlers the domain's
        return ("error", type(error).__name__)


@pytest.fixture
def fake():
    return _fakes().FakeTicketsService()


@pytest.fixture
def real_ticket_in(run, create_ticket, agent):
    """Open a ticket through the handlers and move it (as an agent of its department) to ``status``."""

    def make(status: str) -> dict:
        ticket = create_ticket(department_id=DEPT_A)
        if status != "new":
            ticket = run(handlers.change_status, ticket["id"], status, agent)
        return ticket

    return make


@pytest.mark.parametrize("start", TICKET_STATUSES)
@pytest.mark.parametrize("caller", ["agent", "customer"])
def test_status_changes_answer_the_same(run, fake, real_ticket_in, agent, customer, start, caller):
    who = {"agent": agent, "customer": customer}[caller]
    for target in TICKET_STATUSES:
        real = real_ticket_in(start)
        faked = fake.add_ticket(customer["id"], status=start, department_id=DEPT_A)
        expected = _outcome(run, handlers.change_status, real["id"], target, who)
        answered = _outcome(fake.change_status, faked["id"], target, _as_gateway(who))
        expected = expected if expected[0] == "error" else ("ok", expected[1]["status"])
        answered = answered if answered[0] == "error" else ("ok", answered[1]["status"])
        assert answered == expected, f"{caller} moving {start} → {target}: fake {answered}, service {expected}"


PLACES = [  # where a ticket is: its department, and whether the agent of department A holds it
    (None, False),
    (DEPT_A, False),
    (DEPT_B, False),
    (DEPT_B, True),
]


@pytest.mark.parametrize(("department", "held"), PLACES)
def test_who_sees_a_ticket_is_the_same(run, fake, create_ticket, admin, agent, agent_b, supervisor, customer,
                                       other_customer, department, held):
    real = create_ticket()
    faked = fake.add_ticket(customer["id"])
    if department is not None:
        run(handlers.assign_ticket, real["id"], admin, department_id=department, set_department=True,
            set_assignee=False)
        fake.assign(faked["id"], _as_gateway(admin), department_id=department, set_department=True,
                    set_assignee=False)
    if held:
        run(handlers.assign_ticket, real["id"], admin, assignee_id=agent["id"])
        fake.assign(faked["id"], _as_gateway(admin), assignee_id=agent["id"])
    for name, viewer in {"agent": agent, "agent_b": agent_b, "supervisor": supervisor, "admin": admin,
                         "requester": customer, "other customer": other_customer}.items():
        expected = _outcome(run, handlers.get_ticket, real["id"], viewer)[0]
        answered = _outcome(fake.get, faked["id"], _as_gateway(viewer))[0]
        assert answered == expected, f"{name} on a ticket in {department}, held={held}: fake {answered}, service {expected}"


def test_stats_of_my_tickets_count_the_same(run, fake, create_ticket, admin, agent, customer):
    for held in (True, True, False):
        real = create_ticket()
        faked = fake.add_ticket(customer["id"])
        if held:
            run(handlers.assign_ticket, real["id"], admin, assignee_id=agent["id"])
            fake.assign(faked["id"], _as_gateway(admin), assignee_id=agent["id"])
    expected = run(handlers.ticket_stats, agent, {"assignee_id": "me"})
    answered = fake.stats(_as_gateway(agent), {"assignee_id": "me"})
    keys = ("total", "total_exact", "by_status", "by_priority", "by_assignee")
    assert {k: answered[k] for k in keys} == {k: expected[k] for k in keys}
    assert expected["total"] == 2
    assert set(answered) == set(expected)
