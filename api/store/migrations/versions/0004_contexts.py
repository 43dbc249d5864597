"""contexts: support links belong to the party they were checked for; one file may be a supplier's draft and submission

A document is stored once per content hash, so two parties who upload the same bytes share its parsed text, passages,
embeddings and claims (all of them a function of the bytes alone). What a check derives for one party is not: it
depends on the papers that party uploaded. Until now the support links were keyed by claim alone, so the last job on
the bytes replaced every party's links (a rival's identical upload erased another supplier's checks).

* ``support_links.context`` names the party a link was checked for: ``<tender>/<supplier>/<role>`` in the service,
  ``''`` for the command line (``vbp support``, ``vbp check-claim``). Existing links were the ones every party saw;
  each party's context gets a copy of them, and the ``''`` rows stay for the command line.
* review decisions and claim versions name the supplier whose copy of the claim they judge (``supplier_id``): two
  suppliers who uploaded the same bytes to one tender share the extracted claims, and an evaluator's decision on one
  supplier's claim must not become the other's. Existing decisions are given to the first supplier (by upload) that
  owns the claim's document in that tender outside a draft.
* ``tender_documents`` is unique on (tender, supplier, document, role): a supplier's private draft and its submission
  may be the same file, and an evaluator uploading a supplier's file no longer collides with (and so learns of) that
  supplier's private draft.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 18:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# the revision triggers of 0003, which SQLite drops with a table when batch mode rebuilds it
_WATCHED = {
    "tender_documents": "SELECT {row}.doc_id, 1 WHERE true",
    "support_links": "SELECT doc_id, 1 FROM claims WHERE id = {row}.claim_id",
}


def _sqlite_triggers(table: str) -> None:
    for verb, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_{verb.lower()}")
        op.execute(f"CREATE TRIGGER {table}_bump_{verb.lower()} AFTER {verb} ON {table} BEGIN "
                   f"INSERT INTO revisions (scope, value) {_WATCHED[table].format(row=row)} "
                   "ON CONFLICT (scope) DO UPDATE SET value = value + 1; END")


def _owner_unique(columns: list[str]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        with op.batch_alter_table('tender_documents', recreate="always") as batch_op:
            batch_op.drop_constraint('uq_tender_documents_owner', type_='unique')
            batch_op.create_unique_constraint('uq_tender_documents_owner', columns)
        _sqlite_triggers('tender_documents')
    else:
        op.drop_constraint('uq_tender_documents_owner', 'tender_documents', type_='unique')
        op.create_unique_constraint('uq_tender_documents_owner', 'tender_documents', columns)


_APPEND_ONLY = ("review_decisions", "claim_versions")
# the first non-draft owner of a row's claim in its tender: whose claim a decision made before this revision judged
_FIRST_OWNER = """(SELECT o.supplier_id FROM tender_documents o JOIN claims c ON c.doc_id = o.doc_id
                   WHERE c.id = {table}.claim_id AND o.tender_id = {table}.tender_id AND o.role <> 'draft'
                   ORDER BY o.id LIMIT 1)"""


def _append_only(on: bool) -> None:
    """Drop (``on`` False) or re-create the database's refusal of UPDATE and DELETE on the append-only tables (0002)."""
    dialect = op.get_bind().dialect.name
    for table in _APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb.lower()}")
                if on:
                    op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                               f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: rows are never updated or deleted'); END")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            if on:
                op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION vbp_append_only()")


def _version_unique(columns: list[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('claim_versions', recreate="always") as batch_op:
            batch_op.drop_constraint('uq_claim_versions_version', type_='unique')
            batch_op.create_unique_constraint('uq_claim_versions_version', columns)
    else:
        op.drop_constraint('uq_claim_versions_version', 'claim_versions', type_='unique')
        op.create_unique_constraint('uq_claim_versions_version', 'claim_versions', columns)


def upgrade() -> None:
    op.add_column('support_links', sa.Column('context', sa.String(length=200), nullable=False, server_default=''))
    op.create_index('ix_support_links_claim_context', 'support_links', ['claim_id', 'context'], unique=False)
    # every party that owns a checked document (as a submission or draft) keeps the links it saw before this revision
    op.execute("""
        INSERT INTO support_links (claim_id, passage_id, stance, score, data, created_at, context)
        SELECT l.claim_id, l.passage_id, l.stance, l.score, l.data, l.created_at,
               o.tender_id || '/' || o.supplier_id || '/' || o.role
        FROM support_links l
        JOIN claims c ON c.id = l.claim_id
        JOIN tender_documents o ON o.doc_id = c.doc_id AND o.role IN ('submission', 'draft')
        WHERE l.context = ''
    """)
    _owner_unique(['tender_id', 'supplier_id', 'doc_id', 'role'])

    _append_only(False)
    for table in _APPEND_ONLY:
        op.add_column(table, sa.Column('supplier_id', sa.String(length=64), nullable=True))
        op.execute(f"UPDATE {table} SET supplier_id = {_FIRST_OWNER.format(table=table)} WHERE tender_id IS NOT NULL")
    _version_unique(['claim_id', 'tender_id', 'supplier_id', 'version'])
    op.create_index('ix_review_decisions_claim_tender_supplier', 'review_decisions', ['claim_id', 'tender_id', 'supplier_id'])
    _append_only(True)


def downgrade() -> None:
    _append_only(False)
    op.drop_index('ix_review_decisions_claim_tender_supplier', table_name='review_decisions')
    # one supplier's decisions and versions are kept per claim and tender: the first supplier's (the older key allows one)
    op.execute("""DELETE FROM claim_versions WHERE supplier_id IS NOT NULL AND supplier_id <> (
        SELECT MIN(v.supplier_id) FROM claim_versions v
        WHERE v.claim_id = claim_versions.claim_id AND v.tender_id = claim_versions.tender_id)""")
    _version_unique(['claim_id', 'tender_id', 'version'])
    for table in _APPEND_ONLY:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('supplier_id')
    _append_only(True)
    # two ownership rows of one file in one tender (a draft and a submission) cannot both survive the older constraint:
    # the submission is kept
    op.execute("""
        DELETE FROM tender_documents WHERE role = 'draft' AND EXISTS (
            SELECT 1 FROM tender_documents s WHERE s.tender_id = tender_documents.tender_id
            AND s.supplier_id = tender_documents.supplier_id AND s.doc_id = tender_documents.doc_id AND s.role <> 'draft')
    """)
    _owner_unique(['tender_id', 'supplier_id', 'doc_id'])
    op.execute("DELETE FROM support_links WHERE context <> ''")
    op.drop_index('ix_support_links_claim_context', table_name='support_links')
    with op.batch_alter_table('support_links') as batch_op:
        batch_op.drop_column('context')
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers('support_links')
