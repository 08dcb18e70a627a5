"""Helpers for tests that materialize the real graph into a temporary DuckDB file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import yaml

DEVSET = Path(__file__).parent / "devset" / "threads.yaml"
SETTINGS = ("BOTSTUDY_SOURCE", "BOTSTUDY_REPOS", "BOTSTUDY_UNTIL", "BOTSTUDY_DB", "BOTSTUDY_DATA_DIR",
            "BOTSTUDY_LABELS_DIR", "BOTSTUDY_REPORTS_DIR", "BOTSTUDY_GITHUB_API_URL", "GITHUB_TOKEN",
            "BOTSTUDY_HTTP_BACKOFF_S", "BOTSTUDY_SCHEDULE")


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Exactly these botstudy settings for the duration (others unset)."""
    saved = {name: os.environ.get(name) for name in SETTINGS}
    for name in SETTINGS:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class GraphRun:
    result: Any
    db: Path

    @property
    def success(self) -> bool:
        return self.result.success

    def sql(self, query: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query, params).fetchall()

    def check_results(self) -> dict[str, bool]:
        return {
            event.event_specific_data.check_name: event.event_specific_data.passed
            for event in self.result.all_events
            if event.event_type_value == "ASSET_CHECK_EVALUATION"
        }

    def failure_messages(self) -> list[str]:
        return [str(event.event_specific_data.error) for event in self.result.all_events
                if event.event_type_value == "STEP_FAILURE"]


def materialize(env: dict[str, str], selection: list[str] | None = None) -> GraphRun:
    """Build the definitions under `env` and run the whole graph (or a selection) in-process."""
    with environment(env):
        from botstudy_assets.definitions import build_definitions, execute_refresh

        kwargs = {"asset_selection": [dg.AssetKey(name) for name in selection]} if selection else {}
        result = execute_refresh(build_definitions(), dg.DagsterInstance.ephemeral(),
                                 raise_on_error=False, **kwargs)
    return GraphRun(result, Path(env["BOTSTUDY_DB"]))


def sample_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "BOTSTUDY_SOURCE": "sample",
        "BOTSTUDY_DB": str(tmp_path / "botstudy.duckdb"),
        "BOTSTUDY_REPORTS_DIR": str(tmp_path / "reports"),
        **extra,
    }


def github_env(tmp_path: Path, api_url: str, **extra: str) -> dict[str, str]:
    labels = tmp_path / "labels"
    labels.mkdir(exist_ok=True)
    return {
        "BOTSTUDY_SOURCE": "github",
        "BOTSTUDY_GITHUB_API_URL": api_url,
        "BOTSTUDY_DB": str(tmp_path / "botstudy.duckdb"),
        "BOTSTUDY_REPORTS_DIR": str(tmp_path / "reports"),
        "BOTSTUDY_LABELS_DIR": str(labels),
        "BOTSTUDY_HTTP_BACKOFF_S": "0.01",
        **extra,
    }


# ------------------------------------------------------------------------- the labelled dev set


def load_devset() -> list[dict]:
    return yaml.safe_load(DEVSET.read_text(encoding="utf-8"))


def _user(author: dict | None) -> dict | None:
    if not author or not author.get("login"):
        return None
    login = author["login"]
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": author.get("type", "User"),
            "site_admin": False, "html_url": f"https://github.com/{login}"}


def _app(slug: str | None) -> dict | None:
    return {"id": abs(hash(slug)) % 10**6, "slug": slug, "name": slug} if slug else None


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
            stamp = _stamp(comment.get("created_at"), base + dt.timedelta(days=index, hours=position + 1))
            comments.append({
                "id": comment_id, "url": f"{api}/issues/comments/{comment_id}",
                "html_url": f"https://github.com/{repo}/issues/{thread['number']}#issuecomment-{comment_id}",
                "issue_url": f"{api}/issues/{thread['number']}", "user": _user(comment.get("author")),
                "created_at": stamp, "updated_at": stamp, "author_association": "NONE",
                "body": comment.get("body"), "performed_via_github_app": _app(comment.get("via_app")),
            })
        updated = max([created] + [c["updated_at"] for c in comments])
        issue = {
            "id": 5_000_000 + index, "number": thread["number"], "title": thread["title"],
            "url": f"{api}/issues/{thread['number']}",
            "html_url": f"https://github.com/{repo}/issues/{thread['number']}",
            "user": _user(thread.get("author")), "labels": [{"name": name} for name in thread.get("labels") or []],
            "state": "closed", "locked": False, "comments": len(comments), "created_at": created,
            "updated_at": updated, "closed_at": updated, "author_association": "NONE",
            "body": thread.get("body"), "performed_via_github_app": _app(thread.get("via_app")),
        }
        if thread.get("is_pull_request"):
            issue["pull_request"] = {"url": f"{api}/pulls/{thread['number']}", "merged_at": None}
        bucket = corpus.setdefault(repo, {"issues": [], "comments": []})
        bucket["issues"].append(issue)
        bucket["comments"].extend(comments)
    return corpus
