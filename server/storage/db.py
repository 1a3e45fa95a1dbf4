"""Open the database named by PHOTOTIPS_DATABASE_URL and bring its schema up to date.

SQLite runs in WAL mode with synchronous=FULL: a commit is on disk before the
call returns, which is what "acknowledged only after durably stored" needs.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import PhotoTipsError

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
    cfg = alembic_config_for_scripts()
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


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config_for_scripts()).get_current_head()


def alembic_config_for_scripts():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def where(engine: Engine) -> str:
    """The database's URL without its password: what messages and the CLI name."""
    return engine.url.render_as_string(hide_password=True)


def open_database(url: str, migrate_now: bool = True, check_schema: bool = True) -> Engine:
    """The engine, its schema brought up to date (or, without `migrate_now`, checked to be, unless not
    `check_schema`: the database only reached). A database that cannot be used stops a start or a command with
    one line saying which and why, not the driver's traceback."""
    engine = make_engine(url)
    try:
        if migrate_now:
            migrate(engine)
        else:
            revision = current_revision(engine)
            if check_schema and revision != head_revision():
                raise PhotoTipsError("bad_config", f"the database at {where(engine)} is not at this version's schema "
                                                   f"(revision {revision}): run `phototips db upgrade`")
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        raise PhotoTipsError("storage_unavailable", f"the database at {where(engine)} cannot be used: {reason}",
                             503) from None
    return engine
