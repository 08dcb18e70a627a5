"""GitHub REST JSON corpora for the fake GitHub API, built from labelled threads."""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any


def _user(author: dict | None) -> dict | None:
    if not author or not author.get("login"):
        return None
    login = author["login"]
    return {
        "login": login,
        "id": zlib.crc32(login.encode()) % 10**8,
        "type": author.get("type", "User"),
        "site_admin": False,
        "html_url": f"https://github.com/{login}",
    }


def _app(slug: str | None) -> dict | None:
    return {"id": zlib.crc32(slug.encode()) % 10**6, "slug": slug, "name": slug} if slug else None


def _stamp(value: Any, fallback: dt.datetime) -> str:
    if value is None:
        return fallback.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def devset_corpus(threads: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """The dev set's compact threads as GitHub REST JSON, for the fake GitHub API."""
    corpus: dict[str, dict[str, list[dict]]] = {}
    comment_id = 10_000_000
    base = dt.datetime(2020, 1, 1)
    for index, thread in enumerate(threads):
        repo = thread["repo"]
        api = f"https://api.github.com/repos/{repo}"
        created = _stamp(thread.get("created_at"), base + dt.timedelta(days=index))
        comments = []
        for position, comment in enumerate(thread.get("comments") or []):
            comment_id += 1
            stamp = _stamp(
                comment.get("created_at"), base + dt.timedelta(days=index, hours=position + 1)
            )
            comments.append(
                {
                    "id": comment_id,
                    "url": f"{api}/issues/comments/{comment_id}",
                    "html_url": f"https://github.com/{repo}/issues/{thread['number']}#issuecomment-{comment_id}",
                    "issue_url": f"{api}/issues/{thread['number']}",
                    "user": _user(comment.get("author")),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "author_association": "NONE",
                    "body": comment.get("body"),
                    "performed_via_github_app": _app(comment.get("via_app")),
                }
            )
        updated = max([created] + [c["updated_at"] for c in comments])
        issue = {
            "id": 5_000_000 + index,
            "number": thread["number"],
            "title": thread["title"],
            "url": f"{api}/issues/{thread['number']}",
            "html_url": f"https://github.com/{repo}/issues/{thread['number']}",
            "user": _user(thread.get("author")),
            "labels": [{"name": name} for name in thread.get("labels") or []],
            "state": "closed",
            "locked": False,
            "comments": len(comments),
            "created_at": created,
            "updated_at": updated,
            "closed_at": updated,
            "author_association": "NONE",
            "body": thread.get("body"),
            "performed_via_github_app": _app(thread.get("via_app")),
        }
        if thread.get("is_pull_request"):
            issue["pull_request"] = {"url": f"{api}/pulls/{thread['number']}", "merged_at": None}
        bucket = corpus.setdefault(repo, {"issues": [], "comments": []})
        bucket["issues"].append(issue)
        bucket["comments"].extend(comments)
    return corpus
