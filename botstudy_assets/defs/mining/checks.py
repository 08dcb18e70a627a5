"""Checks of the mined tables; the blocking ones stop every later stage on bad raw data."""

import dagster as dg

from botstudy_assets.defs.common import check_result, md
from botstudy_assets.defs.resources import LakeResource, StudyResource
from botstudy_assets.lib.quality import Expectation, run_expectations

AUTHOR_TYPES = ["User", "Bot", "Organization", "Mannequin", "Enterprise"]

RAW_ISSUES_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number"]),
    *[
        Expectation("ExpectColumnValuesToNotBeNull", column=column)
        for column in (
            "repo",
            "number",
            "title",
            "author_login",
            "author_type",
            "state",
            "created_at",
            "updated_at",
            "is_pull_request",
        )
    ],
    Expectation("ExpectColumnValuesToMatchRegex", column="repo", regex=r"^[^/\s]+/[^/\s]+$"),
    Expectation("ExpectColumnValuesToBeInSet", column="author_type", value_set=AUTHOR_TYPES),
    Expectation("ExpectColumnValuesToBeInSet", column="state", value_set=["open", "closed"]),
    Expectation(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        column_A="updated_at",
        column_B="created_at",
        or_equal=True,
    ),
]
RAW_COMMENTS_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "comment_id"]),
    *[
        Expectation("ExpectColumnValuesToNotBeNull", column=column)
        for column in (
            "repo",
            "issue_number",
            "comment_id",
            "author_login",
            "created_at",
            "updated_at",
        )
    ],
    Expectation("ExpectColumnValuesToBeInSet", column="author_type", value_set=AUTHOR_TYPES),
]


@dg.asset_check(
    asset="raw_issues",
    blocking=True,
    description="Keys unique, required fields present, known author types, "
    "updated_at not before created_at.",
)
def raw_issues_valid(study: StudyResource, lake: LakeResource) -> dg.AssetCheckResult:
    frame = lake.get().query(
        "SELECT repo, number, title, author_login, author_type, state, created_at, updated_at, "
        "is_pull_request FROM raw_issues",
        repos=study.get().repo_list(),
    )
    return check_result(run_expectations("raw_issues", frame, RAW_ISSUES_EXPECTATIONS))


@dg.asset_check(
    asset="raw_issue_comments",
    blocking=True,
    description="Keys unique, required fields present, known author types.",
)
def raw_issue_comments_valid(study: StudyResource, lake: LakeResource) -> dg.AssetCheckResult:
    frame = lake.get().query(
        "SELECT repo, issue_number, comment_id, author_login, author_type, created_at, "
        "updated_at FROM raw_issue_comments",
        repos=study.get().repo_list(),
    )
    return check_result(run_expectations("raw_issue_comments", frame, RAW_COMMENTS_EXPECTATIONS))


@dg.asset_check(
    asset="raw_issue_comments",
    description="Comments belong to issues that were mined (warns: a comment on an "
    "issue opened after the issues walk is picked up next refresh).",
)
def raw_issue_comments_reference_issues(
    study: StudyResource, lake: LakeResource
) -> dg.AssetCheckResult:
    orphans = lake.get().query(
        "SELECT c.repo, c.issue_number, c.comment_id FROM raw_issue_comments c ANTI JOIN "
        "raw_issues i ON i.repo = c.repo AND i.number = c.issue_number ORDER BY 1, 2, 3",
        repos=study.get().repo_list(),
    )
    return dg.AssetCheckResult(
        passed=orphans.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{orphans.height} comments of issues that were not mined"
        if orphans.height
        else "every comment belongs to a mined issue",
        metadata={"orphan_comments": orphans.height, "examples": md(orphans.head(10))},
    )
