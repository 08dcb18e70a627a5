"""The embedded synthetic sample, loaded through the same parser and upsert as live pages."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from . import parsing
from .endpoints import Endpoint
from .raw_store import RawStore, Target
from .walk import RepoReport

SAMPLE_REPOS = "keras-team/keras, pytorch/pytorch and tensorflow/tensorflow"
SAMPLE_PAGE_ITEMS = 1_000  # items stored per upsert: memory per page, few statements per file
_CHUNK = 1 << 20  # characters of the decompressed file read at a time
_BETWEEN_ITEMS = re.compile(r"[\s,]*")


class SampleError(ValueError):
    """The embedded sample is missing, truncated or not in GitHub's JSON shape."""


def sample_path(sample_dir: Path, repo: str, endpoint: Endpoint) -> Path:
    return sample_dir / repo.replace("/", "__") / endpoint.sample_file


def _not_an_array(path: Path, text: str) -> SampleError:
    try:
        kind = type(json.loads(text)).__name__
    except json.JSONDecodeError as error:
        kind = f"text that is not JSON ({error})"
    return SampleError(f"{path}: expected a JSON array of GitHub items, got {kind}")


def _after_separators(buffer: str, position: int) -> int:
    """Where the next item starts: past whitespace and the comma (without copying the text)."""
    found = _BETWEEN_ITEMS.match(buffer, position)
    return found.end() if found else position


def _array_items(path: Path, handle: TextIO) -> Iterator[Any]:
    """The items of the JSON array in `handle`, decoded one at a time from chunks of the text,
    so that a file's items are never all in memory at once."""
    decoder = json.JSONDecoder()
    buffer, eof = handle.read(_CHUNK).lstrip(), False
    if not buffer.startswith("["):
        raise _not_an_array(path, buffer + handle.read())
    position = 1
    while True:
        while True:  # the next item (or the array's end) must be whole in the buffer
            stripped = _after_separators(buffer, position)
            if buffer.startswith("]", stripped):
                return
            try:
                item, end = decoder.raw_decode(buffer, stripped)
                if end < len(buffer) or eof:
                    break
            except json.JSONDecodeError:
                if eof:
                    raise
            more = handle.read(_CHUNK)
            eof = not more
            buffer, position = buffer[position:] + more, 0
        yield item
        position = end


def sample_pages(path: Path) -> Iterator[list[Any]]:
    """The sample file's items in pages of SAMPLE_PAGE_ITEMS."""
    if not path.exists():
        raise SampleError(
            f"{path}: no sample file for this repository (the embedded sample "
            f"covers {SAMPLE_REPOS})"
        )
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            page: list[Any] = []
            for item in _array_items(path, handle):
                page.append(item)
                if len(page) == SAMPLE_PAGE_ITEMS:
                    yield page
                    page = []
            if page:
                yield page
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SampleError(
            f"{path}: cannot read the sample ({type(error).__name__}: {error}); "
            "restore it with `git checkout -- data/sample` or `make sample`"
        ) from None


def load_sample(
    sample_dir: Path,
    store: RawStore,
    repos: list[str],
    endpoint: Endpoint,
) -> list[RepoReport]:
    """Replace each repository's rows with its sample file in one commit: a bad file or a
    killed load leaves that repository's table whole. Files are read and stored page by page,
    as pages from GitHub are, so memory stays flat whatever the sample's size."""
    reports = []
    for repo in repos:
        path = sample_path(sample_dir, repo, endpoint)
        report = RepoReport(repo=repo, endpoint=endpoint.name)
        # The state says `sample`: a later walk from GitHub starts afresh.
        table = store.open(Target(repo, endpoint, "sample", ""))
        report.items_new = table.replace_pages(_parsed_pages(repo, path, endpoint, report))
        reports.append(report)
    return reports


def _parsed_pages(
    repo: str, path: Path, endpoint: Endpoint, report: RepoReport
) -> Iterator[list[dict]]:
    """The sample file's rows, page by page; a malformed item stops the load."""
    for items in sample_pages(path):
        parsed = parsing.parse_items(repo, items, endpoint.row_fn)
        if parsed.rejects:
            raise SampleError(f"{path}: malformed item, first: {parsed.rejects[0]}")
        report.pages += 1
        yield parsed.rows
