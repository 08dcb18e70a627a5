"""Checks of the coding tables; the blocking ones stop the report on bad labels."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import check_result
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.labelfiles import AUTO
from botstudy_assets.lib.quality import Expectation, run_expectations
from botstudy_assets.lib.reference_data import CATEGORIES
from botstudy_assets.lib.scope import study_query

METRICS = ["cohen_kappa", "percent_agreement", "krippendorff_alpha"]

CODED_LABELS_EXPECTATIONS = [
    Expectation("ExpectColumnValuesToBeInSet", column="category", value_set=list(CATEGORIES)),
    Expectation(
        "ExpectCompoundColumnsToBeUnique", column_list=["repo", "number", "category", "rater"]
    ),
    Expectation("ExpectColumnValuesToNotBeNull", column="rater"),
]
AGREEMENT_METRICS_EXPECTATIONS = [
    Expectation("ExpectColumnValuesToBeBetween", column="n", min_value=1),
    Expectation("ExpectColumnValuesToBeInSet", column="metric", value_set=METRICS),
]
# Pairs of raters who coded an issue in common (auto codes every true positive): each must have
# a pooled kappa.
RATER_PAIRS_SQL = """
WITH coded AS (
    SELECT DISTINCT rater, repo, number FROM coded_labels
    UNION SELECT $auto, repo, number FROM validated_true_positives)
SELECT DISTINCT a.rater AS rater_a, b.rater AS rater_b
FROM coded a JOIN coded b USING (repo, number) WHERE a.rater < b.rater ORDER BY ALL
"""


@dg.asset_check(
    asset="coded_labels",
    blocking=True,
    description="Known categories, one row per (issue, category, rater), every "
    "label on a mined issue of the study, auto labels carry evidence.",
)
def coded_labels_valid(study: StudyResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT repo, number, category, rater, rule FROM coded_labels")
    orphans = study_query(
        db,
        study.get(),
        "SELECT DISTINCT repo, number, rater FROM coded_labels ANTI JOIN "
        "study_issues USING (repo, number) ORDER BY ALL LIMIT 5",
    )
    auto_without_rule = frame.filter((pl.col("rater") == AUTO) & pl.col("rule").is_null()).height
    extra = (
        [f"labels on issues that are not mined issues of the study, e.g. {orphans.rows()}"]
        if orphans.height
        else []
    )
    if auto_without_rule:
        extra.append(f"{auto_without_rule} auto labels without evidence")
    return check_result(
        run_expectations("coded_labels", frame, CODED_LABELS_EXPECTATIONS, extra_failures=extra)
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
    pairs = set(db.query(RATER_PAIRS_SQL, {"auto": AUTO}).iter_rows())
    if frame.is_empty() and not pairs:
        return dg.AssetCheckResult(
            passed=True,
            description="no two raters coded an issue in common: nothing to compare (add "
            "human rater files under labels/coding/)",
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
    pooled = frame.filter(pl.col("category").is_null() & (pl.col("metric") == "cohen_kappa"))
    missing = sorted(pairs - set(pooled.select("rater_a", "rater_b").iter_rows()))
    if missing:
        problems.append(f"rater pairs without a pooled kappa: {missing[:5]}")
    return check_result(
        run_expectations(
            "agreement_metrics",
            frame.select("rater_a", "rater_b", "metric", "n"),
            AGREEMENT_METRICS_EXPECTATIONS,
            extra_failures=problems,
        )
    )


CODER_DISAGREEMENTS_EXPECTATIONS = [
    Expectation("ExpectColumnValuesToBeInSet", column="category", value_set=list(CATEGORIES)),
    Expectation(
        "ExpectCompoundColumnsToBeUnique", column_list=["rater", "repo", "number", "category"]
    ),
    Expectation("ExpectColumnValuesToNotBeNull", column="rater"),
]


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
            CODER_DISAGREEMENTS_EXPECTATIONS,
            extra_failures=[f"{same} rows where coder and rater agree"] if same else None,
            allow_empty=True,
        )
    )
