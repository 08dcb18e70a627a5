"""The GitHub list endpoints botstudy mines, and the raw tables their items land in."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import parsing

PER_PAGE = 100
REACTION_COLUMNS_DDL = ", ".join(f"{column} BIGINT" for column in parsing.REACTIONS.values())

RAW_ISSUES_DDL = f"""
CREATE TABLE IF NOT EXISTS raw_issues (
    repo VARCHAR NOT NULL, number BIGINT NOT NULL, issue_id BIGINT, title VARCHAR, body VARCHAR,
    author_login VARCHAR, author_type VARCHAR, author_association VARCHAR, via_app VARCHAR,
    is_pull_request BOOLEAN, state VARCHAR, state_reason VARCHAR, locked BOOLEAN,
    comment_count BIGINT, created_at TIMESTAMP, updated_at TIMESTAMP, closed_at TIMESTAMP,
    labels VARCHAR[], html_url VARCHAR, raw_json JSON, library VARCHAR, source VARCHAR,
    mined_at TIMESTAMP, {REACTION_COLUMNS_DDL}, PRIMARY KEY (repo, number))
"""
RAW_COMMENTS_DDL = f"""
CREATE TABLE IF NOT EXISTS raw_issue_comments (
    repo VARCHAR NOT NULL, issue_number BIGINT NOT NULL, comment_id BIGINT NOT NULL,
    author_login VARCHAR, author_type VARCHAR, author_association VARCHAR, via_app VARCHAR,
    body VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, html_url VARCHAR, raw_json JSON,
    library VARCHAR, source VARCHAR, mined_at TIMESTAMP, {REACTION_COLUMNS_DDL},
    PRIMARY KEY (repo, comment_id))
"""
RAW_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS raw_issue_events (
    repo VARCHAR NOT NULL, event_id BIGINT NOT NULL, issue_number BIGINT NOT NULL,
    event VARCHAR NOT NULL, actor_login VARCHAR, actor_type VARCHAR, via_app VARCHAR,
    label_name VARCHAR, assignee_login VARCHAR, state_reason VARCHAR, lock_reason VARCHAR,
    rename_from VARCHAR, rename_to VARCHAR, commit_id VARCHAR, created_at TIMESTAMP,
    raw_json JSON, library VARCHAR, source VARCHAR, mined_at TIMESTAMP,
    PRIMARY KEY (repo, event_id))
"""
STATE_DDL = """
CREATE TABLE IF NOT EXISTS mining_state (
    repo VARCHAR NOT NULL, endpoint VARCHAR NOT NULL, source VARCHAR, api_url VARCHAR,
    until VARCHAR, watermark TIMESTAMP, next_url VARCHAR, window_since TIMESTAMP,
    window_items BIGINT, etag VARCHAR, etag_url VARCHAR, pages BIGINT, items BIGINT,
    updated_at TIMESTAMP, PRIMARY KEY (repo, endpoint))
"""
# Where the issue events walk of each repository stands (see `events_walk.py`).
EVENTS_STATE_DDL = """
CREATE TABLE IF NOT EXISTS events_state (
    repo VARCHAR PRIMARY KEY, source VARCHAR, api_url VARCHAR, horizon_id BIGINT,
    horizon_at TIMESTAMP, etag VARCHAR, etag_url VARCHAR, top_id BIGINT, top_at TIMESTAMP,
    top_etag VARCHAR, next_url VARCHAR, phase VARCHAR, reached_at TIMESTAMP,
    fallback_after BIGINT, fallback_url VARCHAR, pages BIGINT, items BIGINT,
    updated_at TIMESTAMP)
"""


@dataclass(frozen=True)
class Endpoint:
    """A repository-wide list endpoint sorted by `updated`, and the table its rows go to."""

    name: str
    path: str
    params: tuple[tuple[str, str], ...]
    table: str
    ddl: str
    key: tuple[str, ...]
    row_fn: Callable[[str, Any], dict[str, Any]]
    schema: dict[str, Any]
    sample_file: str
    # Offset-paged endpoints move under edits, so their walk restarts at `since` every window.
    windowed: bool = False
    # Tables that gained columns after their first release: added (and filled from raw_json)
    # when an older DuckDB file is opened.
    added_columns: tuple[str, ...] = ()

    def start_url(self, base_url: str, repo: str, since: dt.datetime | None) -> str:
        params = [*self.params, ("per_page", str(PER_PAGE))]
        if since is not None:
            params.append(("since", since.strftime("%Y-%m-%dT%H:%M:%SZ")))
        return self._url(base_url, repo, params)

    def issue_url(self, base_url: str, repo: str, number: int) -> str:
        """The per-issue list of the same items (`/issues/{number}/events`), first page."""
        path = f"{base_url.rstrip('/')}/{self.path.format(repo=repo)}"
        base, _, leaf = path.rpartition("/")
        return f"{base}/{number}/{leaf}?{urllib.parse.urlencode([('per_page', str(PER_PAGE))])}"

    def probe_url(self, base_url: str, repo: str) -> str:
        """The single most recently updated item: it changes whenever anything changes."""
        params = [(key, value) for key, value in self.params if key != "direction"]
        params += [("direction", "desc"), ("per_page", "1")]
        return self._url(base_url, repo, params)

    def _url(self, base_url: str, repo: str, params: list[tuple[str, str]]) -> str:
        path = self.path.format(repo=repo)
        return f"{base_url.rstrip('/')}/{path}?{urllib.parse.urlencode(params)}"


ISSUES = Endpoint(
    name="issues",
    path="repos/{repo}/issues",
    params=(("state", "all"), ("sort", "updated"), ("direction", "asc")),
    table="raw_issues",
    ddl=RAW_ISSUES_DDL,
    key=("repo", "number"),
    row_fn=parsing.issue_row,
    schema=parsing.ISSUE_SCHEMA,
    sample_file="issues.json.gz",
    added_columns=tuple(parsing.REACTIONS.values()),
)
COMMENTS = Endpoint(
    name="comments",
    path="repos/{repo}/issues/comments",
    params=(("sort", "updated"), ("direction", "asc")),
    table="raw_issue_comments",
    ddl=RAW_COMMENTS_DDL,
    key=("repo", "comment_id"),
    row_fn=parsing.comment_row,
    schema=parsing.COMMENT_SCHEMA,
    sample_file="comments.json.gz",
    windowed=True,
    added_columns=tuple(parsing.REACTIONS.values()),
)
# Newest first, offset pages, no `since` and no sort: walked by `lib/events_walk.py`, never
# filtered by BOTSTUDY_UNTIL (the raw tables keep everything mined).
EVENTS = Endpoint(
    name="events",
    path="repos/{repo}/issues/events",
    params=(),
    table="raw_issue_events",
    ddl=RAW_EVENTS_DDL,
    key=("repo", "event_id"),
    row_fn=parsing.event_row,
    schema=parsing.EVENT_SCHEMA,
    sample_file="events.json.gz",
)
ENDPOINTS = (ISSUES, COMMENTS, EVENTS)


def reaction_backfill_sql(table: str, column: str) -> str:
    """Fill a reactions column of rows mined before it existed, from their raw JSON."""
    key = next(key for key, name in parsing.REACTIONS.items() if name == column)
    return (
        f"UPDATE {table} SET {column} = TRY_CAST(raw_json->'reactions'->>'{key}' AS BIGINT) "
        f"WHERE {column} IS NULL"
    )
