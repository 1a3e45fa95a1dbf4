"""Durable storage through SQLAlchemy: SQLite (WAL) by default, PostgreSQL by URL; Alembic migrations."""
