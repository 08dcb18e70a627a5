"""Materialize the real graph in this process under a given set of botstudy settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

SETTINGS = (
    "BOTSTUDY_SOURCE",
    "BOTSTUDY_REPOS",
    "BOTSTUDY_UNTIL",
    "BOTSTUDY_DB",
    "BOTSTUDY_DATA_DIR",
    "BOTSTUDY_LABELS_DIR",
    "BOTSTUDY_REPORTS_DIR",
    "BOTSTUDY_EXPORT_DIR",
    "BOTSTUDY_GITHUB_API_URL",
    "GITHUB_TOKEN",
    "GITHUB_TOKENS",
    "BOTSTUDY_LAKE",
    "BOTSTUDY_EXECUTOR",
    "BOTSTUDY_CELERY_BROKER",
    "BOTSTUDY_CELERY_BACKEND",
    "BOTSTUDY_HTTP_BACKOFF_S",
    "BOTSTUDY_SCHEDULE",
)


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


def configured_repos() -> list[str]:
    from botstudy_assets.lib.settings import DEFAULT_REPOS, parse_repos

    return parse_repos(os.environ.get("BOTSTUDY_REPOS") or DEFAULT_REPOS)


def run_graph(
    env: dict[str, str],
    selection: list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """Build the definitions under `env` and run the whole graph (or a selection) in-process."""
    with environment(env):
        from botstudy_assets.definitions import defs
        from botstudy_assets.defs.jobs import execute_refresh

        kwargs = {"asset_selection": [dg.AssetKey(name) for name in selection]} if selection else {}
        return execute_refresh(
            defs(),
            instance or dg.DagsterInstance.ephemeral(),
            configured_repos(),
            raise_on_error=False,
            **kwargs,
        )
