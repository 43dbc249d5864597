"""Storage: SQLAlchemy models, Alembic migrations and the repository the rest of the code uses."""
