"""Mined pages and the walk's state in DuckDB: written together, so a killed run resumes.

Rows are upserted by their endpoint's key, so a refetched page is harmless; the state row
remembers where a walk stands (next URL, watermark, window, probe ETag) per repository and
endpoint, for one source and API. Everything mined is kept: BOTSTUDY_UNTIL selects what is
studied (`scope.py`), never what is mined, so the walk's state does not depend on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from . import parsing
from .endpoints import (
    ENDPOINTS,
    EVENTS_STATE_DDL,
    STATE_DDL,
    Endpoint,
    reaction_backfill_sql,
)
from .settings import library_name
from .storage import Warehouse

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


def ensure_tables(warehouse: Warehouse) -> None:
    with warehouse.transaction() as con:
        for ddl in (*(endpoint.ddl for endpoint in ENDPOINTS), STATE_DDL, EVENTS_STATE_DDL):
            con.execute(ddl)
        for endpoint in ENDPOINTS:
            _add_columns(con, endpoint)


def _add_columns(con: duckdb.DuckDBPyConnection, endpoint: Endpoint) -> None:
    """Columns added after a table's first release, filled from the stored raw JSON, so a file
    mined by an older botstudy gains them without mining again."""
    present = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [endpoint.table],
        ).fetchall()
    }
    for column in endpoint.added_columns:
        if column not in present:
            con.execute(f"ALTER TABLE {endpoint.table} ADD COLUMN {column} BIGINT")
            con.execute(reaction_backfill_sql(endpoint.table, column))


def upsert_page(con: duckdb.DuckDBPyConnection, target: Target, rows: list[dict]) -> int:
    """Insert-or-replace one page of rows; returns how many were written."""
    endpoint = target.endpoint
    frame = parsing.rows_frame(rows, endpoint.schema)
    if frame.is_empty():
        return 0
    con.register("_page", frame.to_arrow())
    con.execute(
        f"INSERT OR REPLACE INTO {endpoint.table} BY NAME "
        "SELECT *, ? AS library, ? AS source, now()::TIMESTAMP AS mined_at FROM _page",
        [library_name(target.repo), target.source],
    )
    con.unregister("_page")
    return frame.height


def save_state(con: duckdb.DuckDBPyConnection, target: Target, state: WalkState) -> None:
    con.execute(
        "INSERT OR REPLACE INTO mining_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            target.repo,
            target.endpoint.name,
            target.source,
            target.api_url,
            NO_DAY,
            state.watermark,
            state.next_url,
            state.window_since,
            state.window_items,
            state.etag,
            state.etag_url,
            state.pages,
            state.items,
        ],
    )


def load_state(warehouse: Warehouse, target: Target) -> WalkState:
    """The walk state, or a fresh one when the source or API changed, or when it was written
    by a version that mined only up to BOTSTUDY_UNTIL (its rows stop at that day)."""
    frame = warehouse.query(
        "SELECT * FROM mining_state WHERE repo = ? AND endpoint = ?",
        [target.repo, target.endpoint.name],
    )
    if frame.is_empty():
        return WalkState()
    row = frame.row(0, named=True)
    if (row["source"], row["api_url"], row["until"] or NO_DAY) != (
        target.source,
        target.api_url,
        NO_DAY,
    ):
        return WalkState()
    return WalkState(
        watermark=row["watermark"],
        next_url=row["next_url"],
        window_since=row["window_since"],
        window_items=row["window_items"] or 0,
        etag=row["etag"],
        etag_url=row["etag_url"],
        pages=row["pages"] or 0,
        items=row["items"] or 0,
    )


def forget_other_sources(warehouse: Warehouse, target: Target) -> None:
    """Rows of the sample must never mix with rows mined from GitHub for the same repository."""
    table, repo, source = target.endpoint.table, target.repo, target.source
    with warehouse.transaction() as con:
        row = con.execute(
            f"SELECT count(*) FROM {table} WHERE repo = ? AND source <> ?", [repo, source]
        ).fetchone()
        if row and row[0]:
            con.execute(f"DELETE FROM {table} WHERE repo = ? AND source <> ?", [repo, source])
            con.execute(
                "DELETE FROM mining_state WHERE repo = ? AND endpoint = ?",
                [repo, target.endpoint.name],
            )
            if target.endpoint.name == "events":
                con.execute("DELETE FROM events_state WHERE repo = ?", [repo])
