"""The posts of a thread (title, body, comments), which detection and coding both read."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .scope import study_query
from .settings import Study
from .storage import Warehouse

POSTS_SQL = """
SELECT repo, number, 0::BIGINT AS post_id, 'title' AS location, author_login, author_type,
       via_app, title AS text, is_pull_request FROM study_issues
UNION ALL
SELECT repo, number, 0::BIGINT, 'body', author_login, author_type, via_app, body,
       is_pull_request FROM study_issues
UNION ALL
SELECT c.repo, c.issue_number, c.comment_id, 'comment', c.author_login, c.author_type, c.via_app,
       c.body, i.is_pull_request
FROM study_comments c JOIN study_issues i ON i.repo = c.repo AND i.number = c.issue_number
ORDER BY repo, number, CASE location WHEN 'title' THEN 0 WHEN 'body' THEN 1 ELSE 2 END, post_id
"""


def load_posts(warehouse: Warehouse, study: Study) -> pl.DataFrame:
    """Every title, body and comment in the study's scope, one row each, in thread order
    (so that evidence, and everything derived from it, is the same on every run)."""
    return study_query(warehouse, study, POSTS_SQL)


@dataclass(frozen=True)
class ThreadMeta:
    """What a thread is apart from its posts: its labels and whether it is a pull request."""

    labels: list[str] = field(default_factory=list)
    is_pull_request: bool = False
    bot_events: list = field(default_factory=list)  # the EventHits of bots on the thread


def load_thread_meta(warehouse: Warehouse, study: Study) -> dict[tuple[str, int], ThreadMeta]:
    frame = study_query(
        warehouse, study, "SELECT repo, number, labels, is_pull_request FROM study_issues"
    )
    return {
        (repo, number): ThreadMeta(list(labels or []), bool(pull))
        for repo, number, labels, pull in frame.iter_rows()
    }


EVENTS_SQL = """
SELECT repo, issue_number AS number, event_id, event, actor_login, actor_type, via_app,
       label_name, created_at
FROM raw_issue_events e
SEMI JOIN study_issues i ON i.repo = e.repo AND i.number = e.issue_number
WHERE $until IS NULL OR e.created_at < $until
ORDER BY repo, number, created_at, event_id
"""
EVENT_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "event_id": pl.Int64,
    "event": pl.String,
    "actor_login": pl.String,
    "actor_type": pl.String,
    "via_app": pl.String,
    "label_name": pl.String,
    "created_at": pl.Datetime("us"),
}


def load_events(warehouse: Warehouse, study: Study) -> pl.DataFrame:
    """The issue events of the study's issues before its day (none where none were mined)."""
    present = warehouse.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'raw_issue_events'"
    )
    if not present:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    return study_query(warehouse, study, EVENTS_SQL)
