"""What a publication of the DuckDB file costs, two ways, at the sample's size and at the paper's.

    .venv/bin/python -m benchmarks.publish_benchmark SAMPLE_DB [--repeat 5] [--workdir DIR]

SAMPLE_DB is a `BOTSTUDY_DB` that `make run` wrote (the published file, in the old storage
format). The paper-scale file is made from it by copying the raw tables' rows until they hold
about 68,400 issues (their raw JSON makes up most of the file). For each file it times:

- **copy**: `storage.publish_file` of a working copy that is already in the old format (what
  botstudy does: write beside, fsync, rename);
- **convert**: `ATTACH … (STORAGE_VERSION 'v1.1.0')` and `COPY FROM DATABASE` from a working
  copy in duckdb 2's own format, then fsync and rename (the alternative: keep the working copy in
  the newest format and convert at every publication);
- **compact**: the rewrite of the working copy that a publication does after a reload (the same
  `COPY FROM DATABASE`, from the old format).

Results go to benchmarks/RESULTS_publish.md with the command that produced them.
"""

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

from botstudy_assets.lib import storage
from botstudy_assets.lib.settings import PROJECT_ROOT

PAPER_ISSUES = 68_400
RAW = ("raw_issues", "raw_issue_comments", "raw_issue_events")


def _timed(repeat: int, action) -> float:
    """The median wall time of `action()` over `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.monotonic()
        action()
        times.append(time.monotonic() - started)
    return statistics.median(times)


def scaled(sample: Path, out: Path) -> Path:
    """`sample` with its raw tables' rows repeated up to the paper's issue count."""
    shutil.copy(sample, out)
    con = duckdb.connect()
    con.execute(f"ATTACH '{out}' AS db (ROW_GROUP_SIZE {storage.WRITE_ROW_GROUP_SIZE})")
    issues = con.execute("SELECT count(*) FROM db.raw_issues").fetchone()[0]
    copies = max(1, round(PAPER_ISSUES / issues))
    for table in RAW:
        # Drop the key (copies repeat it) by rebuilding each table from its repeated rows.
        con.execute(
            f"CREATE OR REPLACE TABLE db.{table} AS SELECT t.* FROM db.{table} t, range({copies})"
        )
    con.close()
    return out


def newest_format(source: Path, out: Path) -> Path:
    con = duckdb.connect()
    con.execute(f"ATTACH '{source}' AS s (READ_ONLY)")
    con.execute(f"ATTACH '{out}' AS d")
    con.execute("COPY FROM DATABASE s TO d")
    con.close()
    return out


def convert(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"ATTACH '{source}' AS s (READ_ONLY)")
    con.execute(f"ATTACH '{partial}' AS d (STORAGE_VERSION '{storage.STORAGE_VERSION}')")
    con.execute("COPY FROM DATABASE s TO d")
    con.close()
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)


def measure(db: Path, workdir: Path, repeat: int) -> dict:
    newest = newest_format(db, workdir / f"{db.stem}.newest.duckdb")
    target = workdir / f"{db.stem}.published.duckdb"

    def copy() -> None:
        os.utime(db)  # a changed working copy, as after every asset
        storage.publish_file(db, target)

    def compact() -> None:
        working = workdir / f"{db.stem}.work.duckdb"
        shutil.copy(db, working)
        storage._rewrite(working, working)

    return {
        "size_mib": db.stat().st_size / 2**20,
        "issues": duckdb.connect(str(db), read_only=True)
        .execute("SELECT count(*) FROM raw_issues")
        .fetchone()[0],
        "copy_s": _timed(repeat, copy),
        "convert_s": _timed(repeat, lambda: convert(newest, target)),
        "compact_s": _timed(max(1, repeat // 2), compact),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample_db", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "benchmarks" / ".work")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    sample = args.workdir / "sample.duckdb"
    shutil.copy(args.sample_db, sample)
    paper = scaled(sample, args.workdir / "paper.duckdb")
    results = {
        name: measure(db, args.workdir, args.repeat)
        for name, db in (("sample", sample), ("paper scale", paper))
    }
    lines = [
        "# Publish benchmark: what one publication of BOTSTUDY_DB costs",
        "",
        f"Produced by `python -m benchmarks.publish_benchmark {args.sample_db} --repeat "
        f"{args.repeat}` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, duckdb {duckdb.__version__}"
        f"; load average at the end {os.getloadavg()[0]:.1f} (the machine is shared).",
        "",
        "Median wall time of one publication (copy: botstudy's way; convert: the alternative of "
        "a working copy in duckdb 2's format converted at each publication) and of one "
        "compaction (after a reload of the raw tables).",
        "",
        "| file | raw_issues rows | size (MiB) | copy: write beside, fsync, rename (s) | "
        "convert: COPY FROM DATABASE into v1.1.0, fsync, rename (s) | compact (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['issues']:,} | {row['size_mib']:.0f} | {row['copy_s']:.3f} | "
            f"{row['convert_s']:.3f} | {row['compact_s']:.3f} |"
        )
    out = PROJECT_ROOT / "benchmarks" / "RESULTS_publish.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
