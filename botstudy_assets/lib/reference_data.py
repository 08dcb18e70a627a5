"""The study's reference files under `data/`: bot registry, codebook and keyword settings.

They are data, not code, so that researchers extend them without touching Python. Each is
validated against a schema when loaded; an error names the file and the offending entry.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

CATEGORIES = (
    "code_coverage",
    "commit_mapping",
    "continuous_integration",
    "feedback",
    "issue_management",
    "license",
    "mention",
    "onboarding",
    "stale",
)


class ReferenceFileError(ValueError):
    """A registry, codebook or keyword file is unreadable or breaks its schema."""


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
    return pattern


# ------------------------------------------------------------------------------------ registry


class RegistryEntry(_Strict):
    name: str
    kind: Literal["github_app", "machine_user", "external_service"]
    accounts: list[str] = []
    # Logins of a family of accounts (`OpenMMLab-Assistant001`, …), matched in full.
    account_patterns: list[str] = []
    aliases: list[str] = []
    libraries: list[str] = ["any"]
    tasks: list[str] = []
    description: str = ""

    @pydantic.field_validator("account_patterns")
    @classmethod
    def _compile_accounts(cls, patterns: list[str]) -> list[str]:
        return [_check_regex(pattern) for pattern in patterns]

    @pydantic.field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: list[str]) -> list[str]:
        unknown = sorted(set(tasks) - set(CATEGORIES))
        if unknown:
            raise ValueError(
                f"unknown task(s) {unknown}; tasks are codebook categories {list(CATEGORIES)}"
            )
        return tasks


class Registry(_Strict):
    version: int
    entries: list[RegistryEntry]

    @pydantic.model_validator(mode="after")
    def _unique(self) -> Registry:
        _no_duplicates([entry.name for entry in self.entries], "entry name")
        _no_duplicates([a.lower() for entry in self.entries for a in entry.accounts], "account")
        return self

    @cached_property
    def by_account(self) -> dict[str, RegistryEntry]:
        return {account.lower(): entry for entry in self.entries for account in entry.accounts}

    @cached_property
    def by_name(self) -> dict[str, RegistryEntry]:
        return {entry.name: entry for entry in self.entries}

    def entry_for_login(self, login: str | None) -> RegistryEntry | None:
        if not login:
            return None
        login = login.lower()
        bare = login.removesuffix("[bot]")
        found = self.by_account.get(login) or self.by_account.get(bare)
        if found is None:
            found = next(
                (entry for pattern, entry in self.account_patterns if pattern.fullmatch(bare)), None
            )
        return found

    @cached_property
    def account_patterns(self) -> list[tuple[re.Pattern[str], RegistryEntry]]:
        return [
            (re.compile(pattern, re.IGNORECASE), entry)
            for entry in self.entries
            for pattern in entry.account_patterns
        ]

    @cached_property
    def name_terms(self) -> dict[str, RegistryEntry]:
        """Every way prose names a registry bot or service (aliases and account names)."""
        terms: dict[str, RegistryEntry] = {}
        for entry in self.entries:
            for alias in entry.aliases:
                terms.setdefault(alias.lower(), entry)
            for account in entry.accounts:
                base = account.lower().removesuffix("[bot]")
                # A login names its bot in prose only when it cannot be an everyday word:
                # "facebook-github-bot" or "tensorflowbutler" can, "welcome" or "lock" cannot.
                if re.search(r"[-_\d]|bot|butler", base):
                    terms.setdefault(base, entry)
        return terms


# ------------------------------------------------------------------------------------ codebook


class Trace(_Strict):
    """Text that shows a category's bot work by itself, whoever wrote it: a bot's template, a
    command addressed to a bot, the automation's name or configuration file."""

    pattern: str
    # `prose`: only outside code and quoted lines (a name that code or logs use in passing).
    where: Literal["anywhere", "prose"] = "anywhere"
    # `pull_request`: only in pull-request threads (e.g. CI results discussed on the change).
    threads: Literal["any", "pull_request", "issue"] = "any"
    # `bot`: a bot's own template, which counts when a bot posts it or a person quotes it in
    # reply; a person who posts it as their own words sends a canned message, not a bot's.
    who: Literal["anyone", "bot"] = "anyone"
    # `weak`: shows that a bot is involved, but gives its category only when nothing else in the
    # thread does (a PR that mentions its CI while it is about a coverage bot).
    strength: Literal["strong", "weak"] = "strong"
    # `title`: only in the thread's title (a title that names CI is about CI).
    posts: Literal["all", "title"] = "all"

    @pydantic.field_validator("pattern")
    @classmethod
    def _compile(cls, pattern: str) -> str:
        return _check_regex(pattern)

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


class Category(_Strict):
    name: str
    label: str
    definition: str
    include: list[str] = []
    exclude: list[str] = []
    examples: list[str] = []
    typical_bots: list[str] = []
    patterns: list[str]
    traces: list[Trace] = []
    labels: list[str] = []
    # Labels people also apply to say what a thread is about (`module: ci`): weak evidence.
    weak_labels: list[str] = []
    suppresses: list[str] = []

    @pydantic.field_validator("traces", mode="before")
    @classmethod
    def _traces(cls, traces: list) -> list:
        return [{"pattern": trace} if isinstance(trace, str) else trace for trace in traces]

    @pydantic.field_validator("patterns", "labels", "weak_labels")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        return [_check_regex(pattern) for pattern in patterns]

    @cached_property
    def compiled(self) -> list[re.Pattern[str]]:
        return [re.compile(pattern, re.IGNORECASE) for pattern in self.patterns]

    @cached_property
    def compiled_labels(self) -> list[tuple[re.Pattern[str], bool]]:
        """(label pattern, weak) pairs."""
        return [(re.compile(pattern, re.IGNORECASE), False) for pattern in self.labels] + [
            (re.compile(pattern, re.IGNORECASE), True) for pattern in self.weak_labels
        ]


class Codebook(_Strict):
    version: str
    categories: list[Category]
    # Automation that makes a thread bot-related whatever the category (a workflow file).
    automation_traces: list[Trace] = []

    @pydantic.field_validator("automation_traces", mode="before")
    @classmethod
    def _automation_traces(cls, traces: list) -> list:
        return [{"pattern": trace} if isinstance(trace, str) else trace for trace in traces]

    @pydantic.model_validator(mode="after")
    def _exactly_the_nine(self) -> Codebook:
        names = [category.name for category in self.categories]
        _no_duplicates(names, "category")
        if sorted(names) != sorted(CATEGORIES):
            missing, extra = set(CATEGORIES) - set(names), set(names) - set(CATEGORIES)
            raise ValueError(
                f"categories must be the study's nine; missing {sorted(missing)}, "
                f"unknown {sorted(extra)}"
            )
        for category in self.categories:
            unknown = set(category.suppresses) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"{category.name}.suppresses names unknown {sorted(unknown)}")
        return self

    @cached_property
    def by_name(self) -> dict[str, Category]:
        return {category.name: category for category in self.categories}


# ------------------------------------------------------------------------------------ keywords


class KeywordSettings(_Strict):
    """The paper's keyword step: words, logins and @-mentions ending in a term, and `[term]`."""

    terms: list[str] = ["bot"]
    exclude_tokens: list[str] = ["robot", "robots"]
    negative_context: list[str] = []
    development_context: list[str] = []


# ------------------------------------------------------------------------------------ loading


def _no_duplicates(values: list[str], what: str) -> None:
    seen, dupes = set(), set()
    for value in values:
        (dupes if value in seen else seen).add(value)
    if dupes:
        raise ValueError(f"duplicate {what}(s): {sorted(dupes)}")


def _load(path: Path, model: type[pydantic.BaseModel]):
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceFileError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise ReferenceFileError(f"{path}: not valid YAML: {error}") from None
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{_location(raw, err['loc'])}: {err['msg']}" for err in error.errors()
        )
        raise ReferenceFileError(f"{path}: {problems}") from None


def _child(node: Any, step: Any) -> Any:
    """node[step], or None where the raw YAML has no such element."""
    try:
        return node[step]
    except (KeyError, IndexError, TypeError):
        return None


def _location(raw, loc: tuple) -> str:
    """`entries[3] (name=codecov).kind` rather than pydantic's bare tuple."""
    parts, node = [], raw
    for step in loc:
        if isinstance(step, int):
            name = (
                node[step].get("name")
                if isinstance(node, list) and isinstance(node[step], dict)
                else None
            )
            parts[-1] += f"[{step}]" + (f" (name={name})" if name else "")
        else:
            parts.append(str(step))
        node = _child(node, step)
    return ".".join(parts) or "(top level)"


def load_registry(path: Path) -> Registry:
    return _load(path, Registry)


def load_codebook(path: Path, registry: Registry | None = None) -> Codebook:
    codebook = _load(path, Codebook)
    if registry is not None:
        unknown = {
            bot
            for category in codebook.categories
            for bot in category.typical_bots
            if bot not in registry.by_name
        }
        if unknown:
            raise ReferenceFileError(f"{path}: typical_bots not in the registry: {sorted(unknown)}")
    return codebook


def load_keywords(path: Path) -> KeywordSettings:
    if not path.exists():
        return KeywordSettings()
    return _load(path, KeywordSettings)


# ------------------------------------------------------------------------- friction lexicon


class FrictionMarker(_Strict):
    name: str
    description: str = ""
    patterns: list[str] = pydantic.Field(min_length=1)

    @pydantic.field_validator("patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        return [_check_regex(pattern) for pattern in patterns]

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.patterns), re.IGNORECASE)


class FrictionLexicon(_Strict):
    """Markers of friction in replies to bots, and the labels that mark an issue stale."""

    version: int
    reply_window_days: float = pydantic.Field(30, gt=0)
    stale_labels: list[str] = pydantic.Field(min_length=1)
    markers: list[FrictionMarker] = pydantic.Field(min_length=1)

    @pydantic.model_validator(mode="after")
    def _unique(self) -> FrictionLexicon:
        _no_duplicates([marker.name for marker in self.markers], "marker name")
        return self

    @cached_property
    def stale_label_set(self) -> frozenset[str]:
        return frozenset(label.lower() for label in self.stale_labels)

    def markers_in(self, text: str | None) -> list[str]:
        """The names of the markers a post contains, in lexicon order."""
        if not text:
            return []
        return [marker.name for marker in self.markers if marker.compiled.search(text)]


def load_friction_lexicon(path: Path) -> FrictionLexicon:
    return _load(path, FrictionLexicon)
