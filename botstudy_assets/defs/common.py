"""Dagster glue the stages share: tables as metadata, check outcomes as check results."""

import dagster as dg
import polars as pl

from botstudy_assets.lib.markdown import md_table
from botstudy_assets.lib.quality import CheckOutcome
from botstudy_assets.lib.storage import Warehouse

PREVIEW_ROWS = 10
PREVIEW_TEXT = 80


def md(frame: pl.DataFrame, **options) -> dg.MetadataValue:
    """A frame as a markdown table in the UI."""
    return dg.MetadataValue.md(md_table(frame, **options))


def preview(frame: pl.DataFrame) -> dg.MetadataValue:
    return md(frame.head(PREVIEW_ROWS), max_text=PREVIEW_TEXT)


def written(
    warehouse: Warehouse, name: str, frame: pl.DataFrame, **metadata
) -> dg.MaterializeResult:
    """Replace table `name` with `frame`; the result carries its row count and a preview."""
    warehouse.replace_table(name, frame)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": frame.height, "preview": preview(frame), **metadata}
    )


def check_result(
    outcome: CheckOutcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, **metadata
) -> dg.AssetCheckResult:
    """A Great Expectations outcome as the check's result, every expectation in a table."""
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        description=outcome.description,
        metadata={
            "rows_checked": outcome.rows_checked,
            "expectations": outcome.expectations,
            "failed": len(outcome.problems),
            "results": dg.MetadataValue.md(outcome.results_md),
            **metadata,
        },
    )
