"""Stage 1, mining: `raw_issues` and `raw_issue_comments`, from the embedded sample or GitHub.

GitHub is walked through the two repository-wide list endpoints, sorted by `updated` ascending,
so that one request brings 100 items and a watermark of the last `updated_at` seen is all a
refresh needs. Each page is written together with the walk's state (next URL, watermark, ETag) in
one transaction: a run killed midway resumes at the page in flight, and upserts keyed by
(repo, number) and (repo, comment_id) make a refetched page harmless.

A refresh first revalidates a one-item probe, the most recently updated item (`direction=desc`,
`per_page=1`), against the ETag stored when the last walk ended: any change anywhere makes a new
newest item, so a 304 (which costs no rate limit) proves nothing changed. Revalidating the
`since=<watermark>` page instead would not: GitHub's `since` is inclusive and second-grained, so
that page is the items tied at the watermark, and with more than 100 ties a change lands on a
later page while the first still answers 304.
"""


import datetime as dt
import gzip
import json
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from . import parsing
from .config import SettingsError, StudyConfig, library_name, parse_repos
from .github import GitHubClient, GitHubError, PaginationLimit
from .github_resource import GitHubApi
from .quality import Expectation, run_expectations
from .storage import Warehouse, frame_of

PER_PAGE = 100
GROUP = "mining"

RAW_ISSUES_DDL = """
CREATE TABLE IF NOT EXISTS raw_issues (
    repo VARCHAR NOT NULL, number BIGINT NOT NULL, issue_id BIGINT, title VARCHAR, body VARCHAR,
    author_login VARCHAR, author_type VARCHAR, author_association VARCHAR, via_app VARCHAR,
    is_pull_request BOOLEAN, state VARCHAR, state_reason VARCHAR, locked BOOLEAN,
    comment_count BIGINT, created_at TIMESTAMP, updated_at TIMESTAMP, closed_at TIMESTAMP,
    labels VARCHAR[], html_url VARCHAR, raw_json JSON, library VARCHAR, source VARCHAR,
    mined_at TIMESTAMP, PRIMARY KEY (repo, number))
"""
RAW_COMMENTS_DDL = """
CREATE TABLE IF NOT EXISTS raw_issue_comments (
    repo VARCHAR NOT NULL, issue_number BIGINT NOT NULL, comment_id BIGINT NOT NULL,
    author_login VARCHAR, author_type VARCHAR, author_association VARCHAR, via_app VARCHAR,
    body VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, html_url VARCHAR, raw_json JSON,
    library VARCHAR, source VARCHAR, mined_at TIMESTAMP, PRIMARY KEY (repo, comment_id))
"""
STATE_DDL = """
CREATE TABLE IF NOT EXISTS mining_state (
    repo VARCHAR NOT NULL, endpoint VARCHAR NOT NULL, source VARCHAR, api_url VARCHAR,
    until VARCHAR, watermark TIMESTAMP, next_url VARCHAR, window_since TIMESTAMP,
    window_items BIGINT, etag VARCHAR, etag_url VARCHAR, pages BIGINT, items BIGINT,
    updated_at TIMESTAMP, PRIMARY KEY (repo, endpoint))
"""


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    params: tuple[tuple[str, str], ...]
    table: str
    key: tuple[str, ...]
    row_fn: Callable[[str, Any], dict[str, Any]]
    schema: dict[str, Any]
    sample_file: str

    def start_url(self, client: GitHubClient, repo: str, since: dt.datetime | None) -> str:
        params = list(self.params) + [("per_page", str(PER_PAGE))]
        if since is not None:
            params.append(("since", since.strftime("%Y-%m-%dT%H:%M:%SZ")))
        return self._url(client, repo, params)

    def probe_url(self, client: GitHubClient, repo: str) -> str:
        """The single most recently updated item: it changes whenever anything changes."""
        params = [(key, value) for key, value in self.params if key != "direction"]
        params += [("direction", "desc"), ("per_page", "1")]
        return self._url(client, repo, params)

    def _url(self, client: GitHubClient, repo: str, params: list[tuple[str, str]]) -> str:
        return client.url(self.path.format(repo=repo)) + "?" + urllib.parse.urlencode(params)


ISSUES = Endpoint(
    name="issues",
    path="repos/{repo}/issues",
    params=(("state", "all"), ("sort", "updated"), ("direction", "asc")),
    table="raw_issues",
    key=("repo", "number"),
    row_fn=parsing.issue_row,
    schema=parsing.ISSUE_SCHEMA,
    sample_file="issues.json.gz",
)
COMMENTS = Endpoint(
    name="comments",
    path="repos/{repo}/issues/comments",
    params=(("sort", "updated"), ("direction", "asc")),
    table="raw_issue_comments",
    key=("repo", "comment_id"),
    row_fn=parsing.comment_row,
    schema=parsing.COMMENT_SCHEMA,
    sample_file="comments.json.gz",
)


@dataclass
class WalkState:
    watermark: dt.datetime | None = None
    next_url: str | None = None
    window_since: dt.datetime | None = None
    window_items: int = 0
    etag: str | None = None
    etag_url: str | None = None
    pages: int = 0
    items: int = 0


@dataclass(frozen=True)
class Probe:
    """What the probe (the most recently updated item) showed: its ETag and its updated_at."""

    etag: str | None
    newest: dt.datetime | None


@dataclass
class RepoReport:
    repo: str
    endpoint: str
    pages: int = 0
    items_new: int = 0
    items_updated: int = 0
    items_skipped: int = 0
    rejects: list[str] = field(default_factory=list)
    requests: int = 0
    counted_requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_remaining: int | None = None
    window_restarts: int = 0
    seconds: float = 0.0
    error: str | None = None


def ensure_tables(warehouse: Warehouse) -> None:
    with warehouse.transaction() as con:
        for ddl in (RAW_ISSUES_DDL, RAW_COMMENTS_DDL, STATE_DDL):
            con.execute(ddl)


# --------------------------------------------------------------------------------------------
# Writing pages


def _upsert(con, endpoint: Endpoint, repo: str, rows: list[dict], source: str,
            until: dt.datetime | None) -> int:
    """Insert-or-replace one page of rows; returns how many were written."""
    frame = parsing.rows_frame(rows, endpoint.schema)
    if until is not None and endpoint is COMMENTS:
        # Only comments of issues inside the snapshot belong to the study.
        con.register("_page_raw", frame.to_arrow())
        frame = frame_of(
            con,
            "SELECT p.* FROM _page_raw p WHERE p.created_at < ? AND EXISTS (SELECT 1 FROM "
            "raw_issues i WHERE i.repo = p.repo AND i.number = p.issue_number)",
            [until],
        )
        con.unregister("_page_raw")
    if frame.is_empty():
        return 0
    con.register("_page", frame.to_arrow())
    con.execute(
        f"INSERT OR REPLACE INTO {endpoint.table} BY NAME "
        "SELECT *, ? AS library, ? AS source, now()::TIMESTAMP AS mined_at FROM _page",
        [library_name(repo), source],
    )
    con.unregister("_page")
    return frame.height


def _save_state(con, repo: str, endpoint: Endpoint, source: str, api_url: str,
                until: dt.datetime | None, state: WalkState) -> None:
    con.execute(
        "INSERT OR REPLACE INTO mining_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [repo, endpoint.name, source, api_url, _until_key(until), state.watermark, state.next_url,
         state.window_since, state.window_items, state.etag, state.etag_url, state.pages,
         state.items],
    )


def _until_key(until: dt.datetime | None) -> str:
    return until.date().isoformat() if until else ""


def _load_state(warehouse: Warehouse, repo: str, endpoint: Endpoint, source: str, api_url: str,
                until: dt.datetime | None) -> WalkState:
    """The walk state, or a fresh one when the source, API or snapshot day changed."""
    frame = warehouse.query(
        "SELECT * FROM mining_state WHERE repo = ? AND endpoint = ?", [repo, endpoint.name]
    )
    if frame.is_empty():
        return WalkState()
    row = frame.row(0, named=True)
    if (row["source"], row["api_url"], row["until"]) != (source, api_url, _until_key(until)):
        return WalkState()
    return WalkState(
        watermark=row["watermark"], next_url=row["next_url"], window_since=row["window_since"],
        window_items=row["window_items"] or 0, etag=row["etag"], etag_url=row["etag_url"],
        pages=row["pages"] or 0, items=row["items"] or 0,
    )


def _forget_other_sources(warehouse: Warehouse, repo: str, endpoint: Endpoint, source: str) -> None:
    """Rows of the sample must never mix with rows mined from GitHub for the same repository."""
    with warehouse.transaction() as con:
        stale = con.execute(
            f"SELECT count(*) FROM {endpoint.table} WHERE repo = ? AND source <> ?", [repo, source]
        ).fetchone()[0]
        if stale:
            con.execute(f"DELETE FROM {endpoint.table} WHERE repo = ? AND source <> ?", [repo, source])
            con.execute("DELETE FROM mining_state WHERE repo = ? AND endpoint = ?", [repo, endpoint.name])


# --------------------------------------------------------------------------------------------
# Walking GitHub


def _max_updated(rows: list[dict]) -> dt.datetime | None:
    return max((row["updated_at"] for row in rows), default=None)


def walk_endpoint(client: GitHubClient, warehouse: Warehouse, repo: str, endpoint: Endpoint, *,
                  source: str, until: dt.datetime | None, window_items: int | None,
                  log: Callable[[str], None]) -> RepoReport:
    """Mine one endpoint of one repository, from where the last run stopped."""
    report = RepoReport(repo=repo, endpoint=endpoint.name)
    started, requests_before = time.monotonic(), _snapshot(client)
    _forget_other_sources(warehouse, repo, endpoint, source)
    state = _load_state(warehouse, repo, endpoint, source, client.api_url, until)
    # Everything updated before the stored watermark is stored, so an item created after it is
    # new and any other is an update (counting by key lookups would scan the table per page).
    known_until = state.watermark
    probe: Probe | None = None
    if state.next_url:
        url = state.next_url
        log(f"{repo} {endpoint.name}: resuming an interrupted walk at page {state.pages + 1}")
    else:
        probe = _probe(client, repo, endpoint, state)
        if probe is None:
            log(f"{repo} {endpoint.name}: nothing updated since {state.watermark} (304, free)")
            _finish_report(report, client, requests_before, started)
            return report
        url = endpoint.start_url(client, repo, state.watermark)
        state.window_since, state.window_items = state.watermark, 0
    while True:
        try:
            page = client.get_page(url)
        except PaginationLimit as limit:
            if state.watermark is None or state.watermark == state.window_since:
                raise GitHubError(f"{repo} {endpoint.name}: {limit} and no progress possible") from limit
            log(f"{repo} {endpoint.name}: {limit}; restarting from since={state.watermark}")
            url = _restart_window(client, repo, endpoint, state, report)
            continue
        parsed = parsing.parse_items(repo, page.items, endpoint.row_fn)
        for reject in parsed.rejects:
            log(f"skipping a malformed item: {reject}")
        report.rejects.extend(parsed.rejects)
        kept = [row for row in parsed.rows if until is None or row["created_at"] < until]
        report.items_skipped += len(parsed.rows) - len(kept)
        newest = _max_updated(parsed.rows)
        if newest is not None and (state.watermark is None or newest > state.watermark):
            state.watermark = newest
        state.window_items += len(page.items)
        state.pages += 1
        state.items += len(page.items)
        state.next_url = page.next_url
        state.etag = state.etag_url = None  # stale once items moved; stored again at the end
        if state.next_url and window_items and state.window_items + PER_PAGE > window_items \
                and state.watermark != state.window_since:
            # Start a new `since` window before GitHub's deep-pagination cap answers 422.
            state.next_url = _restart_window(client, repo, endpoint, state, report)
        elif not state.next_url and window_items and len(page.items) == PER_PAGE \
                and state.watermark != state.window_since and not _reached(probe, state):
            # A full last page may be GitHub's pagination cap rather than the end (it stops
            # offering rel="next" there): look once more from the watermark.
            state.next_url = _restart_window(client, repo, endpoint, state, report)
        with warehouse.transaction() as con:
            written = _upsert(con, endpoint, repo, kept, source, until)
            _save_state(con, repo, endpoint, source, client.api_url, until, state)
        new = sum(1 for row in kept if known_until is None or row["created_at"] > known_until)
        report.pages += 1
        report.items_new += min(new, written)
        report.items_updated += written - min(new, written)
        if report.pages % 20 == 0 or not state.next_url:
            log(f"{repo} {endpoint.name}: page {state.pages}, {state.items} items, "
                f"rate limit remaining {client.stats.rate_remaining}")
        if not state.next_url:
            break
        url = state.next_url
    _remember_probe(client, warehouse, repo, endpoint, source, until, state, probe, log)
    _finish_report(report, client, requests_before, started)
    return report


def _probe(client: GitHubClient, repo: str, endpoint: Endpoint,
           state: WalkState | None = None) -> Probe | None:
    """Fetch the probe, revalidating the ETag the last walk stored; None on a (free) 304."""
    url = endpoint.probe_url(client, repo)
    etag = state.etag if state is not None and state.etag_url == url else None
    page = client.get_page(url, etag=etag)
    if page.not_modified:
        return None
    newest = _max_updated(parsing.parse_items(repo, page.items[:1], endpoint.row_fn).rows)
    return Probe(page.etag, newest)


def _reached(probe: Probe | None, state: WalkState) -> bool:
    """Whether the walk has stored the newest item the probe showed before it began."""
    return probe is not None and probe.newest is not None and state.watermark is not None \
        and state.watermark >= probe.newest


def _remember_probe(client: GitHubClient, warehouse: Warehouse, repo: str, endpoint: Endpoint,
                    source: str, until: dt.datetime | None, state: WalkState,
                    probe: Probe | None, log: Callable[[str], None]) -> None:
    """Store the probe's ETag for the next refresh, if its newest item is the one just stored.

    The probe taken before the walk serves when nothing changed during the walk; otherwise one
    more (counted) request takes a fresh one. A newest item that is still not the watermark (an
    update after the walk, or a server that ignores `direction=desc`) stores no ETag: the next
    refresh then walks from the watermark, which is always correct.
    """
    if probe is None or probe.newest != state.watermark:
        probe = _probe(client, repo, endpoint)  # sent without an ETag: never a 304, never None
    if probe.etag and probe.newest == state.watermark:
        state.etag, state.etag_url = probe.etag, endpoint.probe_url(client, repo)
    else:
        log(f"{repo} {endpoint.name}: the newest item is not the watermark {state.watermark}; "
            "the next refresh walks from the watermark")
        state.etag = state.etag_url = None
    with warehouse.transaction() as con:
        _save_state(con, repo, endpoint, source, client.api_url, until, state)


def _restart_window(client, repo, endpoint, state: WalkState, report: RepoReport) -> str:
    state.window_since, state.window_items = state.watermark, 0
    report.window_restarts += 1
    return endpoint.start_url(client, repo, state.window_since)


def _snapshot(client: GitHubClient) -> tuple[int, int, int, int]:
    stats = client.stats
    return stats.requests, stats.not_modified, stats.retries, stats.rate_limit_waits


def _finish_report(report: RepoReport, client: GitHubClient, before, started: float) -> None:
    requests, not_modified, retries, waits = (
        now - then for now, then in zip(_snapshot(client), before, strict=True)
    )
    report.requests, report.not_modified = requests, not_modified
    report.counted_requests = requests - not_modified
    report.retries, report.rate_limit_waits = retries, waits
    report.rate_remaining = client.stats.rate_remaining
    report.seconds = round(time.monotonic() - started, 3)


def mine_github(api: GitHubApi, warehouse: Warehouse, repos: list[str], endpoint: Endpoint, *,
                until: dt.datetime | None, log: Callable[[str], None]) -> list[RepoReport]:
    """Mine every repository, a bounded number at a time, each one serially."""
    window = api.comments_window_items if endpoint is COMMENTS else None

    def mine_one(repo: str) -> RepoReport:
        with api.client(log) as client:
            try:
                return walk_endpoint(client, warehouse, repo, endpoint, source="github",
                                     until=until, window_items=window, log=log)
            except GitHubError as error:
                log(f"{repo} {endpoint.name}: {error}")
                return RepoReport(repo=repo, endpoint=endpoint.name, error=str(error))

    workers = max(1, min(api.max_concurrent_repos, len(repos)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="miner") as pool:
        return list(pool.map(mine_one, repos))


# --------------------------------------------------------------------------------------------
# The embedded sample


class SampleError(ValueError):
    """The embedded sample is missing, truncated or not in GitHub's JSON shape."""


def sample_path(config: StudyConfig, repo: str, endpoint: Endpoint) -> Path:
    return config.sample_dir / repo.replace("/", "__") / endpoint.sample_file


def read_sample_items(path: Path) -> list[Any]:
    if not path.exists():
        raise SampleError(f"{path}: no sample file for this repository (the embedded sample covers "
                          "keras-team/keras, pytorch/pytorch and tensorflow/tensorflow)")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            items = json.load(handle)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SampleError(f"{path}: cannot read the sample ({type(error).__name__}: {error}); "
                          "restore it with `git checkout -- data/sample` or `make sample`") from None
    if not isinstance(items, list):
        raise SampleError(f"{path}: expected a JSON array of GitHub items, got {type(items).__name__}")
    return items


def load_sample(config: StudyConfig, warehouse: Warehouse, repos: list[str], endpoint: Endpoint,
                until: dt.datetime | None) -> list[RepoReport]:
    """Load the sample through the same parser and upsert as live pages, replacing the rows of
    every repository in one transaction: a bad file or a killed load leaves the old tables whole.
    One repository's items are in memory at a time."""
    reports = []
    with warehouse.transaction() as con:
        for repo in repos:
            path = sample_path(config, repo, endpoint)
            parsed = parsing.parse_items(repo, read_sample_items(path), endpoint.row_fn)
            if parsed.rejects:
                raise SampleError(f"{path}: {len(parsed.rejects)} malformed items, first: "
                                  f"{parsed.rejects[0]}")
            kept = [row for row in parsed.rows if until is None or row["created_at"] < until]
            con.execute(f"DELETE FROM {endpoint.table} WHERE repo = ?", [repo])
            con.execute("DELETE FROM mining_state WHERE repo = ? AND endpoint = ?", [repo, endpoint.name])
            written = _upsert(con, endpoint, repo, kept, "sample", until)
            reports.append(RepoReport(repo=repo, endpoint=endpoint.name, items_new=written,
                                      items_skipped=len(parsed.rows) - len(kept)))
            del parsed, kept
    return reports


# --------------------------------------------------------------------------------------------
# Assets


# One partition per repository. Which partitions exist is configuration (BOTSTUDY_REPOS, synced
# by `definitions.sync_repositories`), not code; a run mines the partitions it was launched for:
# one repository, or a range (`make run` and the schedule take all of them in one run).
REPOSITORIES = dg.DynamicPartitionsDefinition(name="repositories")


def partition_repos(context: dg.AssetExecutionContext) -> list[str]:
    """The repositories this run mines, checked like BOTSTUDY_REPOS entries."""
    try:
        return parse_repos(",".join(context.partition_keys))
    except SettingsError as error:
        raise dg.Failure(description=f"partition key: {error}") from None


def _mine(context: dg.AssetExecutionContext, study: StudyConfig, github: GitHubApi,
          warehouse: Warehouse, endpoint: Endpoint) -> dg.MaterializeResult:
    study.validate()
    repos, until, source = partition_repos(context), study.until_datetime(), study.resolved_source()
    ensure_tables(warehouse)
    log = context.log.info
    log(f"mining {endpoint.name} of {', '.join(repos)} from {source}"
        + (f", issues created before {until.date()}" if until else ""))
    if source == "sample":
        reports = load_sample(study, warehouse, repos, endpoint, until)
    else:
        reports = mine_github(github, warehouse, repos, endpoint, until=until, log=log)
    failed = [report for report in reports if report.error]
    if failed:
        raise dg.Failure(
            description="; ".join(f"{report.repo}: {report.error}" for report in failed)
            + " (pages already mined are kept; fix the cause and run again to resume)",
        )
    return _mining_result(warehouse, endpoint, repos, reports, source)


def _mining_result(warehouse: Warehouse, endpoint: Endpoint, repos: list[str],
                   reports: list[RepoReport], source: str) -> dg.MaterializeResult:
    counts = warehouse.query(
        f"SELECT repo, count(*) AS rows FROM {endpoint.table} WHERE list_contains(?, repo) "
        "GROUP BY repo ORDER BY repo", [repos]
    )
    per_repo = pl.DataFrame([
        {key: value for key, value in vars(report).items() if key not in ("rejects", "error")}
        for report in reports
    ])
    total = lambda name: int(sum(getattr(report, name) for report in reports))  # noqa: E731
    return dg.MaterializeResult(metadata={
        "dagster/row_count": int(counts["rows"].sum() or 0),
        "source": source,
        "requests": total("requests"),
        "counted_requests": total("counted_requests"),
        "not_modified_304": total("not_modified"),
        "retries": total("retries"),
        "rate_limit_waits": total("rate_limit_waits"),
        "items_new": total("items_new"),
        "items_updated": total("items_updated"),
        "items_rejected": sum(len(report.rejects) for report in reports),
        "rows_per_repo": dg.MetadataValue.md(counts.to_pandas().to_markdown(index=False)),
        "mining_report": dg.MetadataValue.md(per_repo.to_pandas().to_markdown(index=False)),
    })


@dg.asset(group_name=GROUP, compute_kind="github", partitions_def=REPOSITORIES, pool="github",
          description="Every issue and pull request of the studied repositories, one row per "
                      "(repo, number), with GitHub's raw JSON.")
def raw_issues(context: dg.AssetExecutionContext, study: StudyConfig, github: GitHubApi,
               warehouse: Warehouse) -> dg.MaterializeResult:
    return _mine(context, study, github, warehouse, ISSUES)


@dg.asset(group_name=GROUP, compute_kind="github", deps=[raw_issues], partitions_def=REPOSITORIES,
          pool="github",
          description="Every issue and pull-request conversation comment, one row per "
                      "(repo, comment_id), with GitHub's raw JSON.")
def raw_issue_comments(context: dg.AssetExecutionContext, study: StudyConfig, github: GitHubApi,
                       warehouse: Warehouse) -> dg.MaterializeResult:
    return _mine(context, study, github, warehouse, COMMENTS)


# --------------------------------------------------------------------------------------------
# Checks

AUTHOR_TYPES = ["User", "Bot", "Organization", "Mannequin", "Enterprise"]

RAW_ISSUES_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number"]),
    *[Expectation("ExpectColumnValuesToNotBeNull", column=column)
      for column in ("repo", "number", "title", "author_login", "author_type", "state",
                     "created_at", "updated_at", "is_pull_request")],
    Expectation("ExpectColumnValuesToMatchRegex", column="repo", regex=r"^[^/\s]+/[^/\s]+$"),
    Expectation("ExpectColumnValuesToBeInSet", column="author_type", value_set=AUTHOR_TYPES),
    Expectation("ExpectColumnValuesToBeInSet", column="state", value_set=["open", "closed"]),
    Expectation("ExpectColumnPairValuesAToBeGreaterThanB", column_A="updated_at",
                column_B="created_at", or_equal=True),
]
RAW_COMMENTS_EXPECTATIONS = [
    Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "comment_id"]),
    *[Expectation("ExpectColumnValuesToNotBeNull", column=column)
      for column in ("repo", "issue_number", "comment_id", "author_login", "created_at",
                     "updated_at")],
    Expectation("ExpectColumnValuesToBeInSet", column="author_type", value_set=AUTHOR_TYPES),
]


@dg.asset_check(asset=raw_issues, blocking=True,
                description="Keys unique, required fields present, known author types, "
                            "updated_at not before created_at.")
def raw_issues_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query(
        "SELECT repo, number, title, author_login, author_type, state, created_at, updated_at, "
        "is_pull_request FROM raw_issues")
    return run_expectations("raw_issues", frame, RAW_ISSUES_EXPECTATIONS)


@dg.asset_check(asset=raw_issue_comments, blocking=True,
                description="Keys unique, required fields present, known author types.")
def raw_issue_comments_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query(
        "SELECT repo, issue_number, comment_id, author_login, author_type, created_at, updated_at "
        "FROM raw_issue_comments")
    return run_expectations("raw_issue_comments", frame, RAW_COMMENTS_EXPECTATIONS)


@dg.asset_check(asset=raw_issue_comments,
                description="Comments belong to issues that were mined (warns: a comment on an "
                            "issue opened after the issues walk is picked up next refresh).")
def raw_issue_comments_reference_issues(warehouse: Warehouse) -> dg.AssetCheckResult:
    orphans = warehouse.query(
        "SELECT c.repo, c.issue_number, c.comment_id FROM raw_issue_comments c ANTI JOIN "
        "raw_issues i ON i.repo = c.repo AND i.number = c.issue_number ORDER BY 1, 2, 3")
    return dg.AssetCheckResult(
        passed=orphans.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"orphan_comments": orphans.height,
                  "examples": dg.MetadataValue.md(orphans.head(10).to_pandas().to_markdown(index=False))},
    )
