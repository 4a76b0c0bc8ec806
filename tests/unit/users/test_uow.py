"""The users unit of work builds its repositories once per session, on that session."""

from helpdesk_common.resources import SqlAlchemyNamedRepository
from services.users.adapters.repository import SqlAlchemySessionRepository, SqlAlchemyUserRepository


def test_repositories_are_built_on_first_use_on_the_unit_of_works_session(new_uow):
    uow = new_uow()

    assert isinstance(uow.users, SqlAlchemyUserRepository)
    assert isinstance(uow.sessions, SqlAlchemySessionRepository)
    assert isinstance(uow.departments, SqlAlchemyNamedRepository)
    assert uow.users is uow.users
    assert {uow.users.session, uow.sessions.session, uow.departments.session, uow.organizations.session} == {uow.session}


def test_a_closed_unit_of_work_builds_its_repositories_again_on_its_next_session(new_uow):
    uow = new_uow()
    first = uow.departments
    uow.close()

    assert uow.departments is not first
    assert uow.departments.session is uow.session
