"""The embedded synthetic sample, loaded through the same parser and upsert as live pages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from . import parsing
from .endpoints import Endpoint
from .raw_store import Target, upsert_page
from .storage import Warehouse
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
    warehouse: Warehouse,
    repos: list[str],
    endpoint: Endpoint,
) -> list[RepoReport]:
    """Replace the rows of every repository in one transaction: a bad file or a killed load
    leaves the old tables whole. One repository's items are in memory at a time."""
    reports = []
    with warehouse.transaction() as con:
        for repo in repos:
            path = sample_path(sample_dir, repo, endpoint)
            parsed = parsing.parse_items(repo, read_sample_items(path), endpoint.row_fn)
            if parsed.rejects:
                raise SampleError(
                    f"{path}: {len(parsed.rejects)} malformed items, first: {parsed.rejects[0]}"
                )
            con.execute(f"DELETE FROM {endpoint.table} WHERE repo = ?", [repo])
            con.execute(
                "DELETE FROM mining_state WHERE repo = ? AND endpoint = ?", [repo, endpoint.name]
            )
            written = upsert_page(con, Target(repo, endpoint, "sample", ""), parsed.rows)
            reports.append(RepoReport(repo=repo, endpoint=endpoint.name, items_new=written))
            del parsed
    return reports
