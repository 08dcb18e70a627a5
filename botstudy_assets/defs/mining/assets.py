"""Stage 1, mining: `raw_issues`, `raw_issue_comments` and `raw_issue_events`, from the embedded
sample or GitHub, one partition per repository (see `lib/walk.py` and `lib/events_walk.py` for
how GitHub is walked)."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md
from botstudy_assets.defs.mining.partitions import REPOSITORIES, partition_repos
from botstudy_assets.defs.resources import GitHubResource, StudyResource, WarehouseResource
from botstudy_assets.lib.endpoints import COMMENTS, EVENTS, ISSUES, Endpoint
from botstudy_assets.lib.events_walk import mine_events
from botstudy_assets.lib.raw_store import Target, ensure_tables
from botstudy_assets.lib.sample import load_sample
from botstudy_assets.lib.storage import Warehouse
from botstudy_assets.lib.walk import RepoReport, mine_repositories

GROUP = "mining"
REPORT_TOTALS = (
    "requests",
    "counted_requests",
    "not_modified",
    "retries",
    "rate_limit_waits",
    "items_new",
    "items_updated",
)


def _mine(
    context: dg.AssetExecutionContext,
    study_resource: StudyResource,
    github: GitHubResource,
    warehouse_resource: WarehouseResource,
    endpoint: Endpoint,
) -> dg.MaterializeResult:
    study, warehouse = study_resource.get(), warehouse_resource.get()
    repos = partition_repos(context)
    ensure_tables(warehouse)
    log = context.log.info
    # Everything is mined and kept; BOTSTUDY_UNTIL selects what the later stages study.
    log(f"mining {endpoint.name} of {', '.join(repos)} from {study.source}")
    if study.source == "sample":
        reports = load_sample(study.sample_dir, warehouse, repos, endpoint)
    elif endpoint is EVENTS:
        reports = mine_events(
            lambda: github.client(log),
            warehouse,
            [Target(repo, endpoint, "github", github.api_url) for repo in repos],
            max_concurrent=github.max_concurrent_repos,
            log=log,
        )
    else:
        targets = [Target(repo, endpoint, "github", github.api_url) for repo in repos]
        reports = mine_repositories(
            lambda: github.client(log),
            warehouse,
            targets,
            max_concurrent=github.max_concurrent_repos,
            window_items=github.comments_window_items,
            log=log,
        )
    failed = [report for report in reports if report.error]
    if failed:
        raise dg.Failure(
            description="; ".join(f"{report.repo}: {report.error}" for report in failed)
            + " (pages already mined are kept; fix the cause and run again to resume)",
        )
    return _mining_result(warehouse, endpoint, repos, reports, study.source)


def _mining_result(
    warehouse: Warehouse,
    endpoint: Endpoint,
    repos: list[str],
    reports: list[RepoReport],
    source: str,
) -> dg.MaterializeResult:
    counts = warehouse.query(
        f"SELECT repo, count(*) AS rows FROM {endpoint.table} WHERE list_contains(?, repo) "
        "GROUP BY repo ORDER BY repo",
        [repos],
    )
    per_repo = pl.DataFrame(
        [
            {key: value for key, value in vars(report).items() if key not in ("rejects", "error")}
            for report in reports
        ]
    )
    totals = {name: int(sum(getattr(report, name) for report in reports)) for name in REPORT_TOTALS}
    totals["not_modified_304"] = totals.pop("not_modified")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(counts["rows"].sum() or 0),
            "source": source,
            **totals,
            "items_rejected": sum(len(report.rejects) for report in reports),
            "rows_per_repo": md(counts),
            "mining_report": md(per_repo),
        }
    )


@dg.asset(group_name=GROUP, kinds={"github", "duckdb"}, partitions_def=REPOSITORIES, pool="github")
def raw_issues(
    context: dg.AssetExecutionContext,
    study: StudyResource,
    github: GitHubResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every issue and pull request of the studied repositories, one row per (repo, number),
    with GitHub's raw JSON."""
    return _mine(context, study, github, warehouse, ISSUES)


@dg.asset(
    group_name=GROUP,
    kinds={"github", "duckdb"},
    deps=[raw_issues],
    partitions_def=REPOSITORIES,
    pool="github",
)
def raw_issue_comments(
    context: dg.AssetExecutionContext,
    study: StudyResource,
    github: GitHubResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every issue and pull-request conversation comment, one row per (repo, comment_id), with
    GitHub's raw JSON."""
    return _mine(context, study, github, warehouse, COMMENTS)


@dg.asset(
    group_name=GROUP,
    kinds={"github", "duckdb"},
    deps=[raw_issues],
    partitions_def=REPOSITORIES,
    pool="github",
)
def raw_issue_events(
    context: dg.AssetExecutionContext,
    study: StudyResource,
    github: GitHubResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every issue event (labeled, closed, reopened, assigned, locked, renamed, …) of the
    studied repositories, one row per (repo, event_id), with GitHub's raw JSON; newest first
    from the repository list, older ones beyond its reach from each issue's list."""
    return _mine(context, study, github, warehouse, EVENTS)
