"""The lint rule that services declare entrypoints only through ``helpdesk_common.nameko_ext``.

The contract of ``pyproject.toml`` is run by the real ``lint-imports`` on a throwaway package tree shaped
like ``services/`` (its services named in no list), so the rule is known to fail where it should.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_NAME = "Services declare entrypoints with helpdesk_common.nameko_ext, never nameko.rpc or nameko.events"


def _entrypoint_contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return config, next(c for c in config["contracts"] if c["name"] == RULE_NAME)


def _lint(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess:
    """Run lint-imports with the project's entrypoint contract on a tree ``probe_services/<svc>/...``."""
    for relative, text in {"probe_services/__init__.py": "", **files}.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in path.relative_to(tmp_path).parents[:-1]:
            (tmp_path / package / "__init__.py").touch()
        path.write_text(text)
    config, contract = _entrypoint_contract()
    sources = ", ".join(f'"{s.replace("services", "probe_services", 1)}"' for s in contract["source_modules"])
    forbidden = ", ".join(f'"{m}"' for m in contract["forbidden_modules"])
    allowed = ", ".join(f'"{m}"' for m in contract.get("allowed_names", []))
    types = ", ".join(f'"{t}"' for t in config["contract_types"])
    (tmp_path / "lint.toml").write_text(
        f'[tool.importlinter]\nroot_packages = ["probe_services"]\ninclude_external_packages = true\n'
        f"contract_types = [{types}]\n\n[[tool.importlinter.contracts]]\n"
        f'name = "entrypoints"\ntype = "{contract["type"]}"\nsource_modules = [{sources}]\n'
        f"forbidden_modules = [{forbidden}]\nallowed_names = [{allowed}]\n"
    )
    lint_imports = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(lint_imports), "--config", str(tmp_path / "lint.toml"), "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": str(Path(sys.executable).parent), "COLUMNS": "400"},
    )


def test_contract_covers_every_service_directory_by_wildcard():
    _, contract = _entrypoint_contract()
    assert contract["source_modules"] == ["services.*"]


def test_lint_fails_on_nameko_rpc_or_events_in_a_new_service(tmp_path):
    done = _lint(tmp_path, {
        "probe_services/alpha/service.py": "from nameko.rpc import rpc\n",
        "probe_services/beta/service.py": "from nameko import events\n",
        "probe_services/gamma/handlers/__init__.py": "from nameko.events import (\n    EventDispatcher,\n)\n",
        "probe_services/delta/worker.py": "import nameko.rpc\n",
    })
    report = done.stdout + done.stderr
    assert done.returncode != 0, report
    assert "probe_services.alpha.service:1 imports nameko.rpc.rpc" in report
    assert "probe_services.beta.service:1 imports nameko.events" in report
    assert "probe_services.gamma.handlers:1 imports nameko.events.EventDispatcher" in report
    assert "probe_services.delta.worker:1 imports nameko.rpc" in report


def test_lint_passes_on_nameko_ext_entrypoints_and_an_rpc_proxy(tmp_path):
    done = _lint(tmp_path, {
        "probe_services/alpha/service.py": "from helpdesk_common.nameko_ext import rpc, reliable_event_handler\n",
        "probe_services/alpha/dependencies.py": (
            "from nameko.extensions import DependencyProvider\nfrom nameko.rpc import RpcProxy\n"
        ),
    })
    assert done.returncode == 0, done.stdout + done.stderr
    assert "KEPT" in done.stdout
