"""revisions: a counter the database bumps whenever documents, claims or support links change

The service keeps each document's claim views in memory (``api.viewcache``) and must know when they are stale,
whoever wrote the change: a job in the service, or a ``vbp`` command on the same database. Triggers bump the
``data`` counter on every insert, update or delete of the rows a claim view is built from, so no code path can
forget to. Review decisions need no counter: their ids already say what is new in a tender.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

WATCHED = ("documents", "claims", "support_links", "tender_documents")


def upgrade() -> None:
    op.create_table('revisions',
    sa.Column('scope', sa.String(length=60), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    op.execute("INSERT INTO revisions (scope, value) VALUES ('data', 0)")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION vbp_bump_data() RETURNS trigger AS $$ BEGIN "
                   "UPDATE revisions SET value = value + 1 WHERE scope = 'data'; RETURN NULL; END $$ LANGUAGE plpgsql")
    for table in WATCHED:
        if dialect == "sqlite":  # row-level only in SQLite; a bulk insert bumps once per row, which is cheap
            for verb in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_bump_{verb.lower()} AFTER {verb} ON {table} "
                           "BEGIN UPDATE revisions SET value = value + 1 WHERE scope = 'data'; END")
        elif dialect == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_bump AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION vbp_bump_data()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in WATCHED:
        if dialect == "sqlite":
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_{verb}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS vbp_bump_data()")
    op.drop_table('revisions')
