"""`make run` with a kill point inside a DuckDB transaction or a lake commit, for the SIGKILL
tests.

    KILLPOINT_SQL='CREATE OR REPLACE TABLE "coded_labels"' KILLPOINT_COUNT=1 \
        python -m botstudy_tests.killpoints
    KILLPOINT_LAKE='/raw_issues/' KILLPOINT_COUNT=3 python -m botstudy_tests.killpoints

runs `botstudy_assets.run` unchanged, except that every transaction's connection watches the
statements it executes: after the KILLPOINT_COUNT-th statement matching the regular expression
KILLPOINT_SQL has run, and before the transaction commits, the process prints `KILLPOINT` and
waits to be killed. With KILLPOINT_LAKE instead, the KILLPOINT_COUNT-th Delta commit to a lake
table whose location matches it stops there once the writer has read all of its rows (its
Parquet files are being written) and before the commit is made. The code location knows nothing
of this.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager

import pyarrow as pa

from botstudy_assets.lib import lake, storage

REACHED = "KILLPOINT reached inside a transaction"


class _Watched:
    """A DuckDB connection that reports each statement it has executed."""

    def __init__(self, con, executed: Callable[[str], None]) -> None:
        self._con, self._executed = con, executed

    def execute(self, sql: str, *args, **kwargs):
        result = self._con.execute(sql, *args, **kwargs)
        self._executed(sql)
        return result

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def arm(pattern: str, count: int) -> None:
    seen = 0
    original = storage.Warehouse.transaction

    def executed(sql: str) -> None:
        nonlocal seen
        if re.search(pattern, sql):
            seen += 1
            if seen == count:
                print(REACHED, flush=True)
                time.sleep(3600)  # the test kills the process here

    @contextmanager
    def transaction(self) -> Generator:
        with original(self) as con:
            yield _Watched(con, executed)

    storage.Warehouse.transaction = transaction


def arm_lake(pattern: str, count: int) -> None:
    seen = 0
    original = lake.deltalake.write_deltalake

    def write_deltalake(target, data, *args, **kwargs):
        nonlocal seen
        uri = target if isinstance(target, str) else target.table_uri
        if not re.search(pattern, uri):
            return original(target, data, *args, **kwargs)
        seen += 1
        if seen != count:
            return original(target, data, *args, **kwargs)
        reader = data if isinstance(data, pa.RecordBatchReader) else data.to_reader()

        def batches():
            yield from reader
            print(REACHED, flush=True)  # every row handed over, nothing committed
            time.sleep(3600)

        stalled = pa.RecordBatchReader.from_batches(reader.schema, batches())
        return original(target, stalled, *args, **kwargs)

    lake.deltalake.write_deltalake = write_deltalake


if __name__ == "__main__":
    count = int(os.environ.get("KILLPOINT_COUNT", "1"))
    if os.environ.get("KILLPOINT_LAKE"):
        arm_lake(os.environ["KILLPOINT_LAKE"], count)
    else:
        arm(os.environ["KILLPOINT_SQL"], count)
    from botstudy_assets.run import main

    sys.exit(main())
