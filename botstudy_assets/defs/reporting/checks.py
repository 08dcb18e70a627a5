"""Checks of Table I."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import check_result
from botstudy_assets.defs.resources import WarehouseResource
from botstudy_assets.lib.quality import Expectation, run_expectations
from botstudy_assets.lib.reference_data import CATEGORIES

CATEGORY_SUMMARY_EXPECTATIONS = [
    Expectation(
        "ExpectColumnDistinctValuesToEqualSet", column="category", value_set=list(CATEGORIES)
    ),
    Expectation("ExpectColumnValuesToBeUnique", column="category"),
    Expectation("ExpectColumnValuesToBeBetween", column="issue_count", min_value=0),
    Expectation(
        "ExpectColumnValuesToBeBetween", column="issue_proportion_pct", min_value=0, max_value=100
    ),
]


@dg.asset_check(
    asset="category_summary",
    blocking=True,
    description="All nine categories, non-negative counts, proportions consistent with counts.",
)
def category_summary_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT * FROM category_summary")
    n_issues = db.scalar("SELECT count(DISTINCT (repo, number)) FROM final_labels") or 0
    expected = frame.with_columns(
        (100.0 * pl.col("issue_count") / max(n_issues, 1)).round(1).alias("expected_pct")
    )
    inconsistent = expected.filter(
        (pl.col("expected_pct") - pl.col("issue_proportion_pct")).abs() > 0.05
    )
    extra = (
        [
            f"proportions inconsistent with counts over {n_issues} issues: "
            f"{inconsistent.select('category', 'issue_count', 'issue_proportion_pct').rows()}"
        ]
        if inconsistent.height
        else []
    )
    checked = frame.select("category", "issue_count", "issue_proportion_pct")
    return check_result(
        run_expectations(
            "category_summary", checked, CATEGORY_SUMMARY_EXPECTATIONS, extra_failures=extra
        )
    )
