"""A category's required skills: set by admins, held to a user's skills' rules, carried by its tickets' views
and events (what the router matches agents against), read once per command and once per page."""

import pytest
from sqlalchemy import event

from helpdesk_contracts.vocabulary import SKILL_MAX, SKILLS_MAX
from services.tickets import handlers
from services.tickets.domain.errors import PermissionDenied, ValidationFailed
from tests.unit.tickets.factories import DEPT_A


@pytest.fixture
def category(run, admin):
    """Create a category (as the admin) routing to department A; keyword overrides go into the payload."""

    def make(**overrides) -> dict:
        return run(handlers.create_category, {"name": "Network", "default_department_id": DEPT_A, **overrides}, admin)

    return make


@pytest.fixture
def category_reads(engine):
    """Count the statements that read categories while the block runs: ``with category_reads() as reads:``."""

    class Reads:
        def __init__(self):
            self.statements: list[str] = []

        def __enter__(self):
            event.listen(engine, "before_cursor_execute", self._seen)
            return self

        def __exit__(self, *_):
            event.remove(engine, "before_cursor_execute", self._seen)

        def _seen(self, conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("SELECT") and "ticket_categories" in statement:
                self.statements.append(statement)

        @property
        def count(self) -> int:
            return len(self.statements)

    return Reads


def _ticket_event(outbox, event_type: str) -> dict:
    return outbox(event_type)[-1]["data"]["ticket"]


# the category ------------------------------------------------------------------------------------


def test_create_category_with_required_skills_answers_and_lists_them_trimmed_once_each_in_order(
        run, category, customer):
    created = category(required_skills=["  vpn ", "Cisco", "vpn", "linux", "Cisco"])

    listed = run(handlers.list_categories, customer)["items"]

    assert created["required_skills"] == ["vpn", "Cisco", "linux"]
    assert run(handlers.get_category, created["id"], customer)["required_skills"] == ["vpn", "Cisco", "linux"]
    assert listed[0]["required_skills"] == ["vpn", "Cisco", "linux"]


def test_create_category_without_required_skills_requires_none(category):
    assert category()["required_skills"] == []


def test_update_category_sets_required_skills_and_other_changes_keep_them(run, category, admin):
    created = category(required_skills=["vpn"])

    changed = run(handlers.update_category, created["id"], {"required_skills": ["linux", "vpn"]}, admin)
    renamed = run(handlers.update_category, created["id"], {"name": "Networking"}, admin)
    cleared = run(handlers.update_category, created["id"], {"required_skills": []}, admin)

    assert changed["required_skills"] == ["linux", "vpn"]
    assert renamed["required_skills"] == ["linux", "vpn"]
    assert cleared["required_skills"] == []
    assert run(handlers.get_category, created["id"], admin)["required_skills"] == []


@pytest.mark.parametrize("skills", [
    "vpn",  # not a list
    None,  # [] says none
    ["vpn", 42],  # not a string
    ["vpn", "   "],  # blank once trimmed
    ["x" * (SKILL_MAX + 1)],
    [f"skill {n}" for n in range(SKILLS_MAX + 1)],
], ids=["text", "null", "number", "blank", "too-long", "too-many"])
def test_category_with_bad_required_skills_is_refused_naming_the_field(run, category, admin, skills):
    existing = category(name="Printers", required_skills=["toner"])

    with pytest.raises(ValidationFailed) as on_create:
        category(required_skills=skills)
    with pytest.raises(ValidationFailed) as on_update:
        run(handlers.update_category, existing["id"], {"required_skills": skills}, admin)

    assert "required_skills" in on_create.value.errors
    assert "required_skills" in on_update.value.errors
    assert [c["name"] for c in run(handlers.list_categories, admin)["items"]] == ["Printers"]
    assert run(handlers.get_category, existing["id"], admin)["required_skills"] == ["toner"]


def test_category_with_the_most_and_longest_required_skills_is_taken(category):
    skills = [f"{n:02d}" + "x" * (SKILL_MAX - 2) for n in range(SKILLS_MAX)]

    assert category(required_skills=skills)["required_skills"] == skills


def test_setting_required_skills_as_a_supervisor_is_refused(run, category, supervisor):
    created = category()

    with pytest.raises(PermissionDenied):
        run(handlers.update_category, created["id"], {"required_skills": ["vpn"]}, supervisor)


# the tickets in it -------------------------------------------------------------------------------


def test_a_ticket_in_the_category_carries_its_skills_in_its_view_and_its_created_event(
        run, category, create_ticket, agent, outbox):
    category(required_skills=["vpn", "cisco"])

    created = create_ticket(category="network")

    assert created["required_skills"] == ["vpn", "cisco"]
    assert run(handlers.get_ticket, created["id"], agent)["required_skills"] == ["vpn", "cisco"]
    assert _ticket_event(outbox, "ticket.created")["required_skills"] == ["vpn", "cisco"]


def test_a_ticket_without_a_category_requires_no_skills(run, category, create_ticket, outbox):
    category(required_skills=["vpn"])

    created = create_ticket()

    assert created["required_skills"] == []
    assert _ticket_event(outbox, "ticket.created")["required_skills"] == []


def test_every_event_of_a_ticket_carries_its_categorys_skills(run, category, create_ticket, agent, outbox):
    category(required_skills=["vpn"])
    ticket = create_ticket(category="Network")

    run(handlers.update_ticket, ticket["id"], {"title": "VPN down for everyone"}, agent)
    run(handlers.change_status, ticket["id"], "in_progress", agent)
    run(handlers.assign_ticket, ticket["id"], agent, assignee_id=agent["id"])
    run(handlers.add_comment, ticket["id"], {"body": "Looking"}, agent)

    for event_type in ("ticket.updated", "ticket.status_changed", "ticket.assigned", "ticket.commented"):
        assert _ticket_event(outbox, event_type)["required_skills"] == ["vpn"], event_type


def test_a_ticket_moved_to_another_category_carries_the_new_ones(run, category, create_ticket, agent, outbox):
    category(required_skills=["vpn"])
    category(name="Printers", required_skills=["toner", "drivers"])
    ticket = create_ticket(category="Network")

    moved = run(handlers.update_ticket, ticket["id"], {"category": "printers"}, agent)
    uncategorised = run(handlers.update_ticket, ticket["id"], {"category": None}, agent)

    assert moved["required_skills"] == ["toner", "drivers"]
    updates = outbox("ticket.updated")
    assert updates[0]["data"]["ticket"]["required_skills"] == ["toner", "drivers"]
    assert updates[0]["data"]["changes"]["category"] == {"before": "Network", "after": "Printers"}
    assert uncategorised["required_skills"] == []
    assert updates[1]["data"]["ticket"]["required_skills"] == []


def test_a_ticket_reads_its_categorys_skills_as_they_are_now(run, category, create_ticket, agent, admin):
    network = category(required_skills=["vpn"])
    ticket = create_ticket(category="Network")

    run(handlers.update_category, network["id"], {"required_skills": ["vpn", "firewall"]}, admin)
    changed = run(handlers.get_ticket, ticket["id"], agent)
    run(handlers.delete_category, network["id"], admin)
    orphaned = run(handlers.get_ticket, ticket["id"], agent)

    assert changed["required_skills"] == ["vpn", "firewall"]
    assert orphaned["category"] == "Network"
    assert orphaned["required_skills"] == []


def test_a_renamed_categorys_tickets_require_no_skills_until_refiled(run, category, create_ticket, agent, admin):
    network = category(required_skills=["vpn"])
    ticket = create_ticket(category="Network")

    run(handlers.update_category, network["id"], {"name": "Networking"}, admin)

    assert run(handlers.get_ticket, ticket["id"], agent)["required_skills"] == []  # its name names no category now


def test_a_page_of_tickets_carries_each_ones_skills(run, category, create_ticket, agent):
    category(required_skills=["vpn"])
    category(name="Printers", required_skills=["toner"])
    for title, name in (("A", "Network"), ("B", "Printers"), ("C", None), ("D", "network")):
        create_ticket(title=title, category=name)

    page = run(handlers.list_tickets, agent, {}, 1, 20, "title", "asc")
    found = run(handlers.search_tickets, agent, "morning")

    assert [(t["title"], t["required_skills"]) for t in page["items"]] == [
        ("A", ["vpn"]), ("B", ["toner"]), ("C", []), ("D", ["vpn"])]
    assert {t["title"]: t["required_skills"] for t in found["items"]} == {
        "A": ["vpn"], "B": ["toner"], "C": [], "D": ["vpn"]}


# what it costs -----------------------------------------------------------------------------------


def test_opening_a_ticket_in_a_category_reads_the_category_once(category, create_ticket, category_reads):
    category(required_skills=["vpn"])

    with category_reads() as reads:
        create_ticket(category="Network")

    assert reads.count == 1  # the check of the name, whose row the snapshot and the answer reuse


def test_opening_a_ticket_without_a_category_reads_none(category, create_ticket, category_reads):
    category(required_skills=["vpn"])

    with category_reads() as reads:
        create_ticket()

    assert reads.count == 0


def test_a_command_on_a_ticket_reads_its_category_once(run, category, create_ticket, agent, category_reads):
    category(required_skills=["vpn"])
    ticket = create_ticket(category="Network")

    with category_reads() as reads:
        run(handlers.change_status, ticket["id"], "in_progress", agent)

    assert reads.count == 1  # for the event and the answer both


def test_a_page_of_tickets_reads_their_categories_in_one_query(run, category, create_ticket, agent, category_reads):
    category(required_skills=["vpn"])
    category(name="Printers", required_skills=["toner"])
    for name in ("Network", "Printers", "network", None):
        create_ticket(category=name)
    create_ticket(title="Uncategorised")

    with category_reads() as reads:
        run(handlers.list_tickets, agent)
    with category_reads() as none_on_the_page:
        run(handlers.list_tickets, agent, {"q": "Uncategorised"})

    assert reads.count == 1
    assert none_on_the_page.count == 0
