"""Stage 1, mining: `raw_issues`, `raw_issue_comments` and `raw_issue_events`, from the embedded
sample or GitHub, one partition per repository, each written into its own tables of the lake
(see `lib/walk.py` and `lib/events_walk.py` for how GitHub is walked, `lib/lake.py` for the
storage); then `raw_snapshot` publishes the lake as it stands to the DuckDB file."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md
from botstudy_assets.defs.mining.partitions import REPOSITORIES, partition_repos
from botstudy_assets.defs.mining.tokens import token_pool
from botstudy_assets.defs.resources import (
    GitHubResource,
    LakeResource,
    StudyResource,
    WarehouseResource,
)
from botstudy_assets.lib.endpoints import COMMENTS, ENDPOINTS, EVENTS, ISSUES, Endpoint
from botstudy_assets.lib.events_walk import mine_events
from botstudy_assets.lib.raw_store import RawStore, Target, import_legacy
from botstudy_assets.lib.sample import load_sample
from botstudy_assets.lib.tokens import TokenPool
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
    lake: LakeResource,
    warehouse: WarehouseResource,
    endpoint: Endpoint,
) -> dg.MaterializeResult:
    study, store = study_resource.get(), lake.get()
    repos = partition_repos(context)
    log = context.log.info
    source = "github" if study.source == "github" else "sample"
    for repo in repos:
        imported = import_legacy(
            warehouse.get(), store.open(Target(repo, endpoint, source, github.api_url))
        )
        if imported:
            log(f"{repo}: moved {imported} {endpoint.table} rows from the DuckDB file to the lake")
    # Everything is mined and kept; BOTSTUDY_UNTIL selects what the later stages study.
    log(f"mining {endpoint.name} of {', '.join(repos)} from {study.source}")
    if study.source == "sample":
        reports = load_sample(study.sample_dir, store, repos, endpoint)
    else:
        with token_pool(context, github) as tokens:
            reports = _walk(github, store, endpoint, repos, log, tokens)
    failed = [report for report in reports if report.error]
    if failed:
        raise dg.Failure(
            description="; ".join(f"{report.repo}: {report.error}" for report in failed)
            + " (pages already mined are kept; fix the cause and run again to resume)",
        )
    return _mining_result(store, endpoint, repos, reports, study.source)


def _walk(
    github: GitHubResource,
    store: RawStore,
    endpoint: Endpoint,
    repos: list[str],
    log,
    tokens: TokenPool | None,
) -> list[RepoReport]:
    def make_client():
        return github.client(log, tokens)

    targets = [Target(repo, endpoint, "github", github.api_url) for repo in repos]
    if endpoint is EVENTS:
        return mine_events(
            make_client,
            store,
            targets,
            max_concurrent=github.max_concurrent_repos,
            log=log,
        )
    return mine_repositories(
        make_client,
        store,
        targets,
        max_concurrent=github.max_concurrent_repos,
        window_items=github.comments_window_items,
        log=log,
    )


def _mining_result(
    store: RawStore,
    endpoint: Endpoint,
    repos: list[str],
    reports: list[RepoReport],
    source: str,
) -> dg.MaterializeResult:
    counts = store.query(
        f"SELECT repo, count(*) AS rows FROM {endpoint.table} GROUP BY repo ORDER BY repo",
        repos=repos,
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


@dg.asset(
    group_name=GROUP, kinds={"github", "deltalake"}, partitions_def=REPOSITORIES, pool="github"
)
def raw_issues(
    context: dg.AssetExecutionContext,
    study: StudyResource,
    github: GitHubResource,
    lake: LakeResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every issue and pull request of the studied repositories, one row per (repo, number),
    with GitHub's raw JSON."""
    return _mine(context, study, github, lake, warehouse, ISSUES)


@dg.asset(
    group_name=GROUP,
    kinds={"github", "deltalake"},
    deps=[raw_issues],
    partitions_def=REPOSITORIES,
    pool="github",
)
def raw_issue_comments(
    context: dg.AssetExecutionContext,
    study: StudyResource,
    github: GitHubResource,
    lake: LakeResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every issue and pull-request conversation comment, one row per (repo, comment_id), with
    GitHub's raw JSON."""
    return _mine(context, study, github, lake, warehouse, COMMENTS)


@dg.asset(
    group_name=GROUP,
    kinds={"github", "deltalake"},
    deps=[raw_issues],
    partitions_def=REPOSITORIES,
    pool="github",
)
def raw_issue_events(
    context: dg.AssetExecutionContext,
    study: StudyResource,
    github: GitHubResource,
    lake: LakeResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every issue event (labeled, closed, reopened, assigned, locked, renamed, …) of the
    studied repositories, one row per (repo, event_id), with GitHub's raw JSON; newest first
    from the repository list, older ones beyond its reach from each issue's list."""
    return _mine(context, study, github, lake, warehouse, EVENTS)


@dg.asset(
    group_name=GROUP,
    kinds={"deltalake", "duckdb"},
    deps=[raw_issues, raw_issue_comments, raw_issue_events],
)
def raw_snapshot(
    study: StudyResource, lake: LakeResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The lake as it stands, published to the DuckDB file: `raw_issues`, `raw_issue_comments`
    and `raw_issue_events` as views over the lake's current Parquet files (the newest row per
    key; no copy), `mining_state` and `events_state` as tables. Every later stage reads these,
    so a run's stages all see one version of the lake, however many mining runs go on."""
    repos, store = study.get().repo_list(), lake.get()
    views = {endpoint.table: store.view_sql(endpoint, repos) for endpoint in ENDPOINTS}
    mining_state, events_state = store.state_frames(repos)
    db = warehouse.get()
    with db.transaction() as con:
        for table, sql in views.items():
            kind = con.execute(
                "SELECT table_type FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_name = ?",
                [table],
            ).fetchone()
            if kind and kind[0] == "BASE TABLE":  # written before the lake; moved there by now
                con.execute(f"DROP TABLE {table}")
            con.execute(f"CREATE OR REPLACE VIEW {table} AS {sql}")
    db.replace_table("mining_state", mining_state)
    db.replace_table("events_state", events_state)
    counts = pl.DataFrame(
        [
            {
                "table": endpoint.table,
                "rows": db.scalar(f"SELECT count(*) FROM {endpoint.table}"),
                "files": len(store.files(endpoint, repos)),
            }
            for endpoint in ENDPOINTS
        ]
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(counts["rows"].sum() or 0),
            "lake": md(counts),
            "mining_state": md(mining_state.drop("next_url", "etag", "etag_url")),
        }
    )
