"""Dagster's SQLite event log, with its connections kept open between events.

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine for every event it stores (and
a second and third one for the cross-run index shard and its `has_table` checks), opens one
connection, commits and closes it. Closing the last connection of a WAL database makes SQLite
checkpoint the WAL and delete it, so every event costs an engine, a connection, a commit and a
checkpoint. A build stores about 1,300 events (36 dbt models, 420 dbt tests as asset checks,
their planned events); under py-spy that was 17 of a seed build's 78 s (docs/benchmark.md).

This subclass changes only how connections are made:

- one engine per shard (the index shard and the most recent run shards, at most `MAX_ENGINES`),
  with a pool of one open connection, so SQLite keeps its WAL between events and checkpoints
  it when it grows (every 1,000 pages) instead of at every close;
- `has_table` answers from a cache once a table is known to exist (tables are never dropped
  while a storage is in use; a wipe forgets the cache);
- after `fork()` a child process never reuses its parent's connections;
- `wipe` and `dispose` close every connection first.

What is stored, and the files it is stored in, are Dagster's own: an instance configured with
the plain `SqliteEventLogStorage` reads the same history. Concurrency between processes (the UI,
the daemon, a build) is SQLite's, as before: each access still runs in a transaction, under the
storage's lock within a process. The project's `dagster.yaml` (written by tasks.py) selects it:

    event_log_storage:
      module: dagster_project.event_log
      class: PooledSqliteEventLogStorage
      config:
        base_dir: <DAGSTER_HOME>/history/runs
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME  # noqa: F401 (re-export)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# run shards are one file per run: keep the engines of the few most recently used ones
MAX_ENGINES = 8

_LIVE: weakref.WeakSet[PooledSqliteEventLogStorage] = weakref.WeakSet()


def _forget_after_fork() -> None:
    for storage in list(_LIVE):
        storage._forget_engines(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that keeps one open connection per recently used shard."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables: set[str] = set()
        self._pid = os.getpid()
        if not base_dir:
            home = os.environ.get("DAGSTER_HOME")
            if not home:
                raise ValueError("PooledSqliteEventLogStorage needs base_dir in its config, or DAGSTER_HOME set")
            base_dir = os.path.join(home, "history", "runs")
        super().__init__(base_dir, inst_data=inst_data)
        _LIVE.add(self)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **dict(config_value or {}))

    # -- engines -------------------------------------------------------------------------------

    def _engine(self, shard: str) -> Engine:
        if self._pid != os.getpid():  # a forked child that missed the at-fork hook
            self._forget_engines(close=False)
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=2,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        self._engines[shard] = engine
        while len(self._engines) > MAX_ENGINES:
            oldest = next(k for k in self._engines if k != INDEX_SHARD_NAME)
            self._engines.pop(oldest).dispose()
        return engine

    def _forget_engines(self, close: bool = True) -> None:
        engines, self._engines = list(self._engines.values()), OrderedDict()
        self._pid = os.getpid()
        for engine in engines:
            engine.dispose(close=close)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    # -- what removes files or ends the storage: close the connections first -----------------

    def wipe(self) -> None:
        with self._db_lock:
            self._forget_engines()
            self._tables = set()
        super().wipe()

    def dispose(self) -> None:
        with self._db_lock:
            self._forget_engines()
        super().dispose()
