"""The raw-data lake: one Delta Lake table per raw table and repository (BOTSTUDY_LAKE).

Each repository's issues, comments and events are written by its own mining run into its own
Delta table (`<lake>/raw_issues/<owner>__<name>/`), so runs of different repositories never
wait for each other, on one machine or many sharing a filesystem or an object store. A Delta
commit is atomic, so a mined page and the walk's state travel in one commit: the state is the
commit's custom metadata (`botstudy.state`), and the newest commit that carries it is where the
walk stands. A run killed mid-page leaves at most an unreferenced Parquet file, which readers
never see.

Rows are appended, never updated in place: every row carries `_seq`, the number of the commit
that wrote it, and readers keep the newest row per key (`view_sql`). A refetched page or an
updated issue therefore costs one small append, not a rewrite; small files are compacted every
`COMPACT_EVERY` commits. Any Delta reader (DuckDB's delta extension, polars, Spark) reads the
tables; botstudy's own stages read their Parquet files through DuckDB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import deltalake
import duckdb
import pyarrow as pa

STATE_KEY = "botstudy.state"
SEQ = "_seq"
# Small files are merged once this many page commits have added files since the last merge.
COMPACT_EVERY = 200
# Files a compaction replaced are deleted after this long, so readers of an older version
# (a published DuckDB view, a stage of a run in flight) keep working meanwhile.
RETENTION_HOURS = 7 * 24
_STATE_LOOKBACK = 20  # commits without state (vacuum) that may sit on top of the newest state


def repo_dir(repo: str) -> str:
    """`pytorch/pytorch` -> `pytorch__pytorch` (owners cannot contain `_`, so this is unique)."""
    return repo.lower().replace("/", "__")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$ts": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$ts"}:
        return dt.datetime.fromisoformat(value["$ts"])
    return value


def encode_state(state: dict[str, Any]) -> str:
    return json.dumps({key: _encode(value) for key, value in state.items()}, sort_keys=True)


def decode_state(text: str) -> dict[str, Any]:
    return {key: _decode(value) for key, value in json.loads(text).items()}


@dataclass
class LakeTable:
    """One raw table of one repository: appends of pages, each with the walk's state."""

    uri: str
    schema: pa.Schema
    storage_options: dict[str, str] | None = None
    _delta: deltalake.DeltaTable | None = field(default=None, repr=False)
    _state: dict[str, Any] | None = field(default=None, repr=False)
    _loaded: bool = field(default=False, repr=False)
    _since_compaction: int = field(default=0, repr=False)

    def _table(self) -> deltalake.DeltaTable | None:
        if self._delta is None and deltalake.DeltaTable.is_deltatable(
            self.uri, storage_options=self.storage_options
        ):
            self._delta = deltalake.DeltaTable(self.uri, storage_options=self.storage_options)
        return self._delta

    def exists(self) -> bool:
        return self._table() is not None

    def state(self) -> dict[str, Any]:
        """The state stored with the newest commit ({} for a new table)."""
        if not self._loaded:
            self._state = self._read_state()
            self._loaded = True
        return dict(self._state or {})

    def _read_state(self) -> dict[str, Any] | None:
        table = self._table()
        if table is None:
            return None
        for commit in table.history(_STATE_LOOKBACK):
            if STATE_KEY in commit:
                return decode_state(commit[STATE_KEY])
        return None

    @property
    def next_seq(self) -> int:
        return int(self.state().get(SEQ, 0)) + 1

    def append(self, rows: pa.Table, state: dict[str, Any]) -> None:
        """Add `rows` (possibly none) and `state` in one atomic commit."""
        self._commit(rows, state, mode="append")
        if rows.num_rows:
            self._since_compaction += 1
        if self._since_compaction >= COMPACT_EVERY:
            self.compact()

    def replace(self, rows: pa.Table | Iterable[pa.Table], state: dict[str, Any]) -> None:
        """Make `rows` the table's whole content, with `state`, in one atomic commit. `rows`
        may be an iterable of pages, written as they come (one page in memory at a time); if it
        raises, nothing is committed."""
        self._commit(rows, state, mode="overwrite")

    def _commit(
        self, rows: pa.Table | Iterable[pa.Table], state: dict[str, Any], mode: str
    ) -> None:
        seq = self.next_seq
        state = {**state, SEQ: seq}
        if isinstance(rows, pa.Table):
            rows = with_seq(rows, seq, self.schema)
        else:
            pages = (with_seq(page, seq, self.schema) for page in rows)
            batches = (batch for page in pages for batch in page.to_batches())
            rows = pa.RecordBatchReader.from_batches(self.schema, batches)
        properties = deltalake.CommitProperties(custom_metadata={STATE_KEY: encode_state(state)})
        target = self._table() or self.uri
        options = self.storage_options if isinstance(target, str) else None
        if mode == "append":
            deltalake.write_deltalake(
                target,
                rows,
                mode="append",
                schema_mode="merge",
                commit_properties=properties,
                storage_options=options,
            )
        else:
            deltalake.write_deltalake(
                target,
                rows,
                mode="overwrite",
                schema_mode="merge",
                commit_properties=properties,
                storage_options=options,
            )
        if self._delta is None:
            self._table()
        self._state, self._loaded = state, True

    def compact(self) -> None:
        """Merge small page files (a commit that carries the current state) and delete files
        replaced more than RETENTION_HOURS ago."""
        table = self._table()
        if table is None:
            return
        properties = deltalake.CommitProperties(
            custom_metadata={STATE_KEY: encode_state(self.state())}
        )
        table.optimize.compact(commit_properties=properties)
        table.vacuum(retention_hours=RETENTION_HOURS, dry_run=False)
        self._since_compaction = 0

    def files(self) -> list[str]:
        table = self._table()
        if table is None:
            return []
        table.update_incremental()
        return list(table.file_uris())


def with_seq(rows: pa.Table, seq: int, schema: pa.Schema) -> pa.Table:
    """`rows` in the table's column order and types, each stamped with the commit number."""
    rows = rows.drop_columns([SEQ]) if SEQ in rows.column_names else rows
    rows = rows.append_column(SEQ, pa.array([seq] * rows.num_rows, pa.int64()))
    return rows.select(schema.names).cast(schema)


@dataclass(frozen=True)
class Lake:
    """The storage root: a local path, a shared filesystem or an object-store URL."""

    root: str
    storage_options: dict[str, str] | None = None

    @property
    def is_local(self) -> bool:
        return "://" not in self.root or self.root.startswith("file://")

    def table_uri(self, table: str, repo: str) -> str:
        root = self.root.rstrip("/")
        if self.is_local:
            root = os.path.abspath(root.removeprefix("file://"))
        return f"{root}/{table}/{repo_dir(repo)}"

    def table(self, table: str, repo: str, schema: pa.Schema) -> LakeTable:
        return LakeTable(self.table_uri(table, repo), schema, self.storage_options)


def view_sql(files: Sequence[str], columns: Sequence[tuple[str, str]], key: Sequence[str]) -> str:
    """SQL that reads a raw table from its Parquet files: the newest row per key, with the
    declared column types (`columns`: name, DuckDB type). No files: an empty, typed relation."""
    if not files:
        nulls = ", ".join(f"CAST(NULL AS {kind}) AS {_ident(name)}" for name, kind in columns)
        return f"SELECT {nulls} WHERE false"
    casts = ", ".join(f"CAST({_ident(name)} AS {kind}) AS {_ident(name)}" for name, kind in columns)
    listed = ", ".join(_literal(path) for path in files)
    partition = ", ".join(_ident(name) for name in key)
    return (
        f"SELECT {casts} FROM (SELECT * FROM read_parquet([{listed}], union_by_name = true) "
        f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {SEQ} DESC) = 1)"
    )


def declared_columns(ddl: str) -> list[tuple[str, str]]:
    """A CREATE TABLE statement's columns and types, as DuckDB reads it."""
    with duckdb.connect() as con:
        con.execute(ddl)
        name = ddl.split("EXISTS", 1)[1].split("(", 1)[0].strip()
        return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {name}").fetchall()]


def arrow_schema(columns: Sequence[tuple[str, str]]) -> pa.Schema:
    """The Parquet schema of a raw table: its declared columns (JSON kept as text) and `_seq`."""
    ddl_types = ", ".join(
        f"{_ident(name)} {'VARCHAR' if kind == 'JSON' else kind}" for name, kind in columns
    )
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t ({ddl_types}, {SEQ} BIGINT)")
        schema = con.sql("SELECT * FROM t").to_arrow_table().schema
    return pa.schema([pa.field(f.name, _plain_type(f.type)) for f in schema])


def _plain_type(kind: pa.DataType) -> pa.DataType:
    """Large and view string types as plain strings, which every Parquet reader knows."""
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_list_view(kind):
        return pa.list_(_plain_type(kind.value_type))
    return kind


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
