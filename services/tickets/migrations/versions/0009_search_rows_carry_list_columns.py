"""PostgreSQL: ticket_search rows carry the ticket's list columns, kept by triggers, so a search's window of
newest matches is read from ticket_search alone (no join to tickets per match)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 12:00:00

Which columns, and why triggers rather than code: see ``PostgresTicketSearchIndex``. SQLite's FTS5 index is
unchanged (its searches still join the tickets table).
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# the tickets columns a search filters, checks visibility or sorts on (types as in the tickets table)
CARRIED = {
    "updated_at": "TIMESTAMP WITH TIME ZONE",
    "created_at": "TIMESTAMP WITH TIME ZONE",
    "deleted_at": "TIMESTAMP WITH TIME ZONE",
    "status": "VARCHAR(20)",
    "priority": "VARCHAR(10)",
    "category": "VARCHAR(100)",
    "source": "VARCHAR(10)",
    "requester_id": "VARCHAR(36)",
    "assignee_id": "VARCHAR(36)",
    "department_id": "VARCHAR(36)",
    "organization_id": "VARCHAR(36)",
}
_NAMES = ", ".join(CARRIED)
_FROM_NEW = ", ".join(f"{name} = NEW.{name}" for name in CARRIED)
_CHANGED = " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name in CARRIED)

UPGRADE = [
    "ALTER TABLE ticket_search " + ", ".join(f"ADD COLUMN {name} {sql}" for name, sql in CARRIED.items()),
    f"UPDATE ticket_search AS s SET ({_NAMES}) = (SELECT {_NAMES} FROM tickets AS t WHERE t.id = s.ticket_id)",
    # a row written for a ticket takes the ticket's columns (none yet when the ticket comes later: see below)
    f"""CREATE FUNCTION ticket_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {_NAMES} INTO {", ".join(f"NEW.{name}" for name in CARRIED)} FROM tickets WHERE id = NEW.ticket_id;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER ticket_search_fill BEFORE INSERT ON ticket_search FOR EACH ROW EXECUTE FUNCTION ticket_search_fill()",
    # and follows every change of them, whoever makes it (handlers, bulk statements, migrations, psql)
    f"""CREATE FUNCTION ticket_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE ticket_search SET {_FROM_NEW} WHERE ticket_id = NEW.id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER ticket_search_follow_insert AFTER INSERT ON tickets FOR EACH ROW "
    "EXECUTE FUNCTION ticket_search_follow()",
    f"CREATE TRIGGER ticket_search_follow_update AFTER UPDATE ON tickets FOR EACH ROW WHEN ({_CHANGED}) "
    "EXECUTE FUNCTION ticket_search_follow()",
    # the newest matches of a common word come from here; a customer's own from the requester's
    "CREATE INDEX ix_ticket_search_updated ON ticket_search (updated_at DESC, ticket_id)",
    "CREATE INDEX ix_ticket_search_requester ON ticket_search (requester_id)",
    "CREATE INDEX ix_ticket_search_organization ON ticket_search (organization_id)",
]

DOWNGRADE = [
    "DROP TRIGGER IF EXISTS ticket_search_follow_update ON tickets",
    "DROP TRIGGER IF EXISTS ticket_search_follow_insert ON tickets",
    "DROP FUNCTION IF EXISTS ticket_search_follow()",
    "DROP TRIGGER IF EXISTS ticket_search_fill ON ticket_search",
    "DROP FUNCTION IF EXISTS ticket_search_fill()",
    "DROP INDEX IF EXISTS ix_ticket_search_organization",
    "DROP INDEX IF EXISTS ix_ticket_search_requester",
    "DROP INDEX IF EXISTS ix_ticket_search_updated",
    "ALTER TABLE ticket_search " + ", ".join(f"DROP COLUMN IF EXISTS {name}" for name in CARRIED),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
