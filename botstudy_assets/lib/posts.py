"""The posts of a thread (title, body, comments), which detection and coding both read."""

from __future__ import annotations

import polars as pl

from .scope import study_query
from .settings import Study
from .storage import Warehouse

POSTS_SQL = """
SELECT repo, number, 0::BIGINT AS post_id, 'title' AS location, author_login, author_type,
       via_app, title AS text FROM study_issues
UNION ALL
SELECT repo, number, 0::BIGINT, 'body', author_login, author_type, via_app, body FROM study_issues
UNION ALL
SELECT repo, issue_number, comment_id, 'comment', author_login, author_type, via_app, body
FROM study_comments
ORDER BY repo, number, CASE location WHEN 'title' THEN 0 WHEN 'body' THEN 1 ELSE 2 END, post_id
"""


def load_posts(warehouse: Warehouse, study: Study) -> pl.DataFrame:
    """Every title, body and comment in the study's scope, one row each, in thread order
    (so that evidence, and everything derived from it, is the same on every run)."""
    return study_query(warehouse, study, POSTS_SQL)
