"""Dagster's SQLite event log, with its database engines kept open.

Dagster's `SqliteEventLogStorage` creates a SQLAlchemy engine, connects,
commits and disposes of the engine for every read and write: a run of the
nightly job makes about 2 200 of them (319 events, their asset and check
index rows, the input versions each step reads). Creating the engine is two
thirds of each one's cost: 300 plain events took 0.94 s, 0.26 s on a kept
engine (docs/performance.md). This storage keeps one engine per database
file (the run's shard and the index) for the life of the process, at most
`MAX_ENGINES` of them, the least recently used disposed first, so that a
webserver browsing many runs does not hold a file open per run.

Only the connection source changes: the files, their schema and every commit
(with its fsync) are Dagster's, so an instance can switch between this class
and Dagster's own without a migration. A database file is created or
migrated by Dagster's own connection the first time this process uses it.
dagster.yaml selects it; the base directory defaults to Dagster's own,
`$DAGSTER_HOME/history/runs`.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData

#: Engines kept open per process: the index, the run being executed and a few
#: runs a webserver is showing.
MAX_ENGINES = 8
#: Seconds a connection waits for another process's write lock (Dagster's own value).
BUSY_TIMEOUT_SECONDS = 30


#: The storages of this process, whose engines a forked child must not use.
_STORAGES: weakref.WeakSet[PooledSqliteEventLogStorage] = weakref.WeakSet()


def _forget_engines_in_child() -> None:
    """A forked child opens its own SQLite connections (SQLAlchemy's advice:
    drop the parent's without closing them)."""
    for storage in list(_STORAGES):
        storage._forget_engines()


os.register_at_fork(after_in_child=_forget_engines_in_child)


def default_base_dir() -> str:
    """Dagster's own event log directory of the instance in DAGSTER_HOME."""
    return os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose engines outlive a single connection."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._ready: set[str] = set()
        self._tables: set[str] = set()
        self._engine_lock = threading.RLock()
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)  # may write the index already
        _STORAGES.add(self)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @property
    def engines_open(self) -> int:
        """Engines this process keeps open (at most `MAX_ENGINES`)."""
        return len(self._engines)

    def run_connection(self, run_id: str | None = None) -> Any:
        return self._pooled(run_id)  # type: ignore[arg-type]  # Dagster's own refuses None too

    def index_connection(self) -> Any:
        return self._pooled(INDEX_SHARD_NAME)

    def has_table(self, table_name: str) -> bool:
        """Whether the index has `table_name`, asked on the kept engine: Dagster
        asks before every asset check event (134 times a run). A table, once
        there, stays (a migration adds tables, none drops one), so yes is kept."""
        if table_name in self._tables:
            return True
        with self._pooled(INDEX_SHARD_NAME) as conn:
            present = bool(conn.dialect.has_table(conn, table_name))
        if present:
            self._tables.add(table_name)
        return present

    @contextmanager
    def _pooled(self, shard: str) -> Iterator[sa.Connection]:
        """A connection to `shard` in a transaction that commits on exit, as
        Dagster's own; one connection at a time per process, as Dagster's own."""
        with self._engine_lock:
            engine = self._engine(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> sa.Engine:
        if shard not in self._ready:
            # Dagster's own connection creates the file or checks its schema.
            own = super().index_connection() if shard == INDEX_SHARD_NAME else super().run_connection(shard)
            with own:
                pass
            self._ready.add(shard)
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = sa.create_engine(self.conn_string_for_shard(shard), connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        self._engines[shard] = engine
        while len(self._engines) > MAX_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def _forget_engines(self) -> None:
        for engine in self._engines.values():
            engine.dispose(close=False)
        self._engines.clear()
        self._engine_lock = threading.RLock()  # another thread of the parent may have held it

    def _dispose_engines(self) -> None:
        with self._engine_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
