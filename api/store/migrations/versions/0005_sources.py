"""sources: pages read by OCR carry their mean word confidence

Word, Excel and scanned sources (issue 14). A page whose text was read by OCR from its image stores the mean
confidence of its words, so a reviewer can tell a text layer from a reading of pixels. Paragraph and cell locations
and total mismatches live in the document's ``structure`` JSON beside its sections, which needs no new column. Word
and Excel media types are longer than the 60 characters ``documents.media_type`` allowed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('pages', sa.Column('ocr_confidence', sa.Float(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce a VARCHAR's length; other databases do
        op.alter_column('documents', 'media_type', type_=sa.String(length=120), existing_type=sa.String(length=60))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('documents', 'media_type', type_=sa.String(length=60), existing_type=sa.String(length=120))
    with op.batch_alter_table('pages') as batch_op:
        batch_op.drop_column('ocr_confidence')
