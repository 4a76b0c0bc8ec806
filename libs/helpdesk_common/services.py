"""The one list of the suite's services: the ``services/<name>/service.py`` files that exist.

The launcher (``helpdesk_common.stack``), the test fixtures (``helpdesk_common.testing``), the migration
checks and the Makefile (the same rule, in make's ``$(wildcard ...)``) read it here, so adding a service is
adding its directory (``docs/adding-a-service.md``); no shared code names one.
``python -m helpdesk_common.services`` prints them, one a line.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]


def discover(root: Path = REPO_ROOT) -> list[str]:
    """Return the names of the services under ``root/services`` (those with a ``service.py``), sorted."""
    return sorted(path.parent.name for path in (root / "services").glob("*/service.py"))


def service_dir(name: str, root: Path = REPO_ROOT) -> Path:
    """Return the directory of service ``name``."""
    return root / "services" / name


def alembic_ini(name: str, root: Path = REPO_ROOT) -> Path:
    """Return the Alembic configuration of service ``name``."""
    return service_dir(name, root) / "alembic.ini"


def service_module(name: str, module: str) -> ModuleType | None:
    """Import ``services.<name>.<module>`` when the service has it, else return None.

    Imported by name at run time (never at import time): shared code must not depend on a service.
    """
    if not (service_dir(name) / f"{module}.py").exists():
        return None
    return importlib.import_module(f"services.{name}.{module}")


if __name__ == "__main__":
    print("\n".join(discover()))
