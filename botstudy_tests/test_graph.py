"""The whole graph on the embedded sample, as `make run` does it, and every check failing on bad
data."""

import json
import shutil

import duckdb
import pytest

from botstudy_assets.defs.coding import checks as coding
from botstudy_assets.defs.detection import checks as detection
from botstudy_assets.defs.interactions import checks as interactions
from botstudy_assets.defs.mining import checks as mining
from botstudy_assets.defs.reporting import checks as reporting
from botstudy_assets.defs.resources import LakeResource, StudyResource, WarehouseResource
from botstudy_assets.lib.endpoints import ENDPOINTS
from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.raw_store import RawStore, Target
from botstudy_assets.lib.reference_data import CATEGORIES
from botstudy_assets.lib.settings import DEFAULT_REPOS, PROJECT_ROOT, parse_repos
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
    report = (tmp / "reports" / "botstudy_report.md").read_text(encoding="utf-8")
    assert "Table I" in report and "68,400" in report and "0.87" in report
    assert (tmp / "reports" / "figure2_categories.png").read_bytes()[:4] == b"\x89PNG"


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


# --------------------------------------------------------------------- each check can fail


CORRUPTIONS = [
    (
        mining.raw_issues_valid,
        "UPDATE raw_issues SET author_type = 'Robot' WHERE number = (SELECT min(number) FROM "
        "raw_issues)",
    ),
    (
        mining.raw_issues_valid,
        "UPDATE raw_issues SET updated_at = created_at - INTERVAL 1 DAY WHERE number < 5",
    ),
    (
        mining.raw_issue_comments_valid,
        "UPDATE raw_issue_comments SET author_login = NULL WHERE comment_id = (SELECT "
        "min(comment_id) FROM raw_issue_comments)",
    ),
    (
        mining.raw_issue_comments_reference_issues,
        "DELETE FROM raw_issues WHERE (repo, number) IN (SELECT (repo, issue_number) FROM "
        "raw_issue_comments LIMIT 1)",
    ),
    (
        detection.bot_accounts_valid,
        "UPDATE bot_accounts SET confidence = 1.5 WHERE login = 'tensorflowbutler'",
    ),
    (
        detection.keyword_candidates_valid,
        "INSERT INTO keyword_candidates SELECT * FROM keyword_candidates LIMIT 1",
    ),
    (
        detection.keyword_candidates_valid,
        "UPDATE keyword_candidates SET channel = 'telepathy' WHERE rowid = 0",
    ),
    (
        detection.validated_true_positives_valid,
        "INSERT INTO validated_true_positives SELECT * FROM validated_true_positives LIMIT 1",
    ),
    (
        detection.bot_funnel_narrows,
        "UPDATE bot_funnel SET true_positives = candidates + 1 WHERE library = 'All'",
    ),
    (coding.coded_labels_valid, "UPDATE coded_labels SET category = 'astrology' WHERE rowid = 0"),
    (
        coding.coded_labels_valid,
        "INSERT INTO coded_labels SELECT * REPLACE (number + 1000000 AS number) FROM coded_labels "
        "LIMIT 1",
    ),
    (
        coding.agreement_metrics_valid,
        "UPDATE agreement_metrics SET value = 1.7 WHERE metric = 'cohen_kappa' AND rowid = "
        "(SELECT min(rowid) FROM agreement_metrics WHERE metric = 'cohen_kappa')",
    ),
    (
        reporting.category_summary_valid,
        "UPDATE category_summary SET issue_proportion_pct = issue_proportion_pct + 5 WHERE "
        "category = 'stale'",
    ),
    (reporting.category_summary_valid, "DELETE FROM category_summary WHERE category = 'license'"),
    (
        interactions.raw_issue_events_valid,
        "INSERT INTO raw_issue_events SELECT * REPLACE (NULL AS actor_login, event_id + 1 AS "
        "event_id) FROM raw_issue_events WHERE event_id = (SELECT max(event_id) FROM "
        "raw_issue_events)",
    ),
    (
        interactions.bot_actions_valid,
        "UPDATE bot_actions SET action = 'telepathy' WHERE rowid = 0",
    ),
    (
        interactions.issue_closures_valid,
        "UPDATE issue_closures SET closer_role = 'cat' WHERE rowid = 0",
    ),
    (
        interactions.stale_policy_valid,
        "UPDATE stale_policy SET n_unmarked = n_unmarked + 1 WHERE rowid = 0",
    ),
    (
        interactions.stale_policy_valid,
        "UPDATE stale_policy SET mark_after_days_median = -3 WHERE rowid = 0",
    ),
    (interactions.bot_reactions_valid, "DELETE FROM bot_reactions WHERE rowid = 0"),
    (interactions.bot_timeline_valid, "UPDATE bot_timeline SET posts = posts + 1 WHERE rowid = 0"),
    (
        interactions.bot_effects_valid,
        "UPDATE bot_effects SET estimate = ci_high + 1 WHERE ci_high IS NOT NULL",
    ),
]


@pytest.mark.parametrize(
    "check, corruption",
    CORRUPTIONS,
    ids=[f"{check.check_key.name}-{i}" for i, (check, _) in enumerate(CORRUPTIONS)],
)
def test_each_check_fails_on_bad_data(sample_run, tmp_path, check, corruption):
    run, tmp = sample_run
    copy, lake = tmp_path / "copy.duckdb", tmp_path / "lake"
    shutil.copy(run.db, copy)
    shutil.copytree(tmp / "lake", lake)
    resources = {
        "warehouse": WarehouseResource(path=str(copy)),
        "lake": LakeResource(root=str(lake)),
        "study": StudyResource(source="sample"),
    }
    needed = {key: value for key, value in resources.items() if key in check.required_resource_keys}
    assert check(**needed).passed
    if "lake" in needed:  # the raw tables' checks read the lake
        corrupt_lake(lake, corruption)
    else:
        with duckdb.connect(str(copy)) as con:
            con.execute(corruption)
    result = check(**needed)
    assert not result.passed
    assert result.description or result.metadata


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
