"""The gateway's fakes and calls follow the real services' RPC signatures, so they cannot drift unseen.

Every public method of a fake is an ``@rpc`` method of the service it stands for, with the same
parameters (names, order, defaults); every RPC method the gateway's code calls exists on the real
service (and on the fake, unless listed with a reason), and each call's arguments bind to the real
method's signature. The fakes' rules (transitions, visibility) are the service's own
(``services.tickets.domain.rules``, ``services.automation.handlers.common``, ``helpdesk_contracts.vocabulary``),
so they cannot disagree. The services are the discovered ones (``helpdesk_common.services.discover``): a new one
the gateway calls needs a fake, named in ``FAKES``.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from nameko.rpc import Rpc

from helpdesk_common.services import discover, service_module

GATEWAY = Path(__file__).resolve().parents[3] / "gateway"


def service_classes() -> dict[str, type]:
    """Return each discovered service's Nameko class (the class of its ``service.py`` named as it), by name."""
    found = {}
    for name in discover():
        module = service_module(name, "service")
        classes = [cls for cls in vars(module).values()
                   if isinstance(cls, type) and cls.__module__ == module.__name__ and getattr(cls, "name", None) == name]
        assert len(classes) == 1, f"services/{name}/service.py should define one class whose name is {name!r}"
        found[name] = classes[0]
    return found


REAL = service_classes()
# the fake standing for each service the gateway calls (tests/unit/gateway/fakes.py)
FAKES = {"users": "FakeUsersService", "tickets": "FakeTicketsServiceWithAttachments",
         "automation": "FakeAutomationService"}
# what a fake offers tests beyond the contract: seeding and inspecting its state
HELPERS = {"add_user", "active_families", "add_ticket", "track_ticket", "add_decision", "add_rule_run"}
# RPC methods the gateway calls that the fakes leave out, and why
NOT_FAKED = {
    ("users", "list_revocations"): "the revocation feed (a broker consumer) is off in unit tests",
}


def rpc_methods(service: type) -> dict[str, inspect.Signature]:
    """Return the service's ``@rpc`` methods and their signatures, ``self`` left out."""
    found = {}
    for name, function in inspect.getmembers(service, inspect.isfunction):
        if any(isinstance(entrypoint, Rpc) for entrypoint in getattr(function, "nameko_entrypoints", ())):
            signature = inspect.signature(function)
            found[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return found


def _public_methods(fake: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(function).replace(
            parameters=list(inspect.signature(function).parameters.values())[1:]
        )
        for name, function in inspect.getmembers(fake, inspect.isfunction)
        if not name.startswith("_") and name not in HELPERS
    }


def _shape(signature: inspect.Signature) -> list[tuple[str, object, object]]:
    # annotations left out: the fakes annotate loosely, the services not at all
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def gateway_calls() -> list[tuple[str, str, int, frozenset[str], bool, str]]:
    """Return each ``rpc.call(service, method, ...)`` in the gateway: positional count, keywords, splat, where."""
    calls = []
    for path in sorted(GATEWAY.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "call"):
                continue
            if len(node.args) < 2:
                continue
            service, method = node.args[0], node.args[1]
            service_name = (
                service.value if isinstance(service, ast.Constant) else constants.get(getattr(service, "id", ""))
            )
            if not isinstance(service_name, str) or not isinstance(method, ast.Constant):
                continue  # a service named at run time (readiness pings every configured one)
            rest = node.args[2:]
            splat = any(isinstance(arg, ast.Starred) for arg in rest) or any(k.arg is None for k in node.keywords)
            keywords = frozenset(k.arg for k in node.keywords if k.arg is not None and k.arg != "rpc_timeout")
            where = f"{path.relative_to(GATEWAY.parent)}:{node.lineno}"
            calls.append((service_name, method.value, len(rest), keywords, splat, where))
    return calls


def test_gateway_calls_are_found():
    calls = {(service, method) for service, method, *_ in gateway_calls()}
    # a sample the gateway surely makes: the scan must see calls through both spellings of the service
    assert {("users", "authenticate"), ("tickets", "create"), ("tickets", "list_categories"),
            ("automation", "workload"), ("automation", "set_strategy")} <= calls


def test_every_service_the_gateway_calls_exists_and_has_a_fake(fakes):
    called = {service for service, *_ in gateway_calls()}

    assert called <= set(REAL), f"the gateway calls services that do not exist: {sorted(called - set(REAL))}"
    assert called <= set(FAKES), f"no fake stands for {sorted(called - set(FAKES))}: add one to fakes.py and FAKES"
    assert set(FAKES) <= set(REAL) and all(hasattr(fakes, fake) for fake in FAKES.values())


@pytest.mark.parametrize(("service", "fake_name"), sorted(FAKES.items()))
def test_every_fake_method_has_the_real_rpc_signature(fakes, fake_name, service):
    real = rpc_methods(REAL[service])
    fake = _public_methods(getattr(fakes, fake_name))
    not_rpc = sorted(set(fake) - set(real))
    assert not not_rpc, f"{fake_name} answers methods {service} has no @rpc for: {not_rpc}"
    differ = {name: (str(fake[name]), str(real[name])) for name in fake if _shape(fake[name]) != _shape(real[name])}
    assert not differ, f"{fake_name}'s signatures differ from {service}'s (fake, real): {differ}"


@pytest.mark.parametrize(("service", "method", "positional", "keywords", "splat", "where"), gateway_calls(),
                         ids=lambda value: value if isinstance(value, str) else None)
def test_every_gateway_call_binds_to_the_real_rpc(fakes, service, method, positional, keywords, splat, where):
    assert service in REAL, f"{where} calls {service}.{method}, but there is no services/{service}/service.py"
    real = rpc_methods(REAL[service])
    assert method in real, f"{where} calls {service}.{method}, which is no @rpc method of the service"
    if not splat:
        real[method].bind(*range(positional), **dict.fromkeys(keywords))  # raises TypeError on a mismatch
    faked = getattr(fakes, FAKES[service])
    if (service, method) not in NOT_FAKED:
        assert hasattr(faked, method), f"{where} calls {service}.{method}, which the fake does not answer"


def test_binding_refuses_a_call_the_service_cannot_take():
    signature = rpc_methods(REAL["tickets"])["get"]
    with pytest.raises(TypeError):
        signature.bind(1, 2, 3)
    with pytest.raises(TypeError):
        signature.bind("ticket", actor={}, expected_version=1)
