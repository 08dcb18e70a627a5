"""Export the published DuckDB file as files anyone can load: one Parquet file per table, a CSV
file for the small ones, and DATA_DICTIONARY.md generated from the table documentation (the
assets' descriptions and the README's table of tables) with every column's type."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .markdown import MISSING, md_table
from .storage import connect_read_only, quote_ident, quote_literal

# Small tables also get a CSV file (a spreadsheet opens it): up to this many rows and no raw
# JSON column (GitHub's JSON makes cells no one reads in a spreadsheet). Every table gets
# Parquet, which keeps DuckDB's types (lists, timestamps, JSON as text).
CSV_MAX_ROWS = 10_000
DICTIONARY = "DATA_DICTIONARY.md"
README_ROW = re.compile(r"^\| `(\w+)` \| (.+?) \| (.+) \|$")
# One documented column: its name (`a`, `a/b`, `a_median/_p25`, `prefix_*`), then an optional
# note in parentheses and trailing prose.
COLUMN_NOTE = re.compile(r"^([A-Za-z_][\w*]*(?:/[\w*]+)*)\s*(?:\((.*)\))?\s*(.*)$")


@dataclass
class TableDoc:
    """What the documentation says about a table."""

    description: str = ""
    one_row_per: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # name or pattern -> note

    def column_note(self, column: str) -> str:
        for pattern, text in self.columns.items():
            if pattern == column or fnmatch.fnmatchcase(column, pattern):
                return text
        return ""


def _top_level_parts(text: str) -> list[str]:
    """`text` split at the commas that are outside parentheses and backticks."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "`":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth = max(depth - 1, 0)
        if char == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _column_names(name: str) -> list[str]:
    """`horizon_id/horizon_at` -> both; `mark_after_days_median/_p25` -> the median and p25."""
    first, *others = name.split("/")
    stem = first.rsplit("_", 1)[0]
    return [first, *(stem + other if other.startswith("_") else other for other in others)]


def parse_columns(cell: str) -> dict[str, str]:
    """The README's column list of one table as {column name or pattern: note}."""
    notes = {}
    for part in _top_level_parts(cell):
        part = part.rsplit(": ", 1)[-1] if ": " in part.split("(", 1)[0] else part
        match = COLUMN_NOTE.match(part)
        if not match:
            continue
        name, inside, after = match.groups()
        text = "; ".join(bit.strip(" .") for bit in (inside or "", after or "") if bit.strip(" ."))
        for column in _column_names(name):
            notes.setdefault(column, text)
    return notes


def readme_table_docs(readme: Path) -> dict[str, TableDoc]:
    """The README's table of tables (table | one row per | columns), by table name."""
    if not readme.exists():
        return {}
    docs = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = README_ROW.match(line)
        if match:
            table, one_row_per, columns = match.groups()
            docs[table] = TableDoc(one_row_per=one_row_per, columns=parse_columns(columns))
    return docs


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    columns: pl.DataFrame  # column, type
    files: tuple[str, ...]


def _export_table(con, table: str, out: Path) -> ExportedTable:
    (rows,) = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone() or (0,)
    columns = pl.DataFrame(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall(),
        schema=["column", "type"],
        orient="row",
    )
    files = [f"{table}.parquet"]
    con.execute(
        f"COPY {quote_ident(table)} TO {quote_literal(str(out / files[0]))} "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    if rows <= CSV_MAX_ROWS and "JSON" not in columns["type"].to_list():
        files.append(f"{table}.csv")
        con.execute(
            f"COPY {quote_ident(table)} TO {quote_literal(str(out / files[1]))} "
            "(FORMAT csv, HEADER)"
        )
    return ExportedTable(table, rows, columns, tuple(files))


def render_dictionary(
    exported: list[ExportedTable], docs: dict[str, TableDoc], source: str, version: str
) -> str:
    overview = pl.DataFrame(
        {
            "table": [f"[`{t.table}`](#{t.table})" for t in exported],
            "rows": [t.rows for t in exported],
            "one row per": [docs.get(t.table, TableDoc()).one_row_per or MISSING for t in exported],
            "files": [", ".join(t.files) for t in exported],
        }
    )
    lines = [
        "# botstudy data dictionary",
        "",
        f"Exported {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC from `{source}`. "
        f"Data version: {version}.",
        "",
        "One Parquet file per table (every row, with DuckDB's types), and a CSV file (with a "
        f"header row) for each table of at most {CSV_MAX_ROWS:,} rows without raw JSON, where "
        "lists read `[a, b]`. Load them with `pandas.read_parquet('bot_funnel.parquet')`, "
        "`arrow::read_parquet('bot_funnel.parquet')` in R, `SELECT * FROM 'bot_funnel.parquet'` "
        "in DuckDB, or open a CSV file in a spreadsheet.",
        "",
        md_table(overview),
        "",
    ]
    for table in exported:
        doc = docs.get(table.table, TableDoc())
        columns = table.columns.with_columns(
            pl.col("column")
            .map_elements(doc.column_note, return_dtype=pl.String)
            .replace("", None)
            .alias("meaning")
        ).with_columns(pl.format("`{}`", pl.col("column")).alias("column"))
        lines += [f"## {table.table}", ""]
        if doc.description:
            lines += [doc.description, ""]
        if doc.one_row_per:
            lines += [f"One row per {doc.one_row_per}; {table.rows:,} rows.", ""]
        lines += [md_table(columns), ""]
    return "\n".join(lines)


def export_database(
    db: Path, out: Path, docs: dict[str, TableDoc], version: str = ""
) -> list[ExportedTable]:
    """Export every table and view of DuckDB file `db` (opened read-only) to folder `out`,
    replacing it whole: the files are written into a folder beside it that then takes its
    place."""
    if not db.exists():
        raise FileNotFoundError(f"{db} does not exist: run `make run` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = out.with_name(f".{out.name}.{secrets.token_hex(4)}.writing")
    fresh.mkdir()
    try:
        con = connect_read_only(db)
        try:
            # Views too: the raw tables are views over the lake's Parquet files.
            tables = [
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                    "AND table_catalog = current_database() ORDER BY table_name"
                ).fetchall()
            ]
            exported = [_export_table(con, table, fresh) for table in tables]
        finally:
            con.close()
        (fresh / DICTIONARY).write_text(
            render_dictionary(exported, docs, str(db), version or MISSING), encoding="utf-8"
        )
        old = out.with_name(f".{out.name}.{secrets.token_hex(4)}.old")
        if out.exists():
            out.rename(old)
        fresh.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return exported
