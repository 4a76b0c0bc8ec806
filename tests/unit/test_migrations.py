"""Every service's migrations build exactly the schema its code maps (no drift), up and down."""

import pytest
from alembic import command
from alembic.config import Config

from helpdesk_common.testing import REPO_ROOT

SERVICES = ["users", "tickets"]


def _config(service, url):
    cfg = Config(str(REPO_ROOT / f"services/{service}/alembic.ini"))
    cfg.attributes["database_url"] = url
    return cfg


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_mapped_tables(service, database_factory):
    cfg = _config(service, database_factory.create(service))
    command.upgrade(cfg, "head")

    command.check(cfg)  # raises when autogenerate would still find something to do


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_downgrade_to_base_and_up_again(service, database_factory):
    cfg = _config(service, database_factory.create(service))
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")

    command.upgrade(cfg, "head")
    command.check(cfg)
