"""Alembic environment: run migrations on the connection the service hands over (or the configured URL)."""

from alembic import context
from sqlalchemy import create_engine

from phototips.storage.tables import metadata

config = context.config


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
            context.configure(connection=conn, target_metadata=metadata)
            context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=metadata)
    context.run_migrations()


run()
