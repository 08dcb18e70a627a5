"""The study's scope: which mined rows a study reads.

The raw tables hold everything mined, for every repository and day ever configured; mining
never filters. Every study table from `bot_accounts` on reads them through the two views here:
`study_issues`, the issues of the configured repositories created before BOTSTUDY_UNTIL, and
`study_comments`, their comments created before it. So changing the repositories or the day
changes what is studied without re-mining, and removing the day brings everything back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import polars as pl

from .settings import Study
from .storage import Warehouse

SCOPE_CTES = """study_issues AS (
    SELECT * FROM raw_issues
    WHERE list_contains($repos, repo) AND ($until IS NULL OR created_at < $until)),
study_comments AS (
    SELECT c.* FROM raw_issue_comments c
    SEMI JOIN study_issues i ON i.repo = c.repo AND i.number = c.issue_number
    WHERE $until IS NULL OR c.created_at < $until)"""

_WITH = re.compile(r"\s*WITH\s", re.IGNORECASE)


def scoped_sql(sql: str) -> str:
    """`sql`, which reads `study_issues` and `study_comments`, with their definitions in front
    (merged into its own WITH clause if it has one)."""
    own_with = _WITH.match(sql)
    if own_with:
        return f"WITH {SCOPE_CTES},\n{sql[own_with.end() :]}"
    return f"WITH {SCOPE_CTES}\n{sql}"


def scope_params(study: Study) -> dict[str, Any]:
    return {"repos": study.repo_list(), "until": study.until}


def study_query(
    warehouse: Warehouse, study: Study, sql: str, params: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Run `sql` against the study's scope (see the module docstring); `params` are named."""
    return warehouse.query(scoped_sql(sql), {**scope_params(study), **(params or {})})


def study_scalar(
    warehouse: Warehouse, study: Study, sql: str, params: Mapping[str, Any] | None = None
) -> Any:
    return warehouse.scalar(scoped_sql(sql), {**scope_params(study), **(params or {})})
