"""What every figure of the report shares: matplotlib without a display, and a note under the
figure naming its sources and the version of the data (code, mining date, BOTSTUDY_UNTIL), so
that a figure copied out of the report still says what it shows."""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .settings import PROJECT_ROOT


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@functools.cache
def code_version() -> str:
    """botstudy's version and, in a git checkout, its commit (`-dirty` with local changes)."""
    try:
        version = f"botstudy {importlib.metadata.version('botstudy')}"
    except importlib.metadata.PackageNotFoundError:
        version = "botstudy"
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--abbrev=7"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version} (git {commit})" if commit else version


@dataclass(frozen=True)
class DataVersion:
    """Which data a figure shows: the code that made it, the source and day it was mined, and
    the study's snapshot day."""

    code: str
    source: str
    mined: str = ""  # ISO day of the newest mined row, '' when nothing was mined
    until: str = ""  # BOTSTUDY_UNTIL, '' when unset

    def text(self) -> str:
        mined = f"mined {self.mined}" if self.mined else "not mined yet"
        until = self.until or "not set (every issue)"
        return f"{self.code}; {self.source} data {mined}; BOTSTUDY_UNTIL {until}"


def note(sources: str, version: DataVersion | None) -> str:
    """The note under a figure: a line with its sources, a line with the data version."""
    return f"Sources: {sources}." + (f"\nData: {version.text()}." if version else "")


def save_figure(figure, path: Path, footnote: str | None = None) -> Path:
    """Save and close a figure, with `footnote` printed under it."""
    plt = pyplot()
    if footnote:
        figure.text(0.01, 0.01, footnote, fontsize=6.5, color="#4a5568", ha="left", va="bottom")
        figure.tight_layout(rect=(0, 0.025 * (footnote.count("\n") + 2), 1, 1))
    else:
        figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
