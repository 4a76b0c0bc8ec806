"""The handlers' ports are what both the SQL repositories and the in-memory fakes implement, call for call."""

import inspect

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import FakeClock
from services.tickets.adapters import repository
from services.tickets.adapters.attachments import SqlAlchemyAttachmentRepository
from services.tickets.adapters.categories import SqlAlchemyCategoryRepository
from services.tickets.adapters.departments import SqlAlchemyDepartmentRepository
from services.tickets.adapters.links import SqlAlchemyLinkRepository
from services.tickets.adapters.organizations import SqlAlchemyOrganizationRepository
from services.tickets.adapters.uow import CommentRepository, SearchFeed, TicketsUnitOfWork
from services.tickets.domain import rules
from services.tickets.handlers import ports
from tests.unit.tickets import fakes

PAIRS = [
    (ports.TicketRepository, repository.SqlAlchemyTicketRepository, fakes.FakeTicketRepository),
    (ports.CommentRepository, CommentRepository, fakes.FakeCommentRepository),
    (ports.CategoryRepository, SqlAlchemyCategoryRepository, fakes.FakeCategoryRepository),
    (ports.LinkRepository, SqlAlchemyLinkRepository, fakes.FakeLinkRepository),
    (ports.AttachmentRepository, SqlAlchemyAttachmentRepository, fakes.FakeAttachmentRepository),
    (ports.OrganizationRepository, SqlAlchemyOrganizationRepository, fakes.FakeOrganizationRepository),
    (ports.DepartmentRepository, SqlAlchemyDepartmentRepository, fakes.FakeDepartmentRepository),
    (ports.SearchFeed, SearchFeed, fakes.FakeSearchFeed),
]


def _methods(protocol) -> dict[str, list[str]]:
    return {name: list(inspect.signature(member).parameters)
            for name, member in vars(protocol).items() if inspect.isfunction(member) and not name.startswith("_")}


@pytest.mark.parametrize(("port", "real", "fake"), PAIRS, ids=lambda c: c.__name__)
def test_the_sql_repository_and_the_fake_implement_every_method_of_the_port(port, real, fake):
    methods = _methods(port)
    assert methods
    for name, parameters in methods.items():
        for implementation in (real, fake):
            assert list(inspect.signature(getattr(implementation, name)).parameters) == parameters, \
                f"{implementation.__name__}.{name}"


def test_both_units_of_work_offer_what_handlers_take_from_them():
    wanted = set(ports.TicketsUnitOfWork.__annotations__) | set(_methods(ports.TicketsUnitOfWork))
    fake = fakes.FakeTicketsUnitOfWork()
    engine = create_engine("sqlite://")
    with TicketsUnitOfWork(sessionmaker(bind=engine), producer="tickets", clock=FakeClock()) as real:
        for name in wanted:
            assert hasattr(real, name), f"TicketsUnitOfWork.{name}"
            assert hasattr(fake, name), f"FakeTicketsUnitOfWork.{name}"
        assert real.tickets.session is real.session  # built from the unit of work's own session
    engine.dispose()


def test_the_domain_names_exactly_the_fields_the_repository_sorts_by():
    assert set(rules.SORTABLE_FIELDS) == set(repository.SORTABLE)


def test_a_reopened_unit_of_work_builds_its_repositories_on_its_new_session():
    engine = create_engine("sqlite://")
    uow = TicketsUnitOfWork(sessionmaker(bind=engine), producer="tickets", clock=FakeClock())
    first = uow.tickets
    assert uow.tickets is first  # built once per session

    uow.close()

    assert uow.tickets is not first and uow.tickets.session is uow.session
    uow.close()
    engine.dispose()
