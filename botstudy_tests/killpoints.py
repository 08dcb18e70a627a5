"""`make run` with a kill point inside a DuckDB transaction, for the SIGKILL tests.

    KILLPOINT_SQL='CREATE OR REPLACE TABLE "coded_labels"' KILLPOINT_COUNT=1 \
        python -m botstudy_tests.killpoints

runs `botstudy_assets.run` unchanged, except that every transaction's connection watches the
statements it executes: after the KILLPOINT_COUNT-th statement matching the regular expression
KILLPOINT_SQL has run, and before the transaction commits, the process prints `KILLPOINT` and
waits to be killed. The code location knows nothing of this.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager

from botstudy_assets.lib import storage

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


if __name__ == "__main__":
    arm(os.environ["KILLPOINT_SQL"], int(os.environ.get("KILLPOINT_COUNT", "1")))
    from botstudy_assets.run import main

    sys.exit(main())
