"""The DuckDB warehouse: one file, one table per asset.

DuckDB admits one writing process at a time and a read-write process excludes every other
process, readers included. So botstudy never keeps the file open: each read or write opens a
connection, does its work in one transaction and closes it, and a connection that finds the file
locked by another process (a `duckdb -readonly` session, a notebook, a parallel Dagster step)
waits with backoff instead of failing. Every table is replaced inside a transaction, so a killed
run leaves it at its old or its new content, never half-written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from .backoff import Backoff

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")
# Threads of one process share DuckDB's database instance, which is torn down when its last
# connection closes; one connection at a time per process keeps threads (the miners) from
# racing an open against a close, and from conflicting on the same table.
_PROCESS_LOCK = threading.RLock()
WRITE_ROW_GROUP_SIZE = 16_384
# The catalog name of the attached file; a fixed name, as a file stem may be reserved ("temp").
_WRITE_ALIAS = "warehouse"


class WarehouseLockTimeout(RuntimeError):
    """Another process kept the DuckDB file locked for longer than the configured timeout."""


def _is_lock_error(error: Exception) -> bool:
    return any(marker in str(error) for marker in _LOCK_MARKERS)


def frame_of(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> pl.DataFrame:
    """A query's rows as a polars frame (through Arrow, without an extra copy)."""
    frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)  # a table, never a single column
    return frame


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connect_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection whose row groups stay small.

    Each close checkpoints, and a checkpoint merges the small row groups of many short
    transactions into full 122,880-row groups; with raw JSON columns one such group is a few
    hundred MB in memory. Attaching with a smaller ROW_GROUP_SIZE keeps the miner's peak memory
    well under 1 GB at paper scale, at no cost in speed.
    """
    # Spill beside the file, as a connection to the file itself would (not into the cwd).
    con = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
    try:
        options = f"ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE}"
        con.execute(f"ATTACH {quote_literal(str(path))} AS {_WRITE_ALIAS} ({options})")
        con.execute(f"USE {_WRITE_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def _open_when_unlocked(path: Path, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting with jittered exponential backoff while another process holds it."""
    deadline = time.monotonic() + timeout_s
    backoff, attempt = Backoff(base_s=0.05, cap_s=1.0), 0
    while True:
        try:
            if read_only:
                return duckdb.connect(str(path), read_only=True)
            return _connect_for_writing(path)
        except duckdb.Error as error:
            if not _is_lock_error(error):
                raise
            if time.monotonic() > deadline:
                raise WarehouseLockTimeout(
                    f"{path} stayed locked by another process for {timeout_s:.0f} s; close "
                    "long-lived sessions on it (open it with `duckdb -readonly`) and try again"
                ) from error
            time.sleep(backoff.delay(attempt))
            attempt += 1


def connect_read_only(path: str | Path, timeout_s: float = 120.0) -> duckdb.DuckDBPyConnection:
    """For notebooks and scripts: a read-only connection that waits while botstudy is writing.

    A run holds the file only for the seconds one table takes to write, so a reader retries
    instead of failing. Close it soon: while it is open, botstudy's next write waits for it.
    """
    return _open_when_unlocked(Path(path), read_only=True, timeout_s=timeout_s)


@dataclass(frozen=True)
class Warehouse:
    """The DuckDB file every asset writes its table to (BOTSTUDY_DB)."""

    path: Path
    lock_timeout_s: float = 600.0

    @property
    def file(self) -> Path:
        return Path(self.path)

    @contextmanager
    def connect(self) -> Generator[duckdb.DuckDBPyConnection]:
        """A short-lived connection, waiting (with jittered backoff) while another process holds
        the file."""
        with _PROCESS_LOCK:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            con = _open_when_unlocked(self.file, read_only=False, timeout_s=self.lock_timeout_s)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def transaction(self) -> Generator[duckdb.DuckDBPyConnection]:
        """One atomic unit of work: committed on success, rolled back on any error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> pl.DataFrame:
        with self.connect() as con:
            return frame_of(con, sql, params)

    def scalar(self, sql: str, params: Sequence[Any] | dict | None = None) -> Any:
        with self.connect() as con:
            row = con.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def replace_table(self, name: str, frame: pl.DataFrame) -> int:
        """Atomically replace table `name` with `frame`'s rows; returns the row count."""
        with self.transaction() as con:
            con.register("_incoming_frame", frame.to_arrow())
            con.execute(
                f"CREATE OR REPLACE TABLE {quote_ident(name)} AS SELECT * FROM _incoming_frame"
            )
            con.unregister("_incoming_frame")
        return frame.height
