"""People's label files: rater codings, the adjudication and validation decisions (CSV).

One reader serves them all, with the same tolerance (a spreadsheet's BOM, header case and
spaces, blank lines) and the same strictness: every bad row is reported with its line, and a
file with problems is refused as a whole rather than partly used.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .reference_data import CATEGORIES
from .scope import study_query
from .settings import Study
from .stats import IssueKey
from .storage import Warehouse

AUTO = "auto"  # the automatic coder's rater name; no human rater file may take it
TRUE_WORDS = {"true", "yes", "y", "1", "accept", "accepted", "tp", "bot"}
FALSE_WORDS = {"false", "no", "n", "0", "reject", "rejected", "fp", "not_bot"}
CODING_COLUMNS = ("repo", "number", "categories")
VALIDATION_COLUMNS = ("repo", "number", "decision")


class LabelFileError(ValueError):
    """A human label file has rows botstudy cannot use; every bad row is listed."""


def csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every non-blank row, keys lower-cased and values stripped."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate the BOM spreadsheet programs add
    except UnicodeDecodeError as error:
        raise LabelFileError(f"{path}: not UTF-8 text ({error}); save it as UTF-8 CSV") from None
    lines = text.splitlines()
    if not lines:
        raise LabelFileError(f"{path}: empty file; expected a header {','.join(required)}")
    header = [name.strip().lower() for name in next(csv.reader([lines[0]]))]
    if set(required) - set(header):
        hint = ""
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in lines[0]:
                hint = f" (the header is separated by {name}; use commas)"
        raise LabelFileError(
            f"{path}: line 1: header {lines[0]!r} must name the columns {','.join(required)}{hint}"
        )
    for line, raw in enumerate(csv.DictReader(lines), start=2):
        row = {
            (key or "").strip().lower(): value.strip() if isinstance(value, str) else ""
            for key, value in raw.items()
        }
        if any(row.get(column) for column in required):
            yield line, row


def _issue_key(row: dict[str, str], line: int, problems: list[str]) -> IssueKey | None:
    repo, number = row.get("repo", ""), row.get("number", "")
    if not number.isdigit():
        problems.append(f"line {line}: number {number!r} is not an integer")
        return None
    return repo, int(number)


def _refuse_if(path: Path, problems: list[str]) -> None:
    if problems:
        raise LabelFileError(f"{path}: " + "; ".join(problems))


def split_categories(value: str) -> list[str]:
    return [
        part.strip()
        for part in value.replace("|", ";").replace(",", ";").split(";")
        if part.strip()
    ]


@dataclass(frozen=True)
class StudyScope:
    """The issues label files may name: the mined issues in the study's scope."""

    known: frozenset[IssueKey]
    repos: frozenset[str]
    snapshot: bool = False  # BOTSTUDY_UNTIL is set, so issues created later are not studied

    def outside(self, key: IssueKey) -> str | None:
        """Why a labelled issue lies outside this study (to be skipped, with a note), or None."""
        if key[0] not in self.repos:
            return f"{key[0]} is not among BOTSTUDY_REPOS"
        if self.snapshot and key not in self.known:
            return "not in the BOTSTUDY_UNTIL snapshot"
        return None


def read_label_csv(
    path: Path, scope: StudyScope, skipped: list[str] | None = None
) -> dict[IssueKey, frozenset[str]]:
    """A rater or adjudication file: repo, number, categories (`;`-separated; empty means the
    rater saw the issue and coded no category). Rows about issues outside the study (another
    repository, after the snapshot day) are listed in `skipped` rather than refused, so one
    rater file serves several study configurations."""
    labels: dict[IssueKey, frozenset[str]] = {}
    problems: list[str] = []
    for line, row in csv_rows(path, CODING_COLUMNS):
        key = _issue_key(row, line, problems)
        if key is None:
            continue
        categories = frozenset(split_categories(row.get("categories", "")))
        reason = scope.outside(key)
        if reason and skipped is not None:
            skipped.append(f"{path.name}: line {line}: {key[0]}#{key[1]} skipped ({reason})")
            continue
        unknown = sorted(categories - set(CATEGORIES))
        if unknown:
            problems.append(
                f"line {line}: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)} (known: {', '.join(CATEGORIES)})"
            )
        if key not in scope.known:
            problems.append(
                f"line {line}: {key[0]}#{key[1]} is not an issue of the studied repositories"
            )
        if key in labels:
            same = labels[key] == categories
            problems.append(
                f"line {line}: {key[0]}#{key[1]} appears again "
                + ("(duplicate row)" if same else "with different categories (contradiction)")
            )
        if not unknown and key in scope.known and key not in labels:
            labels[key] = categories
    _refuse_if(path, problems)
    return labels


def read_raters(
    labels_dir: Path, scope: StudyScope, skipped: list[str] | None = None
) -> dict[str, dict[IssueKey, frozenset[str]]]:
    """Every `coding/<rater>.csv` under the labels folder, by rater name."""
    raters = {}
    for path in sorted((labels_dir / "coding").glob("*.csv")):
        if path.stem == AUTO:
            raise LabelFileError(
                f"{path}: the rater name '{AUTO}' is reserved for the automatic coder"
            )
        raters[path.stem] = read_label_csv(path, scope, skipped)
    return raters


@dataclass(frozen=True)
class Override:
    """A person's decision on a candidate thread (`validation.csv`)."""

    accepted: bool
    decided_by: str
    reason: str


def read_validation_overrides(path: Path, known: set[IssueKey]) -> dict[IssueKey, Override]:
    """`validation.csv`: repo, number, decision (true/false), decided_by, reason."""
    if not path.exists():
        return {}
    overrides: dict[IssueKey, Override] = {}
    problems: list[str] = []
    for line, row in csv_rows(path, VALIDATION_COLUMNS):
        decision = row.get("decision", "").lower()
        if not decision:
            continue  # an exported review-sheet row nobody has decided yet
        key = _issue_key(row, line, problems)
        if key is None:
            continue
        if decision not in TRUE_WORDS | FALSE_WORDS:
            problems.append(f"line {line}: decision {row['decision']!r} is not one of true/false")
        elif key not in known:
            problems.append(f"line {line}: {key[0]}#{key[1]} is not a mined issue")
        elif key in overrides:
            problems.append(f"line {line}: {key[0]}#{key[1]} is decided twice")
        else:
            overrides[key] = Override(
                decision in TRUE_WORDS,
                row.get("decided_by") or "reviewer",
                row.get("reason") or "human decision",
            )
    _refuse_if(path, problems)
    return overrides


def study_scope(warehouse: Warehouse, study: Study) -> StudyScope:
    """The issues label files of this study may name: the mined issues in its scope."""
    frame = study_query(warehouse, study, "SELECT repo, number FROM study_issues")
    return StudyScope(
        frozenset(frame.iter_rows()), frozenset(study.repos), snapshot=study.until is not None
    )
