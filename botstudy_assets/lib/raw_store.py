"""Where mined pages and the walks' state live: the lake (see `lake.py`), one Delta table per raw
table and repository, each page committed together with the walk's state.

This is the one interface the walks (`walk.py`, `events_walk.py`) and the sample loader use:
`RawStore.open(target)` gives the repository's table, whose `commit` stores a page and the state
at once. Readers see the newest row per key, so a refetched page is harmless. The state
remembers where a walk stands (next URL, watermark, window, probe ETag) for one source and API;
another source's rows are dropped before a walk starts. Everything mined is kept: BOTSTUDY_UNTIL
selects what is studied (`scope.py`), never what is mined, so the walk's state does not depend
on it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from . import parsing
from .endpoints import ENDPOINTS, EVENTS_STATE_DDL, STATE_DDL, Endpoint
from .lake import Lake, LakeTable, arrow_schema, declared_columns, view_sql
from .settings import library_name
from .storage import Warehouse, frame_of

# mining_state.until: always empty now; a day there marks a walk that filtered by it.
NO_DAY = ""


@dataclass(frozen=True)
class Target:
    """What one walk mines: an endpoint of a repository, from a source and API."""

    repo: str
    endpoint: Endpoint
    source: str
    api_url: str

    def label(self) -> str:
        return f"{self.repo} {self.endpoint.name}"

    def identity(self) -> dict[str, str]:
        """What a stored state must match to be resumed. A walk's `until` is always empty now:
        a state written by a version that mined only up to BOTSTUDY_UNTIL starts afresh."""
        identity = {"source": self.source, "api_url": self.api_url}
        if self.endpoint.name != "events":
            identity["until"] = NO_DAY
        return identity


@dataclass
class WalkState:
    watermark: dt.datetime | None = None
    next_url: str | None = None
    window_since: dt.datetime | None = None
    window_items: int = 0
    etag: str | None = None
    etag_url: str | None = None
    pages: int = 0
    items: int = 0


def columns_of(endpoint: Endpoint) -> tuple[tuple[str, str], ...]:
    return _columns(endpoint.ddl)


def schema_of(endpoint: Endpoint) -> pa.Schema:
    return _schema(endpoint.ddl)


@functools.cache
def _columns(ddl: str) -> tuple[tuple[str, str], ...]:
    return tuple(declared_columns(ddl))


@functools.cache
def _schema(ddl: str) -> pa.Schema:
    return arrow_schema(_columns(ddl))


class RawTable:
    """One endpoint's raw table of one repository."""

    def __init__(self, store: RawStore, target: Target) -> None:
        self.store, self.target = store, target
        self.lake_table: LakeTable = store.lake.table(
            target.endpoint.table, target.repo, schema_of(target.endpoint)
        )

    @property
    def endpoint(self) -> Endpoint:
        return self.target.endpoint

    def stored_state(self) -> dict[str, Any] | None:
        """The walk's fields as stored, or None when the source or API changed."""
        state = self.lake_table.state()
        identity = self.target.identity()
        if not state or any((state.get(key) or "") != value for key, value in identity.items()):
            return None
        return state

    def commit(self, rows: list[dict], state: Any) -> int:
        """Store a page of rows and the walk's state in one commit; returns rows written."""
        frame = self._page_frame(rows)
        self.lake_table.append(frame, self._state_fields(state))
        return frame.num_rows

    def replace(self, rows: list[dict], state: Any = None) -> int:
        """Make `rows` the table's whole content (the sample), in one commit."""
        frame = self._page_frame(rows)
        self.lake_table.replace(frame, self._state_fields(state))
        return frame.num_rows

    def replace_pages(self, pages: Iterable[list[dict]], state: Any = None) -> int:
        """Make the rows of `pages` the table's whole content (the sample) in one commit, one
        page in memory at a time; an error while reading them commits nothing and is raised."""
        written, failure = 0, []

        def frames() -> Iterator[pa.Table]:
            nonlocal written
            try:
                for rows in pages:
                    frame = self._page_frame(rows)
                    written += frame.num_rows
                    yield frame
            except Exception as error:  # re-raised below: the writer reports it as its own
                failure.append(error)
                raise

        try:
            self.lake_table.replace(frames(), self._state_fields(state))
        except Exception:
            if failure:
                raise failure[0] from None
            raise
        return written

    def forget_other_sources(self) -> None:
        """Rows of the sample must never mix with rows mined from GitHub for one repository."""
        stored = self.lake_table.state()
        if stored and stored.get("source") != self.target.source:
            self.lake_table.replace(self._page_frame([]), self._state_fields(None))

    def count_keys(self) -> int:
        """How many distinct rows the table holds."""
        files = self.lake_table.files()
        if not files:
            return 0
        sql = view_sql(files, columns_of(self.endpoint), self.endpoint.key)
        with duckdb.connect() as con:
            row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
        return int(row[0]) if row else 0

    def compact(self) -> None:
        self.lake_table.compact()

    def _state_fields(self, state: Any) -> dict[str, Any]:
        fields = dataclasses.asdict(state) if state is not None else {}
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return {**fields, **self.target.identity(), "updated_at": now}

    def _page_frame(self, rows: list[dict]) -> pa.Table:
        endpoint, target = self.endpoint, self.target
        frame = parsing.rows_frame(rows, endpoint.schema)
        frame = frame.unique(subset=list(endpoint.key), keep="last", maintain_order=True)
        frame = frame.with_columns(
            library=pl.lit(library_name(target.repo)),
            source=pl.lit(target.source),
            mined_at=pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
        )
        return frame.to_arrow()


class RawStore:
    """The lake, as the miners and the stages see it."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def open(self, target: Target) -> RawTable:
        return RawTable(self, target)

    def files(self, endpoint: Endpoint, repos: Sequence[str]) -> list[str]:
        return [
            path
            for repo in repos
            for path in self.lake.table(endpoint.table, repo, schema_of(endpoint)).files()
        ]

    def view_sql(self, endpoint: Endpoint, repos: Sequence[str]) -> str:
        """SQL reading the raw table of `repos` as it is now (newest row per key)."""
        return view_sql(self.files(endpoint, repos), columns_of(endpoint), endpoint.key)

    def connect(self, repos: Sequence[str]) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the raw tables of `repos` as views."""
        con = duckdb.connect()
        for endpoint in ENDPOINTS:
            con.execute(f"CREATE VIEW {endpoint.table} AS {self.view_sql(endpoint, repos)}")
        return con

    def query(self, sql: str, params: Any = None, *, repos: Sequence[str]) -> pl.DataFrame:
        with self.connect(repos) as con:
            return frame_of(con, sql, params)

    def scalar(self, sql: str, params: Any = None, *, repos: Sequence[str]) -> Any:
        with self.connect(repos) as con:
            row = con.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def state_frames(self, repos: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """`mining_state` and `events_state`: each walk's stored state, one row per repository
        and endpoint (issues, comments) or repository (events)."""
        mining, events = [], []
        for repo in repos:
            for endpoint in ENDPOINTS:
                state = self.lake.table(endpoint.table, repo, schema_of(endpoint)).state()
                if not state or state.get("source") == "sample":
                    continue  # the sample is loaded whole: no walk to keep track of
                if endpoint.name == "events":
                    events.append({**state, "repo": repo})
                else:
                    mining.append({**state, "repo": repo, "endpoint": endpoint.name})
        return _typed(mining, STATE_DDL), _typed(events, EVENTS_STATE_DDL)


def _typed(rows: list[dict], ddl: str) -> pl.DataFrame:
    """State rows in the columns and types of the state table's DDL."""
    columns = declared_columns(ddl)
    with duckdb.connect() as con:
        con.execute(ddl)
        table = ddl.split("EXISTS", 1)[1].split("(", 1)[0].strip()
        names = [name for name, _ in columns]
        if rows:
            placeholders = ", ".join("?" for _ in names)
            con.executemany(
                f"INSERT INTO {table} VALUES ({placeholders})",
                [[row.get(name) for name in names] for row in rows],
            )
        return frame_of(con, f"SELECT * FROM {table} ORDER BY ALL")


def import_legacy(warehouse: Warehouse, table: RawTable) -> int:
    """Move a repository's rows and walk state from a DuckDB file written before the lake into
    its lake table, once, so that upgrading costs no mining. Returns the rows imported."""
    endpoint, target = table.endpoint, table.target
    if table.lake_table.exists() or not warehouse.file.exists():
        return 0
    legacy = warehouse.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name = ? AND table_type = 'BASE TABLE'",
        [endpoint.table],
    )
    if not legacy:
        return 0
    rows = warehouse.query(f"SELECT * FROM {endpoint.table} WHERE repo = ?", [target.repo])
    if rows.is_empty():
        return 0
    state_table = "events_state" if endpoint.name == "events" else "mining_state"
    where = "repo = ?" + ("" if endpoint.name == "events" else " AND endpoint = ?")
    params = [target.repo] + ([] if endpoint.name == "events" else [endpoint.name])
    states = warehouse.query(f"SELECT * FROM {state_table} WHERE {where}", params)
    state = states.row(0, named=True) if states.height else {}
    state = {key: value for key, value in state.items() if key not in ("repo", "endpoint")}
    if not state:
        state = {"source": rows["source"][0], "api_url": "", "until": NO_DAY}
    table.lake_table.replace(rows.to_arrow(), state)
    return rows.height
