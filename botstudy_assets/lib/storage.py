"""The DuckDB warehouse: one table per asset, a private working copy that runs write and a
published file that SQL users query.

DuckDB admits one writing process at a time and a read-write process excludes every other
process, readers included. So a run never writes the file users query (BOTSTUDY_DB): it writes a
working copy beside it (`botstudy.work.duckdb`) and, after each asset materializes, publishes a
copy of it atomically (written beside BOTSTUDY_DB, fsynced, renamed over it). A reader that keeps
the old file open keeps its consistent view (the rename leaves its inode alone); the next open
sees the new file; readers and runs never wait for each other.

The working copy is shared by every botstudy process of a run (steps of the multiprocess or
Celery executor): each read or write takes an exclusive file lock beside it, opens a connection,
does its work in one transaction and closes it. Every table is replaced inside a transaction, so
a killed run leaves it at its old or its new content, never half-written; the next run reuses
it. Mined pages and the walks' state live in the lake (`lake.py`), not here, so mining runs of
different repositories never take a turn on this lock.

Both files are in DuckDB's storage format STORAGE_VERSION, which every client from DuckDB 1.1 on
reads (the CLI, JDBC/DBeaver, R, older Python packages), not in the newest format the bundled
duckdb would write by default.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import filelock
import polars as pl

from .backoff import Backoff

# The oldest storage format botstudy writes: DuckDB 1.1 (and every later client) reads it, at no
# loss for botstudy's column types. Its header carries storage version number 64.
STORAGE_VERSION = "v1.1.0"
_STORAGE_NUMBER = 64
_MAGIC = b"DUCK"
_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")
# Threads of one process share DuckDB's database instance, which is torn down when its last
# connection closes; one connection at a time per process keeps threads (the miners) from
# racing an open against a close, and from conflicting on the same table.
_PROCESS_LOCK = threading.RLock()
WRITE_ROW_GROUP_SIZE = 16_384
# The catalog name of the attached file; a fixed name, as a file stem may be reserved ("temp").
_WRITE_ALIAS = "warehouse"
_WRITE_OPTIONS = f"ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE}, STORAGE_VERSION '{STORAGE_VERSION}'"
_COPY_CHUNK = 1 << 20
PUBLISHING_SUFFIX = ".publishing"


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


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def working_copy_of(published: Path) -> Path:
    """Where runs write: beside the published file, `botstudy.duckdb` -> `botstudy.work.duckdb`
    (git-ignored like every *.duckdb)."""
    return published.with_name(f"{published.stem}.work{published.suffix}")


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(source: Path, target: Path) -> bool:
    """Atomically make `target` a copy of the closed, checkpointed DuckDB file `source`: written
    beside `target`, fsynced, renamed over it, the folder fsynced. A reader holding the old file
    keeps it; the next open sees the new one; a crash leaves the old or the new file, never a
    torn one. `target` gets `source`'s modification time, so it is skipped (False) while `source`
    has not changed since. Callers serialize publications of one target (leftovers of a killed
    one are removed here)."""
    stat = source.stat()
    if target.exists():
        published = target.stat()
        if (published.st_mtime_ns, published.st_size) == (stat.st_mtime_ns, stat.st_size):
            return False
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.*{PUBLISHING_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PUBLISHING_SUFFIX}")
    try:
        # 0o666 less the umask, like any new file (a temporary file would be private).
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as out, source.open("rb") as data:
            shutil.copyfileobj(data, out, _COPY_CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.utime(partial, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        # A WAL beside `target` belongs to the old file (one an older botstudy wrote) and would
        # be replayed into the new one. Without it the old file is still whole.
        wal_of(target).unlink(missing_ok=True)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)
    return True


def _header_storage_number(path: Path) -> int | None:
    """The storage version number in a DuckDB file's header (None: not a DuckDB file)."""
    with path.open("rb") as file:
        header = file.read(20)
    if header[8:12] != _MAGIC:
        return None
    return int.from_bytes(header[12:20], "little")


def _rewrite(source: Path, target: Path) -> None:
    """Write a fresh, compact copy of DuckDB file `source` (its WAL replayed) to `target` in
    STORAGE_VERSION, replacing `target` by a rename."""
    fresh = target.with_name(f".{target.name}.converting")
    fresh.unlink(missing_ok=True)
    wal_of(fresh).unlink(missing_ok=True)
    con = duckdb.connect(config={"temp_directory": f"{fresh}.tmp"})
    try:
        con.execute(f"ATTACH {quote_literal(str(source))} AS source_db (READ_ONLY)")
        con.execute(f"ATTACH {quote_literal(str(fresh))} AS target_db ({_WRITE_OPTIONS})")
        con.execute("COPY FROM DATABASE source_db TO target_db")
    finally:
        con.close()  # checkpoints the copy: no WAL is left
    wal_of(target).unlink(missing_ok=True)
    os.replace(fresh, target)
    _fsync_folder(target.parent)


def copy_database(source: Path, target: Path) -> None:
    """Make `target` (without a WAL) a copy of DuckDB file `source` in STORAGE_VERSION: a byte
    copy when `source` is checkpointed and already in it, else a conversion through DuckDB (a
    file an older botstudy wrote in the newest format, or one with a WAL to replay)."""
    if not wal_of(source).exists() and _header_storage_number(source) == _STORAGE_NUMBER:
        publish_file(source, target)
    else:
        _rewrite(source, target)


# In STORAGE_VERSION a checkpoint does not vacuum deleted rows of tables with a primary key
# (newer formats do), so upserts and reloads leave dead rows behind and the file grows with
# every reload of the sample; a table with at least this many dead rows, and more dead rows
# than live ones, has the working copy rewritten before it is published.
DEAD_ROWS_TO_COMPACT = 1_000

DEAD_ROWS_SQL = """
SELECT table_name, estimated_size FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND index_count > 0
"""


def _bloated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether some indexed table keeps more dead rows than live ones (and many)."""
    for table, estimated in con.execute(DEAD_ROWS_SQL).fetchall():
        (live,) = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone() or (0,)
        if estimated - live >= max(DEAD_ROWS_TO_COMPACT, live):
            return True
    return False


def _connect_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection whose row groups stay small, in STORAGE_VERSION.

    Each close checkpoints, and a checkpoint merges the small row groups of many short
    transactions into full 122,880-row groups; with raw JSON columns one such group is a few
    hundred MB in memory. Attaching with a smaller ROW_GROUP_SIZE keeps the miner's peak memory
    well under 1 GB at paper scale, at no cost in speed. A new file is created in
    STORAGE_VERSION; an existing one keeps the version it has (copy_database sees to that).
    """
    # Spill beside the file, as a connection to the file itself would (not into the cwd).
    con = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
    try:
        con.execute(f"ATTACH {quote_literal(str(path))} AS {_WRITE_ALIAS} ({_WRITE_OPTIONS})")
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
    """For notebooks and scripts: a read-only connection to the published file.

    botstudy replaces the published file by a rename and never locks it, so this opens at once;
    it waits (instead of raising `Could not set lock`) only while some other program has the file
    open for writing.
    """
    return _open_when_unlocked(Path(path), read_only=True, timeout_s=timeout_s)


def _version_ns(path: Path) -> int | None:
    """When a DuckDB file last changed, its WAL included (None: there is no such file)."""
    times = [p.stat().st_mtime_ns for p in (path, wal_of(path)) if p.exists()]
    return max(times) if times else None


@dataclass(frozen=True)
class Warehouse:
    """The published DuckDB file users query (BOTSTUDY_DB) and the working copy beside it that
    every asset writes its table to."""

    path: Path
    lock_timeout_s: float = 600.0

    @property
    def file(self) -> Path:
        """The published file (BOTSTUDY_DB)."""
        return Path(self.path)

    @property
    def working_file(self) -> Path:
        return working_copy_of(self.file)

    @contextmanager
    def _exclusive(self) -> Generator[None]:
        """This process's turn on the working copy: one thread at a time, one process at a
        time (an exclusive lock on a file beside it, which the processes of a run queue on)."""
        lock = filelock.FileLock(f"{self.working_file}.lock", is_singleton=True)
        with _PROCESS_LOCK:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire(timeout=self.lock_timeout_s)
            except filelock.Timeout as error:
                raise WarehouseLockTimeout(
                    f"{self.working_file} stayed locked by another botstudy process for "
                    f"{self.lock_timeout_s:.0f} s; is another run stuck?"
                ) from error
            try:
                yield
            finally:
                lock.release()

    def _ensure_working_copy(self) -> None:
        """Reuse the working copy while it is at least as new as the published file (it holds
        what a run wrote, e.g. tables of a killed run); else start it from the published
        file (the first run, a deleted working copy, a published file replaced by hand)."""
        working, published = _version_ns(self.working_file), _version_ns(self.file)
        if published is None or (working is not None and working >= published):
            return
        copy_database(self.file, self.working_file)

    @contextmanager
    def connect(self) -> Generator[duckdb.DuckDBPyConnection]:
        """A short-lived connection to the working copy, taken in turn with the other threads
        and processes of the run."""
        with self._exclusive():
            self._ensure_working_copy()
            con = _open_when_unlocked(
                self.working_file, read_only=False, timeout_s=self.lock_timeout_s
            )
            try:
                yield con
            finally:
                con.close()

    def publish(self) -> bool:
        """Publish the working copy as BOTSTUDY_DB (see publish_file); False when there was
        nothing new to publish."""
        with self._exclusive():
            self._ensure_working_copy()
            if not self.working_file.exists():
                return False
            # Opening and closing it folds a killed connection's WAL into the file.
            con = _open_when_unlocked(self.working_file, False, self.lock_timeout_s)
            try:
                bloated = _bloated(con)
            finally:
                con.close()
            if bloated:
                _rewrite(self.working_file, self.working_file)
            return publish_file(self.working_file, self.file)

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
