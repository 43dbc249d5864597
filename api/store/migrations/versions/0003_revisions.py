"""revisions: a counter per document that the database bumps whenever the document, its claims, their support links or
its ownership change

The service keeps each document's claim views in memory (``api.viewcache``) and must know when they are stale,
whoever wrote the change: a job of this service, or a ``vbp`` command on the same database. Triggers bump the
document's counter on every insert, update or delete of the rows a claim view is built from, so no code path can
forget to, and a job writing one document's links leaves every other document's views alone. Review decisions need
no counter: they are append-only, and their ids say what is new in a tender.

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

# table -> the SELECT giving (document id, 1) for a row, in SQLite trigger syntax ({row} is NEW or OLD). An upsert from a
# SELECT needs a WHERE clause in SQLite; a link whose claim went first (a cascade) names no document and bumps nothing.
WATCHED = {
    "documents": "SELECT {row}.id, 1 WHERE true",
    "claims": "SELECT {row}.doc_id, 1 WHERE true",
    "tender_documents": "SELECT {row}.doc_id, 1 WHERE true",
    "support_links": "SELECT doc_id, 1 FROM claims WHERE id = {row}.claim_id",
}


def upgrade() -> None:
    op.create_table('revisions',
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("""CREATE OR REPLACE FUNCTION vbp_bump_document() RETURNS trigger AS $$
            DECLARE r record; d text;
            BEGIN
                IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
                IF TG_TABLE_NAME = 'documents' THEN d := r.id;
                ELSIF TG_TABLE_NAME = 'support_links' THEN SELECT doc_id INTO d FROM claims WHERE id = r.claim_id;
                ELSE d := r.doc_id;
                END IF;
                IF d IS NOT NULL THEN
                    INSERT INTO revisions (scope, value) VALUES (d, 1) ON CONFLICT (scope) DO UPDATE SET value = revisions.value + 1;
                END IF;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""")
    for table, select in WATCHED.items():
        if dialect == "sqlite":
            for verb, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                op.execute(f"CREATE TRIGGER {table}_bump_{verb.lower()} AFTER {verb} ON {table} BEGIN "
                           f"INSERT INTO revisions (scope, value) {select.format(row=row)} "
                           "ON CONFLICT (scope) DO UPDATE SET value = value + 1; END")
        elif dialect == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_bump AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION vbp_bump_document()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in WATCHED:
        if dialect == "sqlite":
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_{verb}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS vbp_bump_document()")
    op.drop_table('revisions')
