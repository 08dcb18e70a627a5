"""The GitHub list endpoints botstudy mines, and the raw tables their items land in."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import parsing

PER_PAGE = 100

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

    def start_url(self, base_url: str, repo: str, since: dt.datetime | None) -> str:
        params = [*self.params, ("per_page", str(PER_PAGE))]
        if since is not None:
            params.append(("since", since.strftime("%Y-%m-%dT%H:%M:%SZ")))
        return self._url(base_url, repo, params)

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
)
ENDPOINTS = (ISSUES, COMMENTS)
