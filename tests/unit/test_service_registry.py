"""Every service under ``services/`` is in every place a service must be named (docs/adding-a-service.md).

The services are the ``services/*/service.py`` that exist; each place is read as its file says it (a list
written out, or a wildcard such as import-linter's ``services.*``), so the checks keep holding when a list
becomes discovered. A failure names the service and the place it is missing from.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(path.parent.name for path in (ROOT / "services").glob("*/service.py"))
K8S = ROOT / "deploy" / "k8s"


def _procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = shlex.split(command)
    return processes


def _csv(value: str) -> set[str]:
    return {item.strip() for item in re.split(r"[,\s]+", value or "") if item.strip()}


def _compose_default(value: str) -> str:
    """Return the default of a compose ``${VAR:-default}`` value (or the value itself)."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match.group(1) if match else value


def _k8s_documents() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def _covered(module: str, expressions: list[str]) -> bool:
    """Whether an import-linter module expression list covers ``module`` (``*`` one level, ``**`` any)."""
    for expression in expressions:
        pattern = re.escape(expression).replace(r"\*\*", ".+").replace(r"\*", "[^.]+")
        if re.fullmatch(pattern, module) or module.startswith(f"{expression}."):
            return True
    return False


def _contract(name: str) -> dict:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return next(contract for contract in contracts if contract["name"] == name)


# --- the places: each returns what is missing for ``service`` ----------------------------------------------

def check_layout(service: str) -> list[str]:
    needed = ["service.py", "config.yml", "alembic.ini", "migrations/env.py", "Dockerfile", "README.md"]
    problems = [f"services/{service}/{name} is missing" for name in needed if not (ROOT / "services" / service / name).exists()]
    if not list((ROOT / "services" / service / "migrations" / "versions").glob("*.py")):
        problems.append(f"services/{service}/migrations/versions has no migration")
    return problems


def check_procfile(service: str) -> list[str]:
    command = _procfile().get(service)
    if command is None:
        return [f"Procfile has no process {service!r}"]
    problems = []
    if f"services.{service}.service" not in command:
        problems.append(f"Procfile's {service!r} does not run services.{service}.service: {command}")
    if f"services/{service}/config.yml" not in command:
        problems.append(f"Procfile's {service!r} does not read services/{service}/config.yml: {command}")
    return problems


def check_makefile(service: str) -> list[str]:
    # ask make itself, so a list computed with $(wildcard ...) counts as well as one written out
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "print-registry-services"],
        input="print-registry-services:\n\t@echo $(SERVICES)\n", cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [] if service in done.stdout.split() else [f"the Makefile's SERVICES ({done.stdout.strip()}) lacks it"]


def check_launcher(service: str) -> list[str]:
    from helpdesk_common import stack

    listed = stack.SERVICES() if callable(stack.SERVICES) else stack.SERVICES
    problems = [] if service in listed else [f"helpdesk_common.stack's SERVICES ({listed}) lacks it"]
    env = stack.make_env(amqp_uri="amqp://probe/", database_urls={service: "sqlite://"}, var_dir=ROOT / "var",
                         gateway_port=1)
    if f"{service.upper()}_METRICS_PORT" not in env:
        problems.append(f"helpdesk_common.stack.make_env gives no {service.upper()}_METRICS_PORT (tests would collide)")
    return problems


def check_metrics_port(service: str) -> list[str]:
    config = (ROOT / "services" / service / "config.yml")
    text = config.read_text() if config.exists() else ""
    match = re.search(rf"^METRICS_PORT: \$\{{{service.upper()}_METRICS_PORT:(\d+)\}}", text, re.M)
    if not match:
        return [f"services/{service}/config.yml has no METRICS_PORT: ${{{service.upper()}_METRICS_PORT:<port>}}"]
    ports = {}
    for other in SERVICES:
        found = re.search(r"^METRICS_PORT: \$\{\w+:(\d+)\}", (ROOT / "services" / other / "config.yml").read_text(), re.M)
        if found:
            ports.setdefault(found.group(1), []).append(other)
    return [f"metrics port {match.group(1)} is shared by {ports[match.group(1)]}"] if len(ports[match.group(1)]) > 1 else []


def check_import_contracts(service: str) -> list[str]:
    problems = []
    independent = _contract("Services never import each other")["modules"]
    if not _covered(f"services.{service}", independent):
        problems.append(f'pyproject.toml: "Services never import each other" does not name services.{service}')
    if (ROOT / "services" / service / "domain").exists():
        sources = _contract("Domain code is framework-free")["source_modules"]
        if not _covered(f"services.{service}.domain", sources):
            problems.append(f'pyproject.toml: "Domain code is framework-free" does not cover services.{service}.domain')
    only = _contract("Only service.py and dependencies.py import nameko")["source_modules"]
    for part in ("handlers", "domain", "adapters", "schemas"):
        exists = (ROOT / "services" / service / part).exists() or (ROOT / "services" / service / f"{part}.py").exists()
        if exists and not _covered(f"services.{service}.{part}", only):
            problems.append(f'pyproject.toml: "Only service.py and dependencies.py import nameko" does not cover '
                            f"services.{service}.{part}")
    entrypoints = _contract(
        "Services declare entrypoints with helpdesk_common.nameko_ext, never nameko.rpc or nameko.events")
    if not _covered(f"services.{service}", entrypoints["source_modules"]):
        problems.append(f"pyproject.toml: the entrypoint contract does not cover services.{service}")
    return problems


def check_compose(service: str) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    problems = [f"docker-compose.yml has no service {name!r}" for name in (service, f"{service}-migrate")
                if name not in compose]
    if service in compose and compose[service].get("command") != _procfile().get(service):
        problems.append(f"docker-compose.yml's {service!r} command is not the Procfile's")
    gateway_env = compose.get("gateway", {}).get("environment", {})
    if service not in _csv(_compose_default(str(gateway_env.get("GATEWAY_SERVICES", "")))):
        problems.append("docker-compose.yml's gateway GATEWAY_SERVICES lacks it (readiness)")
    postgres_env = compose.get("postgres", {}).get("environment", {})
    if service not in _csv(_compose_default(str(postgres_env.get("POSTGRES_MULTIPLE_DATABASES", "")))):
        problems.append("docker-compose.yml's postgres POSTGRES_MULTIPLE_DATABASES lacks its database")
    return problems


def check_k8s(service: str) -> list[str]:
    problems = []
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    if f"{service}.yaml" not in kustomization.get("resources", []):
        problems.append(f"deploy/k8s/kustomization.yaml's resources lack {service}.yaml")
    if f"helpdesk/{service}" not in {image["name"] for image in kustomization.get("images", [])}:
        problems.append(f"deploy/k8s/kustomization.yaml's images lack helpdesk/{service}")
    documents = _k8s_documents()
    deployments = [doc for doc in documents if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == service]
    if not deployments:
        problems.append(f"deploy/k8s has no Deployment {service!r}")
    else:
        containers = deployments[0]["spec"]["template"]["spec"]["containers"]
        if not any(container.get("command") == _procfile().get(service) for container in containers):
            problems.append(f"deploy/k8s Deployment {service!r} does not run the Procfile's command")
    config = next((doc for doc in documents if doc.get("kind") == "ConfigMap"
                   and doc["metadata"]["name"] == "helpdesk-config"), {"data": {}})["data"]
    if service not in _csv(config.get("GATEWAY_SERVICES", "")):
        problems.append("deploy/k8s/configmap.yaml's GATEWAY_SERVICES lacks it (readiness)")
    if service not in _csv(config.get("POSTGRES_MULTIPLE_DATABASES", "")):
        problems.append("deploy/k8s/configmap.yaml's POSTGRES_MULTIPLE_DATABASES lacks its database")
    if f"{service.upper()}_METRICS_PORT" not in config:
        problems.append(f"deploy/k8s/configmap.yaml has no {service.upper()}_METRICS_PORT")
    if f"{service.upper()}_DATABASE_URL:" not in (K8S / "secrets.example.yaml").read_text():
        problems.append(f"deploy/k8s/secrets.example.yaml has no {service.upper()}_DATABASE_URL")
    return problems


def check_gateway_readiness(service: str) -> list[str]:
    from gateway.config import DEFAULTS

    listed = DEFAULTS["SERVICES"]
    listed = _csv(listed) if isinstance(listed, str) else set(listed)
    return [] if service in listed else [f"gateway/config.py's SERVICES default ({sorted(listed)}) lacks it"]


def check_ci(service: str) -> list[str]:
    # CI runs the Makefile's targets, which go over the Makefile's SERVICES and every test directory
    ci = (ROOT / ".ci" / "run").read_text()
    problems = [f".ci/run does not run `make {target}`" for target in ("lint", "test", "test-postgres")
                if not re.search(rf"^\s*make {re.escape(target)}(\s|$)", ci, re.M)]
    if not any((ROOT / "tests" / kind / service).is_dir() for kind in ("unit", "integration")):
        problems.append(f"no tests/unit/{service}/ or tests/integration/{service}/ for CI to run")
    return problems + check_makefile(service)


def check_test_lists(service: str) -> list[str]:
    # tests that name the services by hand (until they discover them)
    from tests.unit import test_deploy_files, test_migrations

    problems = []
    if service not in test_migrations.SERVICES:
        problems.append("tests/unit/test_migrations.py's SERVICES lacks it (migrations unchecked)")
    if service not in test_deploy_files.DEPLOYABLES:
        problems.append("tests/unit/test_deploy_files.py's DEPLOYABLES lacks it (manifests unchecked)")
    return problems


def check_docs(service: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    problems = [] if f"services/{service}/README.md" in readme else [f"README.md does not link services/{service}/README.md"]
    if "docs/adding-a-service.md" not in readme:
        problems.append("README.md does not link docs/adding-a-service.md")
    if f"{service.upper()}_METRICS_PORT" not in readme:
        problems.append(f"README.md's configuration table does not name {service.upper()}_METRICS_PORT")
    return problems


CHECKS: dict[str, Callable[[str], list[str]]] = {
    name.removeprefix("check_"): check for name, check in sorted(globals().items()) if name.startswith("check_")
}


def test_services_are_discovered():
    assert {"users", "tickets"} <= set(SERVICES)
    assert all(fnmatch.fnmatch(name, "[a-z]*") for name in SERVICES)


@pytest.mark.parametrize("place", sorted(CHECKS))
@pytest.mark.parametrize("service", SERVICES)
def test_service_is_named_in_every_place(service, place):
    problems = CHECKS[place](service)
    assert not problems, f"service {service!r} is missing from {place}:\n  " + "\n  ".join(problems)


# places that name no service: they cover every one by a wildcard (import-linter's ``services.*``)
BY_WILDCARD = {"import_contracts"}


@pytest.mark.parametrize("place", sorted(set(CHECKS) - BY_WILDCARD))
def test_a_service_named_nowhere_fails_every_check(place, tmp_path):
    # a service directory that exists but was added to none of the places: each check must say so
    problems = CHECKS[place]("zz_probe")
    assert problems, f"{place} did not notice a service missing from it"


def test_the_import_contracts_cover_any_service_by_wildcard():
    assert not check_import_contracts("zz_probe"), "an import contract lists services by name again"


def test_the_makefile_launcher_and_migration_checks_use_the_one_discovered_list():
    from helpdesk_common import stack
    from helpdesk_common.services import discover
    from tests.unit import test_migrations

    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "print-registry-services"],
        input="print-registry-services:\n\t@echo $(SERVICES)\n", cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )
    assert discover() == SERVICES
    assert done.stdout.split() == SERVICES
    assert stack.SERVICES == SERVICES
    assert test_migrations.SERVICES == SERVICES


def test_shared_code_names_no_service():
    # helpdesk_common is what every service copies from: a service's name in it is a list to edit by hand
    named = []
    for path in sorted((ROOT / "libs" / "helpdesk_common").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(rf"\b({'|'.join(SERVICES)})\b", line, re.I):
                named.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not named, "helpdesk_common names a service:\n  " + "\n  ".join(named)


# the test code every service's tests share: it sets no service's own setting and names no service
SHARED_TEST_CODE = [ROOT / "libs" / "helpdesk_common" / "testing.py", ROOT / "tests" / "conftest.py",
                    *sorted((ROOT / "tests").glob("*/conftest.py"))]


def _own_settings(service: str) -> set[str]:
    """The settings only ``service``'s config.yml has (the others' are the kit's, e.g. ``OUTBOX_RELAY``)."""
    def keys(name: str) -> set[str]:
        text = (ROOT / "services" / name / "config.yml").read_text()
        return set(re.findall(r"^([A-Z][A-Z0-9_]+):", text, re.M))

    return keys(service) - set().union(*(keys(other) for other in SERVICES if other != service))


def test_shared_test_code_sets_no_service_setting():
    found = []
    for service in SERVICES:
        words = _own_settings(service) | {service}
        for path in SHARED_TEST_CODE:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                hits = [word for word in words if re.search(rf"\b{word}\b", line, re.I if word == service else 0)]
                if hits:
                    found.append(f"{path.relative_to(ROOT)}:{number}: {hits}")
    assert not found, "shared test code names a service or sets its setting:\n  " + "\n  ".join(found)


def test_a_services_test_settings_come_from_its_own_testing_module():
    from helpdesk_common.testing import service_class, service_test_config

    assert service_test_config("tickets")["ORGANIZATION_SYNC_SECONDS"] == 0
    assert service_test_config("zz_probe") == {}
    for service in SERVICES:
        assert service_class(service).name == service
    with pytest.raises(LookupError):
        service_class("zz_probe")
