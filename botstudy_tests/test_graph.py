"""The whole graph on the embedded sample, as `make run` does it, and every check failing on bad
data."""

import json
import shutil

import dagster as dg
import duckdb
import polars as pl
import pytest

from botstudy_assets.defs.coding import checks as coding
from botstudy_assets.defs.detection import checks as detection
from botstudy_assets.defs.interactions import checks as interactions
from botstudy_assets.defs.mining import checks as mining
from botstudy_assets.defs.reporting import checks as reporting
from botstudy_assets.defs.resources import LakeResource, StudyResource, WarehouseResource
from botstudy_assets.lib.endpoints import ENDPOINTS
from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.quality import Expectation, run_expectations
from botstudy_assets.lib.raw_store import RawStore, Target
from botstudy_assets.lib.reference_data import CATEGORIES
from botstudy_assets.lib.settings import DEFAULT_REPOS, PROJECT_ROOT, parse_repos
from botstudy_tests.harness import materialize, sample_env
from botstudy_tests.snapshot import RECORDED, table_snapshot

CONTRACT = {
    "raw_issues": {
        "repo",
        "number",
        "title",
        "body",
        "author_login",
        "author_type",
        "is_pull_request",
        "state",
        "created_at",
        "updated_at",
        "closed_at",
        "labels",
    },
    "raw_issue_comments": {
        "repo",
        "issue_number",
        "comment_id",
        "author_login",
        "author_type",
        "body",
        "created_at",
        "updated_at",
    },
    "keyword_candidates": {
        "repo",
        "number",
        "channel",
        "first_location",
        "matched",
        "snippet",
        "evidence",
    },
    "validated_true_positives": {
        "repo",
        "number",
        "bots",
        "basis",
        "reason",
        "decided_by",
        "confidence",
    },
    "coded_labels": {"repo", "number", "category", "rater"},
    "agreement_metrics": {"rater_a", "rater_b", "category", "metric", "value", "n"},
    "category_summary": {"category", "bots", "libraries", "issue_count", "issue_proportion_pct"},
    "raw_issue_events": {
        "repo",
        "event_id",
        "issue_number",
        "event",
        "actor_login",
        "actor_type",
        "label_name",
        "created_at",
        "via_app",
        "state_reason",
        "raw_json",
        "source",
        "mined_at",
    },
    "bot_actions": {"repo", "number", "bot", "action", "created_at", "label_name", "comment_id"},
    "issue_closures": {"repo", "number", "closer_role", "state_reason", "reopened"},
    "stale_policy": {
        "repo",
        "bot",
        "n_marked",
        "mark_after_days_median",
        "close_after_days_median",
        "n_closed_by_bot",
        "n_unmarked",
        "n_reopened_after_close",
        "eras",
    },
    "bot_reactions": {
        "bot",
        "reply_latency_hours",
        "reply_by_author",
        "friction_markers",
        "reactions_minus1",
    },
    "bot_timeline": {"repo", "bot", "month", "posts", "actions", "threads", "first_activity"},
    "bot_effects": {"metric", "analysis", "estimate", "ci_low", "ci_high", "interpretation"},
}


def columns(run, table: str) -> set[str]:
    return {
        name
        for (name,) in run.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND "
            "table_name = ?",
            [table],
        )
    }


def test_every_contract_table_is_filled_with_its_columns(sample_run):
    run, _ = sample_run
    for table, required in CONTRACT.items():
        assert required <= columns(run, table), table
        assert run.sql(f"SELECT count(*) FROM {table}")[0][0] > 0, table


def test_the_sample_run_writes_the_recorded_tables(sample_run):
    """Same behaviour run after run: every table's rows equal those recorded (`make snapshot`)."""
    run, _ = sample_run
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    current = table_snapshot(run.db)
    assert sorted(current) == sorted(recorded)
    changed = {table for table in recorded if current[table] != recorded[table]}
    assert not changed, {
        table: (recorded[table]["rows"], current[table]["rows"]) for table in changed
    }


def test_every_check_passed_on_the_sample(sample_run):
    run, _ = sample_run
    results = run.check_results()
    assert len(results) >= 10
    assert all(results.values()), results


def test_the_study_outputs_are_meaningful(sample_run):
    run, tmp = sample_run
    assert {
        row[0] for row in run.sql("SELECT category FROM category_summary WHERE issue_count > 0")
    } == set(CATEGORIES)
    kappas = run.sql(
        "SELECT value FROM agreement_metrics WHERE metric = 'cohen_kappa' AND category IS NULL"
    )
    assert kappas and all(-1 <= value <= 1 for (value,) in kappas)
    raters = {row[0] for row in run.sql("SELECT DISTINCT rater FROM coded_labels")}
    assert {"auto", "rater1", "rater2"} <= raters
    # Funnel narrows and the three libraries are named.
    funnel = run.sql(
        "SELECT library, issues, candidates, true_positives FROM bot_funnel WHERE channel = "
        "'keyword'"
    )
    assert {row[0] for row in funnel} == {"Keras", "PyTorch", "TensorFlow", "All"}
    assert all(issues >= candidates >= tps for _, issues, candidates, tps in funnel)
    # Bots typed User are found although they never write "bot".
    machine_users = {
        row[0]
        for row in run.sql("SELECT login FROM bot_accounts WHERE is_bot AND github_type = 'User'")
    }
    assert "tensorflowbutler" in machine_users
    assert (tmp / "reports" / "figure2_categories.png").read_bytes()[:4] == b"\x89PNG"


def test_the_report_shows_this_runs_numbers(sample_run):
    """The report's funnel, agreement and Table I are this run's tables (the paper's 68,400 and
    0.87 are printed beside them on every run, so they prove nothing)."""
    run, tmp = sample_run
    report = (tmp / "reports" / "botstudy_report.md").read_text(encoding="utf-8")
    ((issues, candidates, tps),) = run.sql(
        "SELECT issues, candidates, true_positives FROM bot_funnel "
        "WHERE library = 'All' AND channel = 'keyword'"
    )
    assert f"botstudy (keyword channel, all libraries): {issues:,} → {candidates:,} → {tps:,}." in (
        report
    )
    ((kappa, low, high),) = run.sql(
        "SELECT value, ci_low, ci_high FROM agreement_metrics WHERE category IS NULL AND "
        "metric = 'cohen_kappa' AND rater_a = 'rater1' AND rater_b = 'rater2'"
    )
    assert f"botstudy: rater1–rater2 κ = {kappa:.2f} [{low:.2f}, {high:.2f}]." in report
    table_1 = {
        line.split("|")[1].strip(): line
        for line in report.split("## Table I")[1].split("## Figure 2")[0].splitlines()
        if line.startswith("|")
    }
    for label, count, pct in run.sql(
        "SELECT label, issue_count, issue_proportion_pct FROM category_summary"
    ):
        cells = [cell.strip() for cell in table_1[label].split("|")]
        assert str(count) in cells and f"{pct:g}" in cells, (label, table_1[label])


def test_review_sheet_rows_decided_into_validation_csv_override_the_automatic_decision(
    sample_run, tmp_path
):
    """The round trip the README describes: decide rows of review_sheet.csv, save it as
    validation.csv, run again; undecided rows are ignored."""
    _, tmp = sample_run
    sheet = pl.read_csv(tmp / "reports" / "review_sheet.csv", infer_schema_length=0)
    assert sheet.height >= 3
    flipped = {"true": "false", "false": "true"}
    decided = sheet.head(2).with_columns(
        decision=pl.col("suggestion").replace_strict(flipped), decided_by=pl.lit("ann")
    )
    labels = tmp_path / "labels"
    shutil.copytree(PROJECT_ROOT / "data" / "labels" / "sample", labels)
    pl.concat([decided, sheet.slice(2)]).write_csv(labels / "validation.csv")
    again = materialize(sample_env(tmp_path, BOTSTUDY_LABELS_DIR=str(labels)))
    assert again.success, again.failure_messages()
    validated = set(again.sql("SELECT repo, number FROM validated_true_positives"))
    for row in decided.iter_rows(named=True):
        key = (row["repo"], int(row["number"]))
        accepted = row["decision"] == "true"
        assert again.sql(
            "SELECT is_true_positive, basis, decided_by, auto_is_true_positive "
            "FROM candidate_decisions WHERE repo = ? AND number = ?",
            list(key),
        ) == [(accepted, "human", "ann", not accepted)]
        assert (key in validated) == accepted
    still_open = set(again.sql("SELECT repo, number FROM review_sheet"))
    assert still_open == {(r, int(n)) for r, n in sheet.slice(2).select("repo", "number").rows()}
    assert again.sql("SELECT count(*) FROM candidate_decisions WHERE basis = 'human'") == [(2,)]


def test_sample_detection_matches_the_generators_truth(sample_run):
    """The sample's own ground truth (truth.csv) as a second, larger check of detection."""
    run, _ = sample_run
    truth_file = PROJECT_ROOT / "data" / "sample" / "truth.csv"
    relevant = {
        (repo, int(number))
        for repo, number, related in duckdb.sql(
            f"SELECT repo, number, bot_related FROM read_csv('{truth_file}')"
        ).fetchall()
        if related
    }
    validated = set(run.sql("SELECT repo, number FROM validated_true_positives"))
    precision = len(validated & relevant) / len(validated)
    recall = len(validated & relevant) / len(relevant)
    print(f"\nsample: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.9 and recall >= 0.9


# ------------------------------------------------------- each expectation of each check can fail


def unconstrained(table: str) -> str:
    """The table without its key constraints, so that a corruption may break them (as a manual
    edit, another tool or a schema change could)."""
    return f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}; "


def first_row(table: str, where: str = "TRUE") -> str:
    return f"rowid = (SELECT min(rowid) FROM {table} WHERE {where})"


def not_null_corruptions(check, expectations, table: str, keys: tuple[str, ...]) -> list:
    return [
        (
            check,
            expectation,
            (unconstrained(table) if expectation.kwargs["column"] in keys else "")
            + f"UPDATE {table} SET {expectation.kwargs['column']} = NULL WHERE rowid = 0",
        )
        for expectation in expectations
        if expectation.name == "ExpectColumnValuesToNotBeNull"
    ]


def expectation(expectations, name: str, **kwargs):
    """The one expectation of a check's list with this class name (and these kwargs)."""
    (found,) = [
        e
        for e in expectations
        if e.name == name and all(e.kwargs.get(key) == value for key, value in kwargs.items())
    ]
    return found


RAW_ISSUES = mining.RAW_ISSUES_EXPECTATIONS
RAW_COMMENTS = mining.RAW_COMMENTS_EXPECTATIONS
ACCOUNTS = detection.BOT_ACCOUNTS_EXPECTATIONS
CANDIDATES = detection.KEYWORD_CANDIDATES_EXPECTATIONS
TPS = detection.VALIDATED_TRUE_POSITIVES_EXPECTATIONS
LABELS = coding.CODED_LABELS_EXPECTATIONS
AGREEMENT = coding.AGREEMENT_METRICS_EXPECTATIONS
SUMMARY = reporting.CATEGORY_SUMMARY_EXPECTATIONS
IN_SET, BETWEEN = "ExpectColumnValuesToBeInSet", "ExpectColumnValuesToBeBetween"


def generic_corruption(table: str, expectation) -> str:
    """A corruption of one row that breaks this expectation (of the kinds the stage checks use)."""
    args = expectation.kwargs
    if expectation.name == "ExpectCompoundColumnsToBeUnique":
        return unconstrained(table) + f"INSERT INTO {table} SELECT * FROM {table} WHERE rowid = 0"
    column = args["column"]
    if expectation.name == "ExpectColumnValuesToNotBeNull":
        return unconstrained(table) + f"UPDATE {table} SET {column} = NULL WHERE rowid = 0"
    if expectation.name in (IN_SET, "ExpectColumnValuesToMatchRegex"):
        return f"UPDATE {table} SET {column} = '@not-a-known-value' WHERE rowid = 0"
    if expectation.name == BETWEEN:
        outside = args["min_value"] - 1 if "min_value" in args else args["max_value"] + 1
        return (
            f"CREATE OR REPLACE TABLE {table} AS SELECT * REPLACE ({column}::DOUBLE AS {column}) "
            f"FROM {table}; UPDATE {table} SET {column} = {outside} WHERE rowid = 0"
        )
    raise AssertionError(f"no corruption for {expectation.describe()}")


def corruptions_of(check, table: str, expectations, *extra: tuple[str, str]) -> list:
    """One corruption per expectation of a check, plus its findings outside Great Expectations
    as (finding, corruption)."""
    return [
        *((check, e, generic_corruption(table, e)) for e in expectations),
        *((check, finding, corruption) for finding, corruption in extra),
    ]


INTERACTION_CORRUPTIONS = [
    *corruptions_of(
        coding.coder_disagreements_valid,
        "coder_disagreements",
        coding.CODER_DISAGREEMENTS_EXPECTATIONS,
        (
            "rows where coder and rater agree",
            "UPDATE coder_disagreements SET human = auto WHERE rowid = 0",
        ),
    ),
    *corruptions_of(
        interactions.raw_issue_events_valid,
        "raw_issue_events",
        interactions.RAW_EVENTS_EXPECTATIONS,
    ),
    *corruptions_of(
        interactions.bot_actions_valid,
        "bot_actions",
        interactions.BOT_ACTIONS_EXPECTATIONS,
        (
            "events appear twice",
            unconstrained("bot_actions")
            + "INSERT INTO bot_actions SELECT * FROM bot_actions WHERE event_id IS NOT NULL "
            "LIMIT 1",
        ),
        (
            "actions of accounts bot_accounts does not call bots",
            "UPDATE bot_actions SET bot = 'a-person' WHERE rowid = 0",
        ),
    ),
    *corruptions_of(
        interactions.issue_closures_valid,
        "issue_closures",
        interactions.ISSUE_CLOSURES_EXPECTATIONS,
    ),
    *corruptions_of(
        interactions.stale_policy_valid,
        "stale_policy",
        interactions.STALE_POLICY_EXPECTATIONS,
        (
            "counts do not add up",
            "UPDATE stale_policy SET n_unmarked = n_unmarked + 1 WHERE rowid = 0",
        ),
    ),
    *corruptions_of(
        interactions.bot_reactions_valid,
        "bot_reactions",
        interactions.BOT_REACTIONS_EXPECTATIONS,
        ("rows for", "DELETE FROM bot_reactions WHERE rowid = 0"),
        (
            "rows with friction but no reply",
            "UPDATE bot_reactions SET friction = true, reply_at = NULL WHERE rowid = 0",
        ),
    ),
    *corruptions_of(
        interactions.bot_timeline_valid,
        "bot_timeline",
        interactions.BOT_TIMELINE_EXPECTATIONS,
        (
            "bots whose months do not add up",
            "UPDATE bot_timeline SET posts = posts + 1 WHERE rowid = 0",
        ),
    ),
    *corruptions_of(
        interactions.bot_effects_valid,
        "bot_effects",
        interactions.BOT_EFFECTS_EXPECTATIONS,
        (
            "estimates outside their confidence interval",
            "UPDATE bot_effects SET estimate = ci_high + 1 WHERE ci_high IS NOT NULL",
        ),
    ),
]


# (check, the expectation or the finding that must fail, the corruption). Findings that are not
# Great Expectations expectations are named by a part of their message.
CORRUPTIONS = [
    (
        mining.raw_issues_valid,
        expectation(RAW_ISSUES, "ExpectCompoundColumnsToBeUnique"),
        unconstrained("raw_issues") + "INSERT INTO raw_issues SELECT * FROM raw_issues LIMIT 1",
    ),
    *not_null_corruptions(mining.raw_issues_valid, RAW_ISSUES, "raw_issues", ("repo", "number")),
    (
        mining.raw_issues_valid,
        expectation(RAW_ISSUES, "ExpectColumnValuesToMatchRegex"),
        "UPDATE raw_issues SET repo = 'keras team/keras' WHERE rowid = 0",
    ),
    (
        mining.raw_issues_valid,
        expectation(RAW_ISSUES, IN_SET, column="author_type"),
        "UPDATE raw_issues SET author_type = 'Robot' WHERE rowid = 0",
    ),
    (
        mining.raw_issues_valid,
        expectation(RAW_ISSUES, IN_SET, column="state"),
        "UPDATE raw_issues SET state = 'merged' WHERE rowid = 0",
    ),
    (
        mining.raw_issues_valid,
        expectation(RAW_ISSUES, "ExpectColumnPairValuesAToBeGreaterThanB"),
        "UPDATE raw_issues SET updated_at = created_at - INTERVAL 1 DAY WHERE number < 5",
    ),
    (
        mining.raw_issues_valid,
        "raw_issues is empty",
        "DELETE FROM raw_issues",
    ),
    (
        mining.raw_issue_comments_valid,
        expectation(RAW_COMMENTS, "ExpectCompoundColumnsToBeUnique"),
        unconstrained("raw_issue_comments")
        + "INSERT INTO raw_issue_comments SELECT * FROM raw_issue_comments LIMIT 1",
    ),
    *not_null_corruptions(
        mining.raw_issue_comments_valid,
        RAW_COMMENTS,
        "raw_issue_comments",
        ("repo", "issue_number", "comment_id"),
    ),
    (
        mining.raw_issue_comments_valid,
        expectation(RAW_COMMENTS, IN_SET, column="author_type"),
        "UPDATE raw_issue_comments SET author_type = 'Robot' WHERE rowid = 0",
    ),
    (
        mining.raw_issue_comments_reference_issues,
        "comments of issues that were not mined",
        "DELETE FROM raw_issues WHERE (repo, number) IN (SELECT (repo, issue_number) FROM "
        "raw_issue_comments LIMIT 1)",
    ),
    (
        detection.bot_accounts_valid,
        expectation(ACCOUNTS, "ExpectColumnValuesToBeUnique"),
        "INSERT INTO bot_accounts SELECT * FROM bot_accounts WHERE login = 'tensorflowbutler'",
    ),
    (
        detection.bot_accounts_valid,
        expectation(ACCOUNTS, "ExpectColumnValuesToNotBeNull"),
        "UPDATE bot_accounts SET is_bot = NULL WHERE rowid = 0",
    ),
    (
        detection.bot_accounts_valid,
        expectation(ACCOUNTS, BETWEEN, column="confidence"),
        "UPDATE bot_accounts SET confidence = 1.5 WHERE login = 'tensorflowbutler'",
    ),
    (
        detection.bot_accounts_valid,
        expectation(ACCOUNTS, BETWEEN, column="bot_score"),
        "UPDATE bot_accounts SET bot_score = -0.1 WHERE login = 'tensorflowbutler'",
    ),
    (
        detection.bot_accounts_valid,
        expectation(ACCOUNTS, IN_SET, column="kind"),
        "UPDATE bot_accounts SET kind = 'cyborg' WHERE login = 'tensorflowbutler'",
    ),
    (
        detection.keyword_candidates_valid,
        expectation(CANDIDATES, "ExpectCompoundColumnsToBeUnique"),
        "INSERT INTO keyword_candidates SELECT * FROM keyword_candidates LIMIT 1",
    ),
    (
        detection.keyword_candidates_valid,
        expectation(CANDIDATES, IN_SET, column="channel"),
        "UPDATE keyword_candidates SET channel = 'telepathy' WHERE rowid = 0",
    ),
    (
        detection.keyword_candidates_valid,
        expectation(CANDIDATES, "ExpectColumnValuesToNotBeNull"),
        "UPDATE keyword_candidates SET evidence = NULL WHERE rowid = 0",
    ),
    (
        detection.keyword_candidates_valid,
        expectation(CANDIDATES, BETWEEN, column="n_evidence"),
        "UPDATE keyword_candidates SET n_evidence = 0 WHERE rowid = 0",
    ),
    (
        detection.keyword_candidates_valid,
        "candidates are not mined issues of the study",
        "UPDATE keyword_candidates SET number = number + 1000000 WHERE rowid = 0",
    ),
    (
        detection.validated_true_positives_valid,
        expectation(TPS, "ExpectCompoundColumnsToBeUnique"),
        "INSERT INTO validated_true_positives SELECT * FROM validated_true_positives LIMIT 1",
    ),
    *not_null_corruptions(
        detection.validated_true_positives_valid, TPS, "validated_true_positives", ()
    ),
    (
        detection.validated_true_positives_valid,
        expectation(TPS, BETWEEN, column="confidence"),
        "UPDATE validated_true_positives SET confidence = 2 WHERE rowid = 0",
    ),
    (
        detection.bot_funnel_narrows,
        "funnel rows widen",
        "UPDATE bot_funnel SET true_positives = candidates + 1 WHERE library = 'All'",
    ),
    (
        detection.bot_funnel_narrows,
        "funnel rows widen",
        "UPDATE bot_funnel SET candidates = issues + 1 WHERE library = 'Keras'",
    ),
    (
        coding.coded_labels_valid,
        expectation(LABELS, IN_SET, column="category"),
        "UPDATE coded_labels SET category = 'astrology' WHERE rowid = 0",
    ),
    (
        coding.coded_labels_valid,
        expectation(LABELS, "ExpectCompoundColumnsToBeUnique"),
        "INSERT INTO coded_labels SELECT * FROM coded_labels LIMIT 1",
    ),
    (
        coding.coded_labels_valid,
        expectation(LABELS, "ExpectColumnValuesToNotBeNull"),
        "UPDATE coded_labels SET rater = NULL WHERE rowid = 0",
    ),
    (
        coding.coded_labels_valid,
        "labels on issues that are not mined issues of the study",
        "INSERT INTO coded_labels SELECT * REPLACE (number + 1000000 AS number) FROM coded_labels "
        "LIMIT 1",
    ),
    (
        coding.coded_labels_valid,
        "auto labels without evidence",
        "UPDATE coded_labels SET rule = NULL WHERE " + first_row("coded_labels", "rater = 'auto'"),
    ),
    (
        coding.agreement_metrics_valid,
        expectation(AGREEMENT, BETWEEN, column="n"),
        "UPDATE agreement_metrics SET n = 0 WHERE rowid = 0",
    ),
    (
        coding.agreement_metrics_valid,
        expectation(AGREEMENT, IN_SET, column="metric"),
        "UPDATE agreement_metrics SET metric = 'vibes' WHERE "
        + first_row("agreement_metrics", "metric = 'krippendorff_alpha'"),
    ),
    (
        coding.agreement_metrics_valid,
        "kappa/alpha values outside [-1, 1]",
        "UPDATE agreement_metrics SET value = 1.7 WHERE "
        + first_row("agreement_metrics", "metric = 'cohen_kappa'"),
    ),
    (
        coding.agreement_metrics_valid,
        "percent_agreement values outside [0, 1]",
        "UPDATE agreement_metrics SET value = -0.2 WHERE "
        + first_row("agreement_metrics", "metric = 'percent_agreement'"),
    ),
    (
        coding.agreement_metrics_valid,
        "rater pairs without a pooled kappa: [('rater1', 'rater2')]",
        "DELETE FROM agreement_metrics WHERE category IS NULL AND metric = 'cohen_kappa' AND "
        "rater_a = 'rater1' AND rater_b = 'rater2'",
    ),
    (
        reporting.category_summary_valid,
        expectation(SUMMARY, "ExpectColumnDistinctValuesToEqualSet"),
        "DELETE FROM category_summary WHERE category = 'license'",
    ),
    (
        reporting.category_summary_valid,
        expectation(SUMMARY, "ExpectColumnValuesToBeUnique"),
        "INSERT INTO category_summary SELECT * FROM category_summary WHERE category = 'stale'",
    ),
    (
        reporting.category_summary_valid,
        expectation(SUMMARY, BETWEEN, column="issue_count"),
        "UPDATE category_summary SET issue_count = -1 WHERE category = 'stale'",
    ),
    (
        reporting.category_summary_valid,
        expectation(SUMMARY, BETWEEN, column="issue_proportion_pct"),
        "UPDATE category_summary SET issue_proportion_pct = 101 WHERE category = 'stale'",
    ),
    (
        reporting.category_summary_valid,
        "proportions inconsistent with counts",
        "UPDATE category_summary SET issue_proportion_pct = issue_proportion_pct + 5 WHERE "
        "category = 'stale'",
    ),
    *INTERACTION_CORRUPTIONS,
]
CHECK_MODULES = (mining, detection, coding, reporting, interactions)
EXPECTATIONS = {
    mining.raw_issues_valid: RAW_ISSUES,
    mining.raw_issue_comments_valid: RAW_COMMENTS,
    detection.bot_accounts_valid: ACCOUNTS,
    detection.keyword_candidates_valid: CANDIDATES,
    detection.validated_true_positives_valid: TPS,
    coding.coded_labels_valid: LABELS,
    coding.agreement_metrics_valid: AGREEMENT,
    reporting.category_summary_valid: SUMMARY,
    coding.coder_disagreements_valid: coding.CODER_DISAGREEMENTS_EXPECTATIONS,
    interactions.raw_issue_events_valid: interactions.RAW_EVENTS_EXPECTATIONS,
    interactions.bot_actions_valid: interactions.BOT_ACTIONS_EXPECTATIONS,
    interactions.issue_closures_valid: interactions.ISSUE_CLOSURES_EXPECTATIONS,
    interactions.stale_policy_valid: interactions.STALE_POLICY_EXPECTATIONS,
    interactions.bot_reactions_valid: interactions.BOT_REACTIONS_EXPECTATIONS,
    interactions.bot_timeline_valid: interactions.BOT_TIMELINE_EXPECTATIONS,
    interactions.bot_effects_valid: interactions.BOT_EFFECTS_EXPECTATIONS,
}


def failure_text(finding) -> str:
    return finding if isinstance(finding, str) else f"{finding.describe()}: "


class RawOfFile(RawStore):
    """The raw tables of a DuckDB file, served to the checks that read the lake. The lake's
    reader keeps one row per key, so duplicate keys can never reach those checks through it;
    a corruption made in the file reaches them whole (see test_a_raw_check_reads_the_lake for
    the checks reading the lake itself)."""

    def __init__(self, db: str) -> None:
        self.db = db

    def connect(self, repos) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(self.db, read_only=True)


class RawOfFileResource(LakeResource):
    db: str = ""

    def get(self) -> RawStore:
        return RawOfFile(self.db)


def materialize_raw_views(con: duckdb.DuckDBPyConnection) -> None:
    """The published file's raw tables are views over the lake: make them tables of their own
    (the lake is left alone) that a corruption may edit."""
    for endpoint in ENDPOINTS:
        con.execute(f"CREATE TABLE _raw AS SELECT * FROM {endpoint.table}")
        con.execute(f"DROP VIEW {endpoint.table}")
        con.execute(f"ALTER TABLE _raw RENAME TO {endpoint.table}")


def evaluate(check, db) -> dg.AssetCheckResult:
    resources = {
        "warehouse": WarehouseResource(path=str(db)),
        "lake": RawOfFileResource(db=str(db)),
        "study": StudyResource(),
    }
    return check(**{key: resources[key] for key in check.required_resource_keys & set(resources)})


def test_each_expectation_result_belongs_to_its_expectation():
    """Great Expectations reports multi-column expectations first and the rest grouped by
    column, not in the suite's order."""
    frame = pl.DataFrame({"a": ["x", "y"], "b": [None, "x"]})
    outcome = run_expectations(
        "t",
        frame,
        [
            Expectation("ExpectColumnValuesToNotBeNull", column="a"),
            Expectation("ExpectColumnValuesToNotBeNull", column="b"),
            Expectation("ExpectColumnValuesToBeInSet", column="a", value_set=["x", "y"]),
            Expectation("ExpectCompoundColumnsToBeUnique", column_list=["a", "b"]),
        ],
    )
    assert outcome.problems == (
        "ExpectColumnValuesToNotBeNull(column='b'): 1 unexpected, e.g. [nan]",
    )


def test_every_check_and_every_expectation_has_its_own_corruption():
    checks = {
        value
        for module in CHECK_MODULES
        for value in vars(module).values()
        if isinstance(value, dg.AssetChecksDefinition)
    }
    assert checks == {check for check, _, _ in CORRUPTIONS}
    for check, expectations in EXPECTATIONS.items():
        covered = [finding for other, finding, _ in CORRUPTIONS if other is check]
        assert all(e in covered for e in expectations), check.check_key.name


@pytest.mark.parametrize(
    "check, finding, corruption",
    CORRUPTIONS,
    ids=[f"{check.check_key.name}-{i}" for i, (check, _, _) in enumerate(CORRUPTIONS)],
)
def test_each_expectation_fails_on_bad_data(sample_run, tmp_path, check, finding, corruption):
    """The sample passes every check (test_every_check_passed_on_the_sample); each corruption
    makes its check fail, for the reason it targets."""
    run, _ = sample_run
    copy = tmp_path / "copy.duckdb"
    shutil.copy(run.db, copy)
    with duckdb.connect(str(copy)) as con:
        materialize_raw_views(con)
        con.execute(corruption)
    result = evaluate(check, copy)
    assert not result.passed
    assert failure_text(finding) in (result.description or ""), result.description


@pytest.mark.parametrize("value, status", [("on", "RUNNING"), ("", "STOPPED"), ("off", "STOPPED")])
def test_botstudy_schedule_on_starts_the_weekly_refresh_by_default(value, status):
    from botstudy_dev.runner import environment

    with environment({"BOTSTUDY_SCHEDULE": value} if value else {}):
        from botstudy_assets.definitions import defs

        schedule = defs().resolve_schedule_def("weekly_refresh")
    assert schedule.default_status == getattr(dg.DefaultScheduleStatus, status)
    assert schedule.cron_schedule == "0 3 * * 1" and schedule.execution_timezone == "UTC"


@pytest.mark.parametrize(
    "check, corruption",
    [
        (
            mining.raw_issues_valid,
            "UPDATE raw_issues SET author_type = 'Robot' WHERE number = (SELECT min(number) "
            "FROM raw_issues)",
        ),
        (
            interactions.raw_issue_events_valid,
            "UPDATE raw_issue_events SET event = NULL WHERE event_id = (SELECT max(event_id) "
            "FROM raw_issue_events)",
        ),
    ],
    ids=["raw_issues_valid", "raw_issue_events_valid"],
)
def test_a_raw_check_reads_the_lake(sample_run, tmp_path, check, corruption):
    """The raw tables' checks run in the mining runs, before anything is published: they read
    the lake, and fail on bad rows written there."""
    _, tmp = sample_run
    lake = tmp_path / "lake"
    shutil.copytree(tmp / "lake", lake)
    resources = {"lake": LakeResource(root=str(lake)), "study": StudyResource(source="sample")}
    assert check.required_resource_keys - {"io_manager"} == set(resources)
    assert check(**resources).passed
    corrupt_lake(lake, corruption)
    assert not check(**resources).passed


def corrupt_lake(root, corruption: str) -> None:
    """Apply an SQL corruption to the lake's raw tables: each repository's table is rewritten
    with the corrupted rows (one commit each, as the sample loader writes them)."""
    store, repos = RawStore(Lake(str(root))), parse_repos(DEFAULT_REPOS)
    with store.connect(repos) as con:
        for endpoint in ENDPOINTS:
            con.execute(f"CREATE TABLE _t AS SELECT * FROM {endpoint.table}")
            con.execute(f"DROP VIEW {endpoint.table}")
            con.execute(f"ALTER TABLE _t RENAME TO {endpoint.table}")
        con.execute(corruption)
        for endpoint in ENDPOINTS:
            for repo in repos:
                rows = con.sql(
                    f"SELECT * FROM {endpoint.table} WHERE repo = ?", params=[repo]
                ).to_arrow_table()
                table = store.open(Target(repo, endpoint, "sample", "")).lake_table
                table.replace(rows, table.state())


def test_repository_partitions_follow_the_configuration():
    import dagster as dg

    from botstudy_assets.defs.mining.partitions import sync_repositories
    from botstudy_assets.defs.mining.sensors import repository_partitions
    from botstudy_assets.defs.resources import StudyResource
    from botstudy_assets.defs.schedules import weekly_refresh_schedule

    weekly_refresh = weekly_refresh_schedule()

    with dg.instance_for_test() as instance:
        assert sync_repositories(instance, ["a/b", "c/d"]) == ["a/b", "c/d"]
        assert sync_repositories(instance, ["c/d", "e/f"]) == ["c/d", "e/f"]  # a/b gone, e/f added

        # The sensor asks Dagster for the same change, without launching runs.
        study = StudyResource(repos="c/d,x/y")
        result = repository_partitions(
            dg.build_sensor_context(instance=instance, resources={"study": study})
        )
        requests = {
            type(request).__name__: request.partition_keys
            for request in result.dynamic_partitions_requests
        }
        assert requests == {
            "AddDynamicPartitionsRequest": ["x/y"],
            "DeleteDynamicPartitionsRequest": ["e/f"],
        }
        assert not result.run_requests

        # The schedule's run covers every configured repository.
        request = weekly_refresh(
            dg.build_schedule_context(instance=instance, resources={"study": study})
        )
        assert (
            request.tags["dagster/asset_partition_range_start"],
            request.tags["dagster/asset_partition_range_end"],
        ) == ("c/d", "x/y")
        assert instance.get_dynamic_partitions("repositories") == ["c/d", "x/y"]
