"""Every table of a DuckDB file as (row count, SHA-256 of its sorted rows), for comparing a run
with a recorded one. Columns that change on every run (mining and file timestamps, paths,
sizes) are left out.

    make snapshot

records what `make run` wrote on the sample; do that only after a change that is meant to
change results, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb

RECORDED = Path(__file__).parent / "snapshots" / "sample_tables.json"
VOLATILE = {
    ("*", "mined_at"),
    ("mining_state", "updated_at"),
    ("study_report", "path"),
    ("study_report", "bytes"),
}


def _columns(
    con: duckdb.DuckDBPyConnection, table: str, ignore: frozenset[str] = frozenset()
) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE "
        "table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [
        name
        for (name,) in rows
        if ("*", name) not in VOLATILE and (table, name) not in VOLATILE and name not in ignore
    ]


def table_snapshot(db: Path, ignore: frozenset[str] = frozenset()) -> dict[str, dict]:
    """Each table's columns, row count and hash; `ignore` leaves more columns out."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            columns = _columns(con, table, ignore)
            quoted = ", ".join(f'"{name}"' for name in columns)
            rows = con.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
            lines = sorted(json.dumps(row, default=str, ensure_ascii=False) for row in rows)
            digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
            out[table] = {"rows": len(rows), "columns": columns, "sha256": digest}
    return out


if __name__ == "__main__":
    print(json.dumps(table_snapshot(Path(sys.argv[1])), indent=1))
