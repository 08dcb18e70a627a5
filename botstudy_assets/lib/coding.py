"""The nine categories of bot work: the automatic coder, and settling raters' codings.

The automatic coder (rater `auto`) reads each true positive's posts: a bot's own posts are coded
by the codebook's phrase patterns (falling back to the registry's single typical task of that bot
when no pattern fires), and posts in which people invoke or discuss a bot are coded by the same
patterns, because the codebook codes what people say a bot does too. Every label carries the post
and the rule that produced it. `final_categories` settles each issue (adjudication, then the
human majority, then `auto` as tie-breaker).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from .detection import UNNAMED_BOT
from .labelfiles import AUTO
from .reference_data import CATEGORIES, Codebook, Registry
from .stats import Coding, IssueKey, agreement_rows
from .textmatch import KeywordMatcher, NameMatcher, snippet, strip_code

LABEL_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "category": pl.String,
    "rater": pl.String,
    "bot": pl.String,
    "rule": pl.String,
    "post_location": pl.String,
    "post_id": pl.Int64,
    "evidence": pl.String,
    "source": pl.String,
}
FINAL_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "category": pl.String,
    "settled_by": pl.String,
}
AGREEMENT_SCHEMA = {
    "rater_a": pl.String,
    "rater_b": pl.String,
    "category": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "n": pl.Int64,
    "n_decisions": pl.Int64,
    "interpretation": pl.String,
}

# ------------------------------------------------------------------------------ automatic coder


@dataclass(frozen=True)
class Label:
    category: str
    bot: str | None
    rule: str
    location: str
    post_id: int
    evidence: str


def code_post(text: str, codebook: Codebook) -> dict[str, str]:
    """Categories whose patterns fire on one post (code removed), with the firing pattern, after
    the codebook's suppressions (e.g. `stale` suppresses `issue_management`)."""
    clean = strip_code(text)
    fired: dict[str, str] = {}
    for category in codebook.categories:
        for pattern in category.compiled:
            if pattern.search(clean):
                fired[category.name] = pattern.pattern
                break
    suppressed = {name for fired_name in fired for name in codebook.by_name[fired_name].suppresses}
    return {name: rule for name, rule in fired.items() if name not in suppressed}


def _first_match_span(text: str, rule: str, codebook: Codebook) -> tuple[int, int]:
    for category in codebook.categories:
        for pattern in category.compiled:
            if pattern.pattern == rule:
                match = pattern.search(text)
                if match:
                    return match.span()
    return 0, 0


class AutoCoder:
    def __init__(
        self, codebook: Codebook, registry: Registry, keywords: KeywordMatcher, bot_logins: set[str]
    ) -> None:
        self.codebook, self.registry, self.keywords = codebook, registry, keywords
        self.names = NameMatcher(registry)
        self.bot_logins = bot_logins

    def _bot_name(self, login: str | None) -> str | None:
        entry = self.registry.entry_for_login(login)
        return entry.name if entry else login

    def _mentioned(self, text: str) -> list[str]:
        """Bots or services a person's post invokes or talks about (in prose)."""
        found = [name for hit, name in self.names.names(text) if hit.in_prose]
        for hit in self.keywords.hits(text):
            if hit.in_prose and not self.keywords.context(text, hit)[0]:
                token = hit.token.lstrip("@")
                entry = self.registry.entry_for_login(token)
                # "the bot" names no bot; "@somebot" or "foo-bot" names one we do not know.
                found.append(
                    entry.name
                    if entry
                    else token
                    if len(token) > 4 and not token.lower().startswith("bot")
                    else UNNAMED_BOT
                )
        return found

    def code_thread(self, posts: list[dict]) -> list[Label]:
        labels: list[Label] = []
        for post in posts:
            text, login = post["text"] or "", post["author_login"]
            is_bot = bool(login) and login.lower() in self.bot_logins
            if is_bot and post["location"] != "title":
                bot = self._bot_name(login)
                labels += self._labels(
                    text, post, bot, fallback=self.registry.entry_for_login(login)
                )
            elif not is_bot:
                mentioned = self._mentioned(text)
                if mentioned:
                    entry = self.registry.by_name.get(mentioned[0])
                    labels += self._labels(text, post, mentioned[0], fallback=entry, discussed=True)
        return labels

    def _labels(
        self, text: str, post: dict, bot: str | None, fallback, discussed: bool = False
    ) -> list[Label]:
        fired = code_post(text, self.codebook)
        prefix = "discussed: " if discussed else ""
        if fired:
            return [
                Label(
                    name,
                    bot,
                    prefix + rule,
                    post["location"],
                    post["post_id"],
                    snippet(text, *_first_match_span(strip_code(text), rule, self.codebook)),
                )
                for name, rule in fired.items()
            ]
        if fallback is not None and len(fallback.tasks) == 1:
            return [
                Label(
                    fallback.tasks[0],
                    bot,
                    f"{prefix}registry: {fallback.name} does {fallback.tasks[0]}",
                    post["location"],
                    post["post_id"],
                    snippet(text, 0, 0, 120),
                )
            ]
        return []


def auto_labels(tps: pl.DataFrame, posts: pl.DataFrame, coder: AutoCoder) -> pl.DataFrame:
    """One row per (issue, category) for rater `auto`, with the first post that evidences it."""
    keys = tps.select("repo", "number")
    thread_posts = posts.join(keys, on=["repo", "number"], how="semi").sort(
        "repo", "number", "location", "post_id"
    )
    rows = []
    for (repo, number), group in thread_posts.group_by(["repo", "number"], maintain_order=True):
        seen = set()
        for label in coder.code_thread(group.to_dicts()):
            if label.category in seen:
                continue
            seen.add(label.category)
            rows.append(
                {
                    "repo": repo,
                    "number": number,
                    "category": label.category,
                    "rater": AUTO,
                    "bot": label.bot,
                    "rule": label.rule,
                    "post_location": label.location,
                    "post_id": label.post_id,
                    "evidence": label.evidence,
                    "source": "auto",
                }
            )
    return pl.DataFrame(rows, schema=LABEL_SCHEMA)


def human_rows(raters: dict[str, dict[IssueKey, frozenset[str]]]) -> pl.DataFrame:
    """One row per (issue, category, rater); an issue a rater coded with no category has one
    row with category NULL, so that it counts as "coded none" rather than "not coded"."""
    rows = [
        {
            "repo": repo,
            "number": number,
            "category": category,
            "rater": rater,
            "bot": None,
            "rule": None,
            "post_location": None,
            "post_id": None,
            "evidence": None,
            "source": f"coding/{rater}.csv",
        }
        for rater, coding in raters.items()
        for (repo, number), categories in coding.items()
        for category in sorted(categories) or [None]
    ]
    return pl.DataFrame(rows, schema=LABEL_SCHEMA)


# ------------------------------------------------------------------------------- final labels


def settle(
    key: IssueKey, adjudicated: Coding, humans: Mapping[str, Coding], auto: frozenset[str]
) -> tuple[frozenset[str], str]:
    """Final categories of one issue and how they were settled."""
    if key in adjudicated:
        return adjudicated[key], "adjudication"
    votes = [coding[key] for coding in humans.values() if key in coding]
    if not votes:
        return auto, "auto"
    final, tie_broken = set(), False
    for category in CATEGORIES:
        yes = sum(category in vote for vote in votes)
        if 2 * yes > len(votes):
            final.add(category)
        elif 2 * yes == len(votes) and yes:
            tie_broken = True
            if category in auto:
                final.add(category)
    return frozenset(final), "raters+auto" if tie_broken else "raters"


def codings_from(
    labels: pl.DataFrame, universe: dict[str, set[IssueKey]]
) -> dict[str, dict[IssueKey, frozenset[str]]]:
    """Rater -> issue -> categories, including issues a rater coded with no category (a row
    with category NULL, or an issue of the rater's `universe` without a row)."""
    codings: dict[str, dict[IssueKey, set[str]]] = {
        rater: {key: set() for key in keys} for rater, keys in universe.items()
    }
    for row in labels.iter_rows(named=True):
        coded = codings.setdefault(row["rater"], {}).setdefault((row["repo"], row["number"]), set())
        if row["category"] is not None:
            coded.add(row["category"])
    return {
        rater: {key: frozenset(value) for key, value in coding.items()}
        for rater, coding in codings.items()
    }


def final_label_rows(
    issues: set[IssueKey], adjudicated: Coding, humans: Mapping[str, Coding], auto: Coding
) -> pl.DataFrame:
    """One row per (issue, final category); an issue settled with no category has one row
    with category NULL."""
    rows = []
    for key in sorted(issues):
        categories, how = settle(key, adjudicated, humans, auto.get(key, frozenset()))
        rows += [
            {"repo": key[0], "number": key[1], "category": c, "settled_by": how}
            for c in sorted(categories)
        ] or [{"repo": key[0], "number": key[1], "category": None, "settled_by": how}]
    return pl.DataFrame(rows, schema=FINAL_SCHEMA)


def agreement_frame(
    codings: Mapping[str, Coding], n_boot: int = 1000, seed: int = 0
) -> pl.DataFrame:
    """Every pair of raters, per category and pooled (see `stats.agreement_rows`)."""
    rows = agreement_rows(codings, list(CATEGORIES), n_boot=n_boot, seed=seed)
    return pl.DataFrame(rows, schema=AGREEMENT_SCHEMA)
