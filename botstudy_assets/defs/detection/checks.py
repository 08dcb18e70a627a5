"""Checks of the detection tables; the blocking ones stop coding on bad candidates."""

import dagster as dg

from botstudy_assets.defs.common import check_result, preview
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.detection import CHANNELS
from botstudy_assets.lib.quality import Expectation, run_expectations
from botstudy_assets.lib.scope import study_scalar

ACCOUNT_KINDS = ["github_app", "machine_user", "external_service", "human"]

BOT_ACCOUNTS_EXPECTATIONS = [
    Expectation("ExpectColumnValuesToBeUnique", column="login"),
    Expectation("ExpectColumnValuesToNotBeNull", column="is_bot"),
    Expectation("ExpectColumnValuesToBeBetween", column="confidence", min_value=0, max_value=1),
    Expectation("ExpectColumnValuesToBeBetween", column="bot_score", min_value=0, max_value=1),
    Expectation("ExpectColumnValuesToBeInSet", column="kind", value_set=ACCOUNT_KINDS),
]
KEYWORD_CANDIDATES_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number", "channel"]),
    Expectation("ExpectColumnValuesToBeInSet", column="channel", value_set=list(CHANNELS)),
    Expectation("ExpectColumnValuesToNotBeNull", column="evidence"),
    Expectation("ExpectColumnValuesToBeBetween", column="n_evidence", min_value=1),
]
VALIDATED_TRUE_POSITIVES_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number"]),
    *[
        Expectation("ExpectColumnValuesToNotBeNull", column=column)
        for column in ("basis", "reason", "decided_by")
    ],
    Expectation("ExpectColumnValuesToBeBetween", column="confidence", min_value=0, max_value=1),
]


@dg.asset_check(
    asset="bot_accounts",
    blocking=True,
    description="One row per login; confidence and score within [0, 1].",
)
def bot_accounts_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    frame = warehouse.get().query(
        "SELECT login, is_bot, confidence, bot_score, kind FROM bot_accounts"
    )
    return check_result(run_expectations("bot_accounts", frame, BOT_ACCOUNTS_EXPECTATIONS))


@dg.asset_check(
    asset="keyword_candidates",
    blocking=True,
    description="One row per (repo, number, channel), known channels, evidence "
    "present, every candidate a mined issue of the study.",
)
def keyword_candidates_valid(
    study: StudyResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    db = warehouse.get()
    frame = db.query("SELECT repo, number, channel, evidence, n_evidence FROM keyword_candidates")
    orphans = study_scalar(
        db,
        study.get(),
        "SELECT count(*) FROM keyword_candidates k ANTI JOIN study_issues i USING (repo, number)",
    )
    return check_result(
        run_expectations(
            "keyword_candidates",
            frame,
            KEYWORD_CANDIDATES_EXPECTATIONS,
            extra_failures=[f"{orphans} candidates are not mined issues of the study"]
            if orphans
            else None,
        )
    )


@dg.asset_check(
    asset="validated_true_positives",
    blocking=True,
    description="One row per thread, who decided and why recorded, confidence in [0, 1].",
)
def validated_true_positives_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    frame = warehouse.get().query(
        "SELECT repo, number, basis, reason, decided_by, confidence FROM validated_true_positives"
    )
    return check_result(
        run_expectations("validated_true_positives", frame, VALIDATED_TRUE_POSITIVES_EXPECTATIONS)
    )


@dg.asset_check(
    asset="bot_funnel", description="Each funnel narrows: issues ≥ candidates ≥ true positives."
)
def bot_funnel_narrows(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    wide = warehouse.get().query(
        "SELECT * FROM bot_funnel WHERE candidates > issues OR true_positives > candidates"
    )
    return dg.AssetCheckResult(
        passed=wide.is_empty(),
        description=f"{wide.height} funnel rows widen" if wide.height else "every funnel narrows",
        metadata={"violations": wide.height, "examples": preview(wide)},
    )
