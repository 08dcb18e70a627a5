"""The embedded synthetic sample, loaded through the same parser and upsert as live pages."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

from . import parsing
from .endpoints import Endpoint
from .raw_store import RawStore, Target
from .walk import RepoReport

SAMPLE_REPOS = "keras-team/keras, pytorch/pytorch and tensorflow/tensorflow"


class SampleError(ValueError):
    """The embedded sample is missing, truncated or not in GitHub's JSON shape."""


def sample_path(sample_dir: Path, repo: str, endpoint: Endpoint) -> Path:
    return sample_dir / repo.replace("/", "__") / endpoint.sample_file


def read_sample_items(path: Path) -> list[Any]:
    if not path.exists():
        raise SampleError(
            f"{path}: no sample file for this repository (the embedded sample "
            f"covers {SAMPLE_REPOS})"
        )
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            items = json.load(handle)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SampleError(
            f"{path}: cannot read the sample ({type(error).__name__}: {error}); "
            "restore it with `git checkout -- data/sample` or `make sample`"
        ) from None
    if not isinstance(items, list):
        raise SampleError(
            f"{path}: expected a JSON array of GitHub items, got {type(items).__name__}"
        )
    return items


def load_sample(
    sample_dir: Path,
    store: RawStore,
    repos: list[str],
    endpoint: Endpoint,
    until: dt.datetime | None,
) -> list[RepoReport]:
    """Replace each repository's rows with its sample file in one commit, after the file was
    read and checked: a bad file or a killed load leaves that repository's table whole. One
    repository's items are in memory at a time."""
    reports = []
    for repo in repos:
        path = sample_path(sample_dir, repo, endpoint)
        parsed = parsing.parse_items(repo, read_sample_items(path), endpoint.row_fn)
        if parsed.rejects:
            raise SampleError(
                f"{path}: {len(parsed.rejects)} malformed items, first: {parsed.rejects[0]}"
            )
        kept = [row for row in parsed.rows if until is None or row["created_at"] < until]
        # The state says `sample`: a later walk from GitHub starts afresh.
        written = store.open(Target(repo, endpoint, "sample", "", until)).replace(kept)
        reports.append(
            RepoReport(
                repo=repo,
                endpoint=endpoint.name,
                items_new=written,
                items_skipped=len(parsed.rows) - len(kept),
            )
        )
        del parsed, kept
    return reports
