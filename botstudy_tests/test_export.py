"""`make export`: every table of the published DuckDB file as Parquet (CSV too for the small
ones) with a data dictionary generated from the table documentation."""

import os
import subprocess

import duckdb
import pyarrow.parquet as pq

from botstudy_assets.lib.export import DICTIONARY, parse_columns, readme_table_docs
from botstudy_assets.lib.settings import PROJECT_ROOT


def test_readme_column_lists_become_notes_per_column():
    notes = parse_columns(
        "repo, author_type (`User`/`Bot`), labels (list), reactions_* (as in `raw_issues`), "
        "the walk's bookkeeping: watermark (last `updated_at`), horizon_id/horizon_at (newest), "
        "mark_after_days_median/_p25 (days idle, from the last post), mined_at. Never filtered"
    )
    assert notes["repo"] == ""
    assert notes["author_type"] == "`User`/`Bot`"
    assert notes["reactions_*"] == "as in `raw_issues`"
    assert notes["watermark"] == "last `updated_at`"
    assert notes["horizon_id"] == notes["horizon_at"] == "newest"
    assert notes["mark_after_days_p25"] == "days idle, from the last post"
    assert notes["mined_at"] == "Never filtered"


def test_make_export_writes_every_table_with_its_rows_and_a_data_dictionary(sample_run, tmp_path):
    run, _ = sample_run
    out = tmp_path / "export"
    out.mkdir()
    (out / "gone.parquet").write_bytes(b"from an older export")  # the folder is replaced whole
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BOTSTUDY_")},
        "BOTSTUDY_SOURCE": "sample",
        "BOTSTUDY_DB": str(run.db),
        "BOTSTUDY_EXPORT_DIR": str(out),
        "DAGSTER_HOME": str(tmp_path / "home"),
    }
    (tmp_path / "home").mkdir()
    result = subprocess.run(
        ["make", "--no-print-directory", "export"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = {
        table: run.sql(f'SELECT count(*) FROM "{table}"')[0][0]
        for (table,) in run.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        )
    }
    parquet = {path.stem: pq.read_metadata(path).num_rows for path in out.glob("*.parquet")}
    assert parquet == counts
    assert {"raw_issues", "raw_issue_comments", "raw_issue_events"} <= set(parquet)  # lake views
    csv = {path.stem for path in out.glob("*.csv")}
    assert {"category_summary", "agreement_metrics", "bot_funnel"} <= csv
    assert not csv & {"raw_issues", "raw_issue_comments", "raw_issue_events"}  # raw JSON
    with duckdb.connect() as con:
        for table in csv:
            path = out / f"{table}.csv"
            assert (
                con.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone()[0]
                == (counts[table])
            ), table
    dictionary = (out / DICTIONARY).read_text(encoding="utf-8")
    for table in counts:
        section = dictionary.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
        assert "One row per " in section, table  # the README documents it
        assert section.count("\n| `") == len(run.sql(f"DESCRIBE {table}")), table  # columns
    assert "Cohen's kappa (per category and pooled)" in dictionary  # the asset's description
    assert "| `author_type`" in dictionary and "`User`/`Bot`/`Organization`" in dictionary


def test_every_table_is_documented_in_the_readme(sample_run):
    run, _ = sample_run
    tables = {name for (name,) in run.sql("SELECT table_name FROM information_schema.tables")}
    assert "raw_issues" in tables  # the lake's views count
    docs = readme_table_docs(PROJECT_ROOT / "README.md")
    assert tables <= set(docs), sorted(tables - set(docs))
    undocumented = {
        (table, column)
        for table in tables
        for (column,) in run.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        )
        if column not in docs[table].columns
        and not any(p.endswith("*") and column.startswith(p[:-1]) for p in docs[table].columns)
    }
    assert not undocumented, sorted(undocumented)
