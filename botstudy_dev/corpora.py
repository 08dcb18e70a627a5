"""GitHub REST JSON corpora for the fake GitHub API, built from labelled threads."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path
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


# ------------------------------------------------------------------ real thread excerpts

REALDEV = Path(__file__).resolve().parents[1] / "data" / "realdev"
_MERGED = "merged"


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def real_user(login: str | None) -> dict | None:
    """A user object as GitHub sends it: GitHub Apps are `name[bot]` with type Bot; the
    excerpts name everyone else by login only, so they are type User (machine users included)."""
    if not login:
        return None
    kind = "Bot" if login.lower().endswith("[bot]") else "User"
    uid = zlib.crc32(login.encode()) % 10**8
    return {
        "login": login,
        "id": uid,
        "type": kind,
        "site_admin": False,
        "html_url": f"https://github.com/{login}",
    }


def _post_stamp(day: str | None, fallback: dt.datetime, position: int) -> dt.datetime:
    """Excerpts give days only: posts of one day keep their order a minute apart."""
    base = dt.datetime.fromisoformat(day) + dt.timedelta(hours=12) if day else fallback
    return base + dt.timedelta(minutes=position)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def thread_items(thread: dict, index: int, first_comment_id: int) -> tuple[dict, list[dict]]:
    """One real thread excerpt (repo, number, kind, state, title, labels, posts) as the issue
    and the comments GitHub's list endpoints would return for it."""
    repo, number = thread["repo"], thread["number"]
    api = f"https://api.github.com/repos/{repo}"
    segment = "pull" if thread.get("kind") == "pull_request" else "issues"
    html = f"https://github.com/{repo}/{segment}/{number}"
    posts = thread.get("posts") or []
    description = next((post for post in posts if post.get("role") == "description"), None)
    fallback = dt.datetime(2020, 1, 1) + dt.timedelta(days=index)
    stamps = [
        _post_stamp(post.get("date"), fallback, position) for position, post in enumerate(posts)
    ]
    created = (
        stamps[posts.index(description)]
        if description
        else (min(stamps) - dt.timedelta(minutes=1) if stamps else fallback)
    )
    comments = []
    for offset, (post, stamp) in enumerate(
        pair for pair in zip(posts, stamps, strict=True) if pair[0] is not description
    ):
        comment_id = first_comment_id + offset
        comments.append(
            {
                "id": comment_id,
                "url": f"{api}/issues/comments/{comment_id}",
                "html_url": f"{html}#issuecomment-{comment_id}",
                "issue_url": f"{api}/issues/{number}",
                "user": real_user(post.get("author")),
                "created_at": _iso(stamp),
                "updated_at": _iso(stamp),
                "author_association": "NONE",
                "body": post.get("body"),
                "performed_via_github_app": None,
            }
        )
    updated = max([created, *stamps])
    state = thread.get("state") or "open"
    issue = {
        "id": 7_000_000 + index,
        "number": number,
        "title": thread.get("title") or "",
        "url": f"{api}/issues/{number}",
        "html_url": html,
        "user": real_user(description.get("author")) if description else None,
        "labels": [{"name": name} for name in thread.get("labels") or []],
        "state": "open" if state == "open" else "closed",
        "locked": False,
        "comments": len(comments),
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "closed_at": None if state == "open" else _iso(updated),
        "author_association": "NONE",
        "body": description.get("body") if description else None,
        "performed_via_github_app": None,
    }
    if thread.get("kind") == "pull_request":
        issue["pull_request"] = {
            "url": f"{api}/pulls/{number}",
            "html_url": html,
            "merged_at": _iso(updated) if state == _MERGED else None,
        }
    return issue, comments


def threads_corpus(threads: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """Real thread excerpts (the JSON Lines of `data/realdev/threads.jsonl`) as the fake GitHub's
    corpus: {repo: {"issues": [...], "comments": [...]}}."""
    corpus: dict[str, dict[str, list[dict]]] = {}
    next_comment = 20_000_000
    for index, thread in enumerate(threads):
        issue, comments = thread_items(thread, index, next_comment)
        next_comment += len(comments) + 1
        bucket = corpus.setdefault(thread["repo"], {"issues": [], "comments": []})
        bucket["issues"].append(issue)
        bucket["comments"].extend(comments)
    return corpus
