"""Open the database named by PHOTOTIPS_DATABASE_URL and bring its schema up to date.

SQLite runs in WAL mode with synchronous=FULL: a commit is on disk before the
call returns, which is what "acknowledged only after durably stored" needs.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # SQLAlchemy, not the driver, begins transactions (below), so a writer can ask for IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        # Writers of this process take turns here before asking SQLite: under gevent, SQLite's busy wait
        # would block the whole process, including the writer it waits for.
        turns = threading.Lock()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # A transaction that reads and then writes must take the write lock first: upgrading a read
            # lock fails at once with "database is locked" when another writer is busy, whatever the
            # busy timeout. IMMEDIATE waits for the lock instead (up to busy_timeout).
            if not conn.get_execution_options().get("writer"):
                conn.exec_driver_sql("BEGIN")
                return
            turns.acquire()
            conn.info["writer_turn"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _end(conn)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _end(conn):
            if conn.info.pop("writer_turn", False):
                turns.release()
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
