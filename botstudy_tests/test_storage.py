"""The published DuckDB file: runs write a private working copy and publish it atomically, so
readers and runs never wait for each other, and the published file opens in DuckDB clients from
1.1 on (checked with the CLI of the `duckdb-cli` package, not the project's duckdb)."""

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_assets.lib.storage import (
    PUBLISHING_SUFFIX,
    STORAGE_VERSION,
    Warehouse,
    wal_of,
)

# `duckdb-cli` (a dev dependency) installs the DuckDB CLI beside the venv's python.
CLI = Path(sys.executable).parent / "duckdb"


def numbers(n: int) -> pl.DataFrame:
    return pl.DataFrame({"n": list(range(n))})


def count(path: Path, table: str = "t") -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def storage_version(path: Path) -> str:
    """The storage version DuckDB reports for a file ('v1.0.0+' covers 1.0 and 1.1)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{path}' AS probe (READ_ONLY)")
        return con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'probe'"
        ).fetchone()[0]


def cli(path: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), "-readonly", "-csv", str(path), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_is_the_duckdb_cli_package_older_than_2():
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True).stdout
    assert re.match(r"v1\.\d+\.\d+", version), version


def test_a_run_writes_the_working_copy_and_users_see_what_it_published(tmp_path):
    warehouse = Warehouse(tmp_path / "botstudy.duckdb")
    warehouse.replace_table("t", numbers(3))
    assert warehouse.working_file == tmp_path / "botstudy.work.duckdb"
    assert not warehouse.file.exists()  # nothing published yet
    assert warehouse.publish()
    assert count(warehouse.file) == 3
    assert not warehouse.publish()  # nothing new since
    assert storage_version(warehouse.file) == storage_version(warehouse.working_file) == "v1.0.0+"
    mask = os.umask(0)
    os.umask(mask)
    assert warehouse.file.stat().st_mode & 0o777 == 0o666 & ~mask  # readable, not private


def test_a_reader_that_keeps_the_file_open_keeps_its_view_and_never_blocks_a_run(tmp_path):
    warehouse = Warehouse(tmp_path / "botstudy.duckdb", lock_timeout_s=2)
    warehouse.replace_table("t", numbers(300_000))
    warehouse.publish()
    reader = duckdb.connect(str(warehouse.file), read_only=True)  # nothing read yet
    try:
        warehouse.replace_table("t", numbers(10))  # would wait for the reader, then time out
        warehouse.replace_table("u", numbers(1))
        warehouse.replace_table("v", numbers(200_000).with_columns(pl.col("n") * 7))
        assert warehouse.publish()
        # The old file, whole: its blocks were not overwritten in place.
        assert reader.execute("SELECT count(*), sum(n) FROM t").fetchone() == (
            300_000,
            sum(range(300_000)),
        )
        with pytest.raises(duckdb.CatalogException):
            reader.execute("SELECT * FROM u")
        # The next open sees the new file (in another process: within one, DuckDB hands a new
        # connection the database instance that is still open).
        assert cli(warehouse.file, "SELECT count(*) AS n FROM t").stdout.split() == ["n", "10"]
    finally:
        reader.close()


def test_a_later_run_reuses_the_working_copy_it_left(tmp_path):
    """Pages mined by a run that was killed before it published are not lost."""
    Warehouse(tmp_path / "botstudy.duckdb").publish()  # nothing to publish yet
    first = Warehouse(tmp_path / "botstudy.duckdb")
    first.replace_table("t", numbers(3))
    first.publish()
    first.replace_table("t", numbers(5))  # not published
    again = Warehouse(tmp_path / "botstudy.duckdb")
    assert again.scalar("SELECT count(*) FROM t") == 5


def test_a_published_file_replaced_by_hand_restarts_the_working_copy(tmp_path):
    warehouse = Warehouse(tmp_path / "botstudy.duckdb")
    warehouse.replace_table("t", numbers(3))
    warehouse.publish()
    other = Warehouse(tmp_path / "other.duckdb")
    other.replace_table("t", numbers(7))
    other.publish()
    os.replace(other.file, warehouse.file)  # restored from a backup, say
    os.utime(warehouse.file)
    assert warehouse.scalar("SELECT count(*) FROM t") == 7
    warehouse.working_file.unlink()  # a deleted working copy starts from the published file
    assert warehouse.scalar("SELECT count(*) FROM t") == 7


def test_a_file_written_in_the_newest_format_is_converted(tmp_path):
    """A BOTSTUDY_DB written by an older botstudy (duckdb 2's default format, a WAL beside it)
    is published in the old format at the next run."""
    db = tmp_path / "botstudy.duckdb"
    killed = subprocess.run(
        [sys.executable, "-c", NEWEST_FORMAT_THEN_KILLED, str(db)], capture_output=True, text=True
    )
    assert killed.returncode == 0, killed.stderr
    assert wal_of(db).exists()
    assert storage_version(db) != "v1.0.0+"
    warehouse = Warehouse(db)
    assert warehouse.scalar("SELECT count(*) FROM t") == 3
    assert warehouse.publish()
    assert storage_version(db) == "v1.0.0+"
    assert not wal_of(db).exists()
    result = cli(db, "SELECT id, len(tags) AS n FROM t ORDER BY id")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["id,n", "1,1", "2,2", "3,0"]


NEWEST_FORMAT_THEN_KILLED = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, tags VARCHAR[])")
con.execute("INSERT INTO t VALUES (1, ['a']), (2, ['b', 'c'])")
con.execute("CHECKPOINT")
con.execute("INSERT INTO t VALUES (3, [])")  # committed to the WAL only
os._exit(0)  # as if killed: no checkpoint at close
"""


def test_reloads_do_not_grow_the_file(tmp_path):
    """The old storage format keeps deleted rows of tables with a primary key; a publish after
    reloads rewrites the working copy instead of letting it grow with every run."""
    warehouse = Warehouse(tmp_path / "botstudy.duckdb")
    sizes = []
    for _ in range(5):
        with warehouse.transaction() as con:
            con.execute("CREATE TABLE IF NOT EXISTS r (id BIGINT PRIMARY KEY, body VARCHAR)")
            con.execute("DELETE FROM r")
            con.execute(
                "INSERT INTO r SELECT range, repeat(md5(range::VARCHAR), 8) FROM range(50000)"
            )
        warehouse.publish()
        sizes.append(warehouse.file.stat().st_size)
    assert count(warehouse.file, "r") == 50000
    assert max(sizes[1:]) <= 1.5 * sizes[0], sizes


def test_a_killed_publication_leaves_the_old_file_and_its_leftover_is_removed(tmp_path):
    warehouse = Warehouse(tmp_path / "botstudy.duckdb")
    warehouse.replace_table("t", numbers(3))
    warehouse.publish()
    leftover = tmp_path / f".botstudy.duckdb.dead{PUBLISHING_SUFFIX}"
    leftover.write_bytes(warehouse.file.read_bytes()[:1000])  # a publication killed midway
    assert count(warehouse.file) == 3
    warehouse.replace_table("t", numbers(4))
    warehouse.publish()
    assert not leftover.exists()
    assert count(warehouse.file) == 4


def test_readme_states_the_storage_version():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"STORAGE_VERSION '{STORAGE_VERSION}'" in readme


README_CLI = re.compile(r'^duckdb -readonly data/botstudy\.duckdb "(.+)"$', re.MULTILINE)


def test_the_duckdb_cli_opens_the_published_file_and_runs_the_readme_queries(sample_run):
    """After a run, the CLI of the `duckdb-cli` package (< 2) opens BOTSTUDY_DB read-only and
    answers the README's queries, category_summary among them, as the tables hold them."""
    run, _ = sample_run
    queries = README_CLI.findall((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    assert any("FROM category_summary" in query for query in queries), queries
    for query in queries:
        result = cli(run.db, query)
        assert result.returncode == 0, (query, result.stderr)
        rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
        expected = [["NULL" if v is None else str(v) for v in row] for row in run.sql(query)]
        assert rows == expected, query
