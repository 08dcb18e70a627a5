"""Checks of the coding tables; the blocking ones stop the report on bad labels."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import check_result
from botstudy_assets.defs.resources import WarehouseResource
from botstudy_assets.lib.labelfiles import AUTO
from botstudy_assets.lib.quality import Expectation, run_expectations
from botstudy_assets.lib.reference_data import CATEGORIES

METRICS = ["cohen_kappa", "percent_agreement", "krippendorff_alpha"]


@dg.asset_check(
    asset="coded_labels",
    blocking=True,
    description="Known categories, one row per (issue, category, rater), every "
    "label on a mined issue, auto labels carry evidence.",
)
def coded_labels_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT repo, number, category, rater, rule FROM coded_labels")
    orphans = db.query(
        "SELECT DISTINCT repo, number, rater FROM coded_labels ANTI JOIN "
        "raw_issues USING (repo, number) LIMIT 5"
    )
    auto_without_rule = frame.filter((pl.col("rater") == AUTO) & pl.col("rule").is_null()).height
    extra = (
        [f"labels on issues that were not mined, e.g. {orphans.rows()}"] if orphans.height else []
    )
    if auto_without_rule:
        extra.append(f"{auto_without_rule} auto labels without evidence")
    return check_result(
        run_expectations(
            "coded_labels",
            frame,
            [
                Expectation(
                    "ExpectColumnValuesToBeInSet", column="category", value_set=list(CATEGORIES)
                ),
                Expectation(
                    "ExpectCompoundColumnsToBeUnique",
                    column_list=["repo", "number", "category", "rater"],
                ),
                Expectation("ExpectColumnValuesToNotBeNull", column="rater"),
            ],
            extra_failures=extra,
        )
    )


@dg.asset_check(
    asset="agreement_metrics",
    blocking=True,
    description="Kappa and alpha within [-1, 1], agreement within [0, 1], n "
    "positive, every rater pair has a pooled kappa.",
)
def agreement_metrics_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT * FROM agreement_metrics")
    raters = db.scalar("SELECT count(DISTINCT rater) FROM coded_labels")
    if frame.is_empty() and raters < 2:
        return dg.AssetCheckResult(
            passed=True,
            description=f"{raters} rater(s): nothing to "
            "compare (add human rater files under labels/coding/)",
        )
    bounded = frame.filter(pl.col("metric") != "percent_agreement")
    percent = frame.filter(pl.col("metric") == "percent_agreement")
    problems = []
    for name, part, low in (("kappa/alpha", bounded, -1.0), ("percent_agreement", percent, 0.0)):
        bad = part.filter(pl.col("value").is_not_null() & ~pl.col("value").is_between(low, 1.0))
        if bad.height:
            problems.append(
                f"{bad.height} {name} values outside [{low:g}, 1], e.g. {bad.head(3).rows()}"
            )
    return check_result(
        run_expectations(
            "agreement_metrics",
            frame.select("rater_a", "rater_b", "metric", "n"),
            [
                Expectation("ExpectColumnValuesToBeBetween", column="n", min_value=1),
                Expectation("ExpectColumnValuesToBeInSet", column="metric", value_set=METRICS),
            ],
            extra_failures=problems,
        )
    )


@dg.asset_check(
    asset="coder_disagreements",
    blocking=True,
    description="Known categories, one row per (rater, issue, category), and the coder "
    "and the rater really differ on every row.",
)
def coder_disagreements_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    frame = warehouse.get().query(
        "SELECT rater, repo, number, category, auto, human FROM coder_disagreements"
    )
    same = frame.filter(pl.col("auto") == pl.col("human")).height
    return check_result(
        run_expectations(
            "coder_disagreements",
            frame,
            [
                Expectation(
                    "ExpectColumnValuesToBeInSet", column="category", value_set=list(CATEGORIES)
                ),
                Expectation(
                    "ExpectCompoundColumnsToBeUnique",
                    column_list=["rater", "repo", "number", "category"],
                ),
                Expectation("ExpectColumnValuesToNotBeNull", column="rater"),
            ],
            extra_failures=[f"{same} rows where coder and rater agree"] if same else None,
            allow_empty=True,
        )
    )
