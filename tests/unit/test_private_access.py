"""Only ``writebehind`` and ``db`` reach into SQLAlchemy's or psycopg's internals or the raw driver connection."""

import ast
from pathlib import Path

from helpdesk_common.stack import REPO_ROOT

ALLOWED_MODULES = {"libs/helpdesk_common/writebehind.py", "libs/helpdesk_common/db.py"}
# the raw driver connection and what is done with it
RAW_DRIVER = {"driver_connection", "dbapi_connection", "pgconn", "run_script", "encoding"}
# underscored, but public API: Row._mapping, namedtuple methods, os._exit
PUBLIC_UNDERSCORED = {"_mapping", "_asdict", "_replace", "_fields", "_exit"}


def _imports_a_database_library(tree: ast.Module) -> bool:
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    return any(name.split(".")[0] in ("sqlalchemy", "psycopg") for name in names)


def _offences(path: Path) -> list[str]:
    """Raw-driver names anywhere; underscored attributes of other objects in modules using SQLAlchemy/psycopg."""
    found = []
    tree = ast.parse(path.read_text(), filename=str(path))
    database_module = _imports_a_database_library(tree)
    label = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        base = node.value
        own = (isinstance(base, ast.Name) and (base.id in ("self", "cls") or base.id[:1].isupper())) or (
            isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super")
        if node.attr in RAW_DRIVER:
            found.append(f"{label}:{node.lineno}: .{node.attr}")
        elif database_module and node.attr.startswith("_") and not node.attr.startswith("__") and not own \
                and node.attr not in PUBLIC_UNDERSCORED:
            found.append(f"{label}:{node.lineno}: ._{node.attr.lstrip('_')}")
    return found


def _sources():
    for root in ("libs", "services", "gateway"):
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            if str(path.relative_to(REPO_ROOT)) not in ALLOWED_MODULES and "/migrations/" not in str(path):
                yield path


def test_no_module_but_writebehind_and_db_touches_private_attributes_or_the_raw_driver():
    offences = [offence for path in _sources() for offence in _offences(path)]
    assert offences == [], "move these behind a function of writebehind.py or db.py:\n" + "\n".join(offences)


def test_the_check_catches_a_raw_driver_connection(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from sqlalchemy import MetaData\n\ndef f(session):\n"
                     "    return session.connection().connection.driver_connection, MetaData()._sequences\n")
    assert _offences(probe) == ["probe.py:4: .driver_connection", "probe.py:4: ._sequences"]
