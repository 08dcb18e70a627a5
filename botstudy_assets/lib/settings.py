"""Study settings: what to mine, from where, and where the data and labels live.

Every setting is an optional environment variable (read through Dagster resources, see
`defs/resources.py`) and is validated here, so that a misspelt value stops the run with a
message naming the variable instead of failing somewhere downstream.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

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

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DB = DEFAULT_DATA_DIR / "botstudy.duckdb"


class SettingsError(ValueError):
    """A setting has a value botstudy cannot use; the message names the variable."""


def library_name(repo: str) -> str:
    """Human name of the library a repository holds (`pytorch/pytorch` -> `PyTorch`)."""
    if repo.lower() in KNOWN_LIBRARIES:
        return KNOWN_LIBRARIES[repo.lower()]
    name = repo.split("/", 1)[-1]
    return name[:1].upper() + name[1:]


def parse_repos(value: str, variable: str = "BOTSTUDY_REPOS") -> list[str]:
    repos = [part.strip() for part in value.split(",") if part.strip()]
    if not repos:
        raise SettingsError(f"{variable} is empty: give a comma-separated list of owner/name")
    bad = [repo for repo in repos if not REPO_RE.match(repo)]
    if bad:
        raise SettingsError(
            f"{variable}: {', '.join(map(repr, bad))} is not in owner/name form "
            "(e.g. pytorch/pytorch)"
        )
    if len({repo.lower() for repo in repos}) != len(repos):
        raise SettingsError(f"{variable} lists a repository twice: {value!r}")
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
        raise SettingsError(f"BOTSTUDY_SOURCE={value!r} is not one of {', '.join(SOURCES)}")
    return source


@dataclass(frozen=True)
class Study:
    """The validated study settings: what is studied and where its files are."""

    source: str
    repos: tuple[str, ...]
    until: dt.datetime | None
    data_path: Path
    labels_dir: Path | None = None
    reports_dir: Path | None = None
    export_dir: Path | None = None

    @classmethod
    def from_values(
        cls,
        *,
        source: str = "",
        repos: str = DEFAULT_REPOS,
        until: str = "",
        data_dir: str = "",
        labels_dir: str = "",
        reports_dir: str = "",
        export_dir: str = "",
        github_token_set: bool = False,
    ) -> Study:
        """Validate raw setting values (as the environment gives them); raises SettingsError."""
        return cls(
            source=resolve_source(source, github_token_set),
            repos=tuple(parse_repos(repos)),
            until=parse_until(until),
            data_path=Path(data_dir) if data_dir else DEFAULT_DATA_DIR,
            labels_dir=Path(labels_dir) if labels_dir else None,
            reports_dir=Path(reports_dir) if reports_dir else None,
            export_dir=Path(export_dir) if export_dir else None,
        )

    def repo_list(self) -> list[str]:
        return list(self.repos)

    @property
    def until_day(self) -> str:
        """BOTSTUDY_UNTIL as an ISO day, or '' when the study has no snapshot day."""
        return self.until.date().isoformat() if self.until else ""

    @property
    def sample_dir(self) -> Path:
        return self.data_path / "sample"

    @property
    def labels_path(self) -> Path:
        # Labels belong to the data they label: the sample's synthetic raters must never be
        # checked against issues mined from GitHub, and vice versa.
        return self.labels_dir or self.data_path / "labels" / self.source

    @property
    def reports_path(self) -> Path:
        return self.reports_dir or self.data_path / "reports"

    @property
    def export_path(self) -> Path:
        return self.export_dir or self.data_path / "export"

    @property
    def registry_file(self) -> Path:
        return self.data_path / "bot_registry.yaml"

    @property
    def codebook_file(self) -> Path:
        return self.data_path / "codebook.yaml"

    @property
    def keywords_file(self) -> Path:
        return self.data_path / "keywords.yaml"

    @property
    def friction_file(self) -> Path:
        return self.data_path / "friction_lexicon.yaml"
