"""Study settings: what to mine, from where, and where the data and labels live.

Every setting comes from an environment variable through a Dagster resource (see
`definitions.py`), is optional, and is validated here so that a misspelt value stops the run with
a message naming the variable instead of failing somewhere downstream.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import dagster as dg

DEFAULT_REPOS = "keras-team/keras,pytorch/pytorch,tensorflow/tensorflow"
SOURCES = ("sample", "github")
REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")

# Library names the paper uses; anything else is named after the repository.
KNOWN_LIBRARIES = {
    "keras-team/keras": "Keras",
    "keras-team/tf-keras": "Keras",
    "pytorch/pytorch": "PyTorch",
    "tensorflow/tensorflow": "TensorFlow",
}

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value botstudy cannot use; the message names the variable."""


def library_name(repo: str) -> str:
    """Human name of the library a repository holds (`pytorch/pytorch` -> `PyTorch`)."""
    if repo.lower() in KNOWN_LIBRARIES:
        return KNOWN_LIBRARIES[repo.lower()]
    name = repo.split("/", 1)[-1]
    return name[:1].upper() + name[1:]


def parse_repos(value: str) -> list[str]:
    repos = [part.strip() for part in value.split(",") if part.strip()]
    if not repos:
        raise SettingsError("BOTSTUDY_REPOS is empty: give a comma-separated list of owner/name")
    bad = [repo for repo in repos if not REPO_RE.match(repo)]
    if bad:
        raise SettingsError(
            f"BOTSTUDY_REPOS: {', '.join(map(repr, bad))} is not in owner/name form "
            "(e.g. pytorch/pytorch)"
        )
    if len({repo.lower() for repo in repos}) != len(repos):
        raise SettingsError(f"BOTSTUDY_REPOS lists a repository twice: {value!r}")
    return repos


def parse_until(value: str) -> dt.datetime | None:
    if not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SettingsError(
            f"BOTSTUDY_UNTIL={value!r} is not an ISO date (YYYY-MM-DD, e.g. 2021-11-15)"
        ) from None
    return dt.datetime(day.year, day.month, day.day)


def resolve_source(value: str, token_set: bool) -> str:
    source = value.strip().lower() or ("github" if token_set else "sample")
    if source not in SOURCES:
        raise SettingsError(
            f"BOTSTUDY_SOURCE={value!r} is not one of {', '.join(SOURCES)}"
        )
    return source


class StudyConfig(dg.ConfigurableResource):
    """What the study covers and where its files are (BOTSTUDY_* variables)."""

    source: str = ""
    repos: str = DEFAULT_REPOS
    until: str = ""
    data_dir: str = str(PROJECT_ROOT / "data")
    labels_dir: str = ""
    reports_dir: str = ""
    github_token_set: bool = False

    def resolved_source(self) -> str:
        return resolve_source(self.source, self.github_token_set)

    def repo_list(self) -> list[str]:
        return parse_repos(self.repos)

    def until_datetime(self) -> dt.datetime | None:
        return parse_until(self.until)

    def validate(self) -> None:
        """Fail fast, naming the variable, before any work is done."""
        self.resolved_source()
        self.repo_list()
        self.until_datetime()

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def sample_dir(self) -> Path:
        return self.data_path / "sample"

    @property
    def labels_path(self) -> Path:
        # Labels belong to the data they label: the sample's synthetic raters must never be
        # checked against issues mined from GitHub, and vice versa.
        if self.labels_dir:
            return Path(self.labels_dir)
        return self.data_path / "labels" / self.resolved_source()

    @property
    def reports_path(self) -> Path:
        return Path(self.reports_dir) if self.reports_dir else self.data_path / "reports"

    @property
    def registry_file(self) -> Path:
        return self.data_path / "bot_registry.yaml"

    @property
    def codebook_file(self) -> Path:
        return self.data_path / "codebook.yaml"

    @property
    def keywords_file(self) -> Path:
        return self.data_path / "keywords.yaml"
