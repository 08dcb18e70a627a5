"""GitHub REST JSON -> rows of `raw_issues`, `raw_issue_comments` and `raw_issue_events`.

The embedded sample and live GitHub answers go through these same functions, so the sample
exercises exactly the code that live data does. Items that lack what a row needs are returned as
rejects with a reason rather than dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

GHOST_LOGIN = "ghost"  # GitHub shows deleted accounts as @ghost; the API may send a null user
_ISSUE_URL_NUMBER = re.compile(r"/issues/(\d+)$")
# The reactions rollup GitHub embeds in issues and comments, as columns (GitHub key -> column).
REACTIONS = {
    "total_count": "reactions_total",
    "+1": "reactions_plus1",
    "-1": "reactions_minus1",
    "laugh": "reactions_laugh",
    "hooray": "reactions_hooray",
    "confused": "reactions_confused",
    "heart": "reactions_heart",
    "rocket": "reactions_rocket",
    "eyes": "reactions_eyes",
}
REACTION_SCHEMA = dict.fromkeys(REACTIONS.values(), pl.Int64)
# What an event keeps of the issue GitHub embeds in it (the issue itself is in raw_issues).
_EVENT_ISSUE_KEYS = ("id", "node_id", "number", "url", "html_url", "pull_request")

ISSUE_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "issue_id": pl.Int64,
    "title": pl.String,
    "body": pl.String,
    "author_login": pl.String,
    "author_type": pl.String,
    "author_association": pl.String,
    "via_app": pl.String,
    "is_pull_request": pl.Boolean,
    "state": pl.String,
    "state_reason": pl.String,
    "locked": pl.Boolean,
    "comment_count": pl.Int64,
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "closed_at": pl.Datetime("us"),
    "labels": pl.List(pl.String),
    "html_url": pl.String,
    "raw_json": pl.String,
    **REACTION_SCHEMA,
}

COMMENT_SCHEMA = {
    "repo": pl.String,
    "issue_number": pl.Int64,
    "comment_id": pl.Int64,
    "author_login": pl.String,
    "author_type": pl.String,
    "author_association": pl.String,
    "via_app": pl.String,
    "body": pl.String,
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "html_url": pl.String,
    "raw_json": pl.String,
    **REACTION_SCHEMA,
}

EVENT_SCHEMA = {
    "repo": pl.String,
    "event_id": pl.Int64,
    "issue_number": pl.Int64,
    "event": pl.String,
    "actor_login": pl.String,
    "actor_type": pl.String,
    "via_app": pl.String,
    "label_name": pl.String,
    "assignee_login": pl.String,
    "state_reason": pl.String,
    "lock_reason": pl.String,
    "rename_from": pl.String,
    "rename_to": pl.String,
    "commit_id": pl.String,
    "created_at": pl.Datetime("us"),
    "raw_json": pl.String,
}


class MalformedItem(ValueError):
    """An item of a GitHub answer lacks a field a row needs."""


@dataclass
class Parsed:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)


def parse_timestamp(value: Any, name: str, *, required: bool = True) -> dt.datetime | None:
    if value is None:
        if required:
            raise MalformedItem(f"missing {name}")
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedItem(f"{name}={value!r} is not an ISO timestamp") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _author(item: dict[str, Any], key: str = "user") -> tuple[str, str]:
    user = item.get(key)
    if not isinstance(user, dict) or not user.get("login"):
        return GHOST_LOGIN, "User"
    return str(user["login"]), str(user.get("type") or "User")


def _via_app(item: dict[str, Any]) -> str | None:
    app = item.get("performed_via_github_app")
    if isinstance(app, dict):
        return app.get("slug") or app.get("name")
    return None


def _required_int(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedItem(f"missing or non-integer {name}")
    return value


def _text(value: Any) -> str | None:
    # Bodies can be null, and may carry NUL characters that downstream text tools choke on.
    if value is None:
        return None
    return str(value).replace("\x00", "\ufffd")


def _reactions(item: dict[str, Any]) -> dict[str, int | None]:
    """The rollup as columns; None where GitHub sent none (older API answers, some mirrors)."""
    rollup = item.get("reactions")
    rollup = rollup if isinstance(rollup, dict) else {}
    return {
        column: value if isinstance(value := rollup.get(key), int) else None
        for key, column in REACTIONS.items()
    }


def _login_of(value: Any) -> str | None:
    return str(value["login"]) if isinstance(value, dict) and value.get("login") else None


def issue_row(repo: str, item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise MalformedItem(f"expected an object, got {type(item).__name__}")
    login, user_type = _author(item)
    labels = [
        label.get("name") if isinstance(label, dict) else str(label)
        for label in item.get("labels") or []
    ]
    return {
        "repo": repo,
        "number": _required_int(item, "number"),
        "issue_id": item.get("id") if isinstance(item.get("id"), int) else None,
        "title": _text(item.get("title")) or "",
        "body": _text(item.get("body")),
        "author_login": login,
        "author_type": user_type,
        "author_association": item.get("author_association"),
        "via_app": _via_app(item),
        "is_pull_request": item.get("pull_request") is not None,
        "state": item.get("state") or "open",
        "state_reason": item.get("state_reason"),
        "locked": bool(item.get("locked", False)),
        "comment_count": item.get("comments") if isinstance(item.get("comments"), int) else None,
        "created_at": parse_timestamp(item.get("created_at"), "created_at"),
        "updated_at": parse_timestamp(item.get("updated_at"), "updated_at"),
        "closed_at": parse_timestamp(item.get("closed_at"), "closed_at", required=False),
        "labels": [name for name in labels if name],
        "html_url": item.get("html_url"),
        "raw_json": json.dumps(item, ensure_ascii=False),
        **_reactions(item),
    }


def comment_row(repo: str, item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise MalformedItem(f"expected an object, got {type(item).__name__}")
    match = _ISSUE_URL_NUMBER.search(str(item.get("issue_url") or ""))
    if match is None:
        raise MalformedItem("missing issue_url ending in /issues/<number>")
    login, user_type = _author(item)
    return {
        "repo": repo,
        "issue_number": int(match.group(1)),
        "comment_id": _required_int(item, "id"),
        "author_login": login,
        "author_type": user_type,
        "author_association": item.get("author_association"),
        "via_app": _via_app(item),
        "body": _text(item.get("body")),
        "created_at": parse_timestamp(item.get("created_at"), "created_at"),
        "updated_at": parse_timestamp(item.get("updated_at"), "updated_at"),
        "html_url": item.get("html_url"),
        "raw_json": json.dumps(item, ensure_ascii=False),
        **_reactions(item),
    }


def event_row(repo: str, item: dict[str, Any], number: int | None = None) -> dict[str, Any]:
    """One issue event. The repository-wide list embeds the whole issue in every event; only its
    keys are kept in raw_json (a copy of every issue body per event would dwarf the table). The
    per-issue list embeds no issue: its walk passes the `number`."""
    if not isinstance(item, dict):
        raise MalformedItem(f"expected an object, got {type(item).__name__}")
    issue = item.get("issue")
    if isinstance(issue, dict):
        number = issue.get("number") if isinstance(issue.get("number"), int) else number
        item = {**item, "issue": {key: issue[key] for key in _EVENT_ISSUE_KEYS if key in issue}}
    if number is None:
        raise MalformedItem("missing issue.number")
    kind = item.get("event")
    if not isinstance(kind, str) or not kind:
        raise MalformedItem("missing event")
    login, actor_type = _author(item, "actor")
    label, rename = item.get("label"), item.get("rename")
    label, rename = (
        (label if isinstance(label, dict) else {}),
        (rename if isinstance(rename, dict) else {}),
    )
    return {
        "repo": repo,
        "event_id": _required_int(item, "id"),
        "issue_number": int(number),
        "event": kind,
        "actor_login": login,
        "actor_type": actor_type,
        "via_app": _via_app(item),
        "label_name": _text(label.get("name")),
        "assignee_login": _login_of(item.get("assignee")),
        "state_reason": item.get("state_reason"),
        "lock_reason": item.get("lock_reason"),
        "rename_from": _text(rename.get("from")),
        "rename_to": _text(rename.get("to")),
        "commit_id": item.get("commit_id"),
        "created_at": parse_timestamp(item.get("created_at"), "created_at"),
        "raw_json": json.dumps(item, ensure_ascii=False),
    }


def parse_items(repo: str, items: Iterable[Any], row_fn) -> Parsed:
    parsed = Parsed()
    for position, item in enumerate(items):
        try:
            parsed.rows.append(row_fn(repo, item))
        except MalformedItem as error:
            ident = item.get("number") or item.get("id") if isinstance(item, dict) else None
            parsed.rejects.append(f"{repo} item #{position} (id {ident}): {error}")
    return parsed


def rows_frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema)
