"""The handlers' ports are what both the real adapters and the in-memory fakes implement, call for call."""

import inspect

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import FakeClock
from helpdesk_common.resources import SqlAlchemyNamedRepository
from services.automation import dependencies
from services.automation.adapters import repository
from services.automation.adapters.uow import AutomationUnitOfWork
from services.automation.handlers import ports
from tests.unit.automation import fakes

PAIRS = [
    (ports.AgentRepository, repository.SqlAlchemyAgentRepository, fakes.FakeAgentRepository),
    (ports.TicketRepository, repository.SqlAlchemyTicketRepository, fakes.FakeTicketRepository),
    (ports.StrategyRepository, repository.SqlAlchemyStrategyRepository, fakes.FakeStrategyRepository),
    (ports.DecisionRepository, repository.SqlAlchemyDecisionRepository, fakes.FakeDecisionRepository),
    (ports.RoutingLock, repository.SqlAlchemyRoutingLock, fakes.FakeRoutingLock),
    (ports.TemplateRepository, SqlAlchemyNamedRepository, fakes.FakeTemplateRepository),
    (ports.RuleRepository, repository.SqlAlchemyRuleRepository, fakes.FakeRuleRepository),
    (ports.RuleRunRepository, repository.SqlAlchemyRuleRunRepository, fakes.FakeRuleRunRepository),
    (ports.RuleJobRepository, repository.SqlAlchemyRuleJobRepository, fakes.FakeRuleJobRepository),
    # the other services, as the Nameko dependencies give them to the handlers
    (ports.TicketDesk, dependencies._Desk, fakes.FakeTicketDesk),
    (ports.Directory, dependencies._Directory, fakes.FakeDirectory),
]


def _methods(protocol) -> dict[str, list[str]]:
    return {name: list(inspect.signature(member).parameters)
            for name, member in vars(protocol).items() if inspect.isfunction(member) and not name.startswith("_")}


def _protocols() -> list[type]:
    return [value for value in vars(ports).values() if isinstance(value, type) and value.__module__ == ports.__name__
            and getattr(value, "_is_protocol", False)]


def test_every_port_is_paired_with_its_adapter_and_its_fake():
    assert {port for port, _, _ in PAIRS} | {ports.AutomationUnitOfWork} == set(_protocols())


@pytest.mark.parametrize(("port", "real", "fake"), PAIRS, ids=lambda c: c.__name__)
def test_the_adapter_and_the_fake_implement_every_method_of_the_port(port, real, fake):
    methods = _methods(port)
    assert methods
    for name, parameters in methods.items():
        for implementation in (real, fake):
            assert list(inspect.signature(getattr(implementation, name)).parameters) == parameters, \
                f"{implementation.__name__}.{name}"


@pytest.mark.parametrize(("port", "real", "fake"), PAIRS, ids=lambda c: c.__name__)
def test_the_adapter_and_the_fake_take_the_same_keyword_only_parameters_and_defaults(port, real, fake):
    for name in _methods(port):
        wanted = {p.name: (p.kind, p.default) for p in inspect.signature(getattr(port, name)).parameters.values()}
        for implementation in (real, fake):
            found = {p.name: (p.kind, p.default)
                     for p in inspect.signature(getattr(implementation, name)).parameters.values()}
            assert found == wanted, f"{implementation.__name__}.{name}"


def test_both_units_of_work_offer_what_handlers_take_from_them():
    wanted = set(ports.AutomationUnitOfWork.__annotations__) | set(_methods(ports.AutomationUnitOfWork))
    assert {"clock", "agents", "tickets", "strategies", "decisions", "routing", "templates", "emit", "commit",
            "rollback"} <= wanted
    fake = fakes.FakeAutomationUnitOfWork()
    engine = create_engine("sqlite://")
    with AutomationUnitOfWork(sessionmaker(bind=engine), producer="automation", clock=FakeClock()) as real:
        for name in wanted:
            assert hasattr(real, name), f"AutomationUnitOfWork.{name}"
            assert hasattr(fake, name), f"FakeAutomationUnitOfWork.{name}"
        for name in ("agents", "tickets", "strategies", "decisions", "routing", "templates", "rules", "rule_runs",
                     "rule_jobs"):
            assert getattr(real, name).session is real.session  # built from the unit of work's own session
    engine.dispose()


def test_a_reopened_unit_of_work_builds_its_repositories_on_its_new_session():
    engine = create_engine("sqlite://")
    uow = AutomationUnitOfWork(sessionmaker(bind=engine), producer="automation", clock=FakeClock())
    first = uow.tickets
    assert uow.tickets is first  # built once per session

    uow.close()

    assert uow.tickets is not first and uow.tickets.session is uow.session
    uow.close()
    engine.dispose()
