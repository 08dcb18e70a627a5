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

from .accounts import PLACEHOLDER_LOGINS
from .detection import UNNAMED_BOT, EventHit
from .labelfiles import AUTO
from .posts import ThreadMeta
from .reference_data import CATEGORIES, Codebook, Registry, RegistryEntry
from .stats import Coding, IssueKey, agreement_rows
from .textmatch import KeywordMatcher, NameMatcher, snippet, strip_code
from .traces import TraceMatcher

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
    weak: bool = False  # from a weak trace: counts only when no other label does


def _addresses(text: str, entry: RegistryEntry) -> bool:
    """Whether a post @-mentions one of the bot's accounts (a command or a reply to it)."""
    lowered = text.lower()
    return any(f"@{account.lower().removesuffix('[bot]')}" in lowered for account in entry.accounts)


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
        self.tracer = TraceMatcher(codebook)
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

    def code_thread(
        self,
        posts: list[dict],
        thread_labels: list[str] | None = None,
        pull_request: bool = False,
        events: list[EventHit] | None = None,
    ) -> list[Label]:
        labels: list[Label] = [
            Label(
                hit.category,
                self._bot_name(hit.actor),
                hit.rule,
                "event",
                hit.event_id,
                hit.snippet,
            )
            for hit in events or []
        ] + [
            Label(hit.category, None, hit.rule, "labels", 0, hit.snippet, hit.weak)
            for hit in self.tracer.in_labels(thread_labels)
            if hit.category
        ]
        for post in posts:
            text, login = post["text"] or "", post["author_login"]
            is_bot = bool(login) and login.lower() in self.bot_logins
            unknown = (login or "").lower() in PLACEHOLDER_LOGINS
            labels += [
                Label(
                    hit.category,
                    self._bot_name(login) if is_bot else None,
                    hit.rule,
                    post["location"],
                    post["post_id"],
                    hit.snippet,
                    hit.weak,
                )
                for hit in self.tracer.in_text(
                    text,
                    pull_request=pull_request,
                    by_bot=is_bot or unknown,
                    title=post["location"] == "title",
                )
                if hit.category
            ]
            if is_bot and post["location"] != "title":
                bot = self._bot_name(login)
                labels += self._labels(
                    text, post, bot, fallback=self.registry.entry_for_login(login)
                )
            elif not is_bot and not self.tracer.reproduces_a_message(text, by_bot=unknown):
                mentioned = self._mentioned(text)
                if mentioned:
                    entry = self.registry.by_name.get(mentioned[0])
                    # A bot's usual task is its work here only when the person addresses it.
                    addressed = entry and (post["location"] == "title" or _addresses(text, entry))
                    fallback = entry if addressed else None
                    labels += self._labels(
                        text, post, mentioned[0], fallback=fallback, discussed=True
                    )
        return labels

    def _labels(
        self, text: str, post: dict, bot: str | None, fallback, discussed: bool = False
    ) -> list[Label]:
        fired = code_post(text, self.codebook)
        prefix = "discussed: " if discussed else ""
        labels = [
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
        # A bot with one task does it whenever it posts (a Copybara account's post is a mirrored
        # change, whatever it says); in a person's words it is the work only when nothing else is.
        if fallback is not None and len(fallback.tasks) == 1 and (not discussed or not fired):
            labels.append(
                Label(
                    fallback.tasks[0],
                    bot,
                    f"{prefix}registry: {fallback.name} does {fallback.tasks[0]}",
                    post["location"],
                    post["post_id"],
                    snippet(text, 0, 0, 120),
                )
            )
        return labels


def auto_labels(
    tps: pl.DataFrame,
    posts: pl.DataFrame,
    coder: AutoCoder,
    meta: dict[IssueKey, ThreadMeta] | None = None,
) -> pl.DataFrame:
    """One row per (issue, category) for rater `auto`, with the first post that evidences it."""
    keys = tps.select("repo", "number")
    thread_posts = posts.join(keys, on=["repo", "number"], how="semi").sort(
        "repo", "number", "location", "post_id"
    )
    rows = []
    for (repo, number), group in thread_posts.group_by(["repo", "number"], maintain_order=True):
        seen = set()
        about = (meta or {}).get((repo, number), ThreadMeta())
        found = coder.code_thread(
            group.to_dicts(), about.labels, about.is_pull_request, about.bot_events
        )
        # Weak traces give their category only when the thread's text shows no other; a label
        # (cla signed on every PR) is not reason to drop the CI that people discuss.
        strong = [label for label in found if not label.weak and label.location != "labels"]
        for label in found if not strong else [label for label in found if not label.weak]:
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


DISAGREEMENT_SCHEMA = {
    "rater": pl.String,
    "repo": pl.String,
    "number": pl.Int64,
    "category": pl.String,
    "auto": pl.Boolean,
    "human": pl.Boolean,
    "found_by_auto": pl.Boolean,
    "title": pl.String,
    "html_url": pl.String,
    "auto_rule": pl.String,
    "auto_evidence": pl.String,
}
CONFUSION_SCHEMA = {
    "rater": pl.String,
    "category": pl.String,
    "both": pl.Int64,
    "auto_only": pl.Int64,
    "rater_only": pl.Int64,
    "neither": pl.Int64,
    "issues": pl.Int64,
}


def disagreement_rows(
    auto: Coding,
    humans: Mapping[str, Coding],
    found: set[IssueKey],
    auto_labels_frame: pl.DataFrame,
    threads: pl.DataFrame,
) -> pl.DataFrame:
    """One row per (human rater, issue, category) where the automatic coder and that rater
    differ, over every issue the rater coded (an issue the coder did not find as bot-related
    counts as coded with none), with the coder's rule and evidence and a link to the thread."""
    why = {
        (row["repo"], row["number"], row["category"]): (row["rule"], row["evidence"])
        for row in auto_labels_frame.iter_rows(named=True)
    }
    about = {
        (row["repo"], row["number"]): (row["title"], row["html_url"])
        for row in threads.iter_rows(named=True)
    }
    rows = []
    for rater, coding in sorted(humans.items()):
        for key, theirs in sorted(coding.items()):
            ours = auto.get(key, frozenset())
            for category in sorted(ours ^ theirs):
                rule, evidence = why.get((*key, category), (None, None))
                title, url = about.get(key, (None, None))
                rows.append(
                    {
                        "rater": rater,
                        "repo": key[0],
                        "number": key[1],
                        "category": category,
                        "auto": category in ours,
                        "human": category in theirs,
                        "found_by_auto": key in found,
                        "title": title,
                        "html_url": url,
                        "auto_rule": rule,
                        "auto_evidence": evidence,
                    }
                )
    return pl.DataFrame(rows, schema=DISAGREEMENT_SCHEMA)


def confusion_by_category(auto: Coding, humans: Mapping[str, Coding]) -> pl.DataFrame:
    """Per human rater and category, over the issues the rater coded: how often both, only the
    automatic coder, only the rater, or neither gave the category."""
    rows = []
    for rater, coding in sorted(humans.items()):
        for category in CATEGORIES:
            cells = {"both": 0, "auto_only": 0, "rater_only": 0, "neither": 0}
            for key, theirs in coding.items():
                ours = category in auto.get(key, frozenset())
                cell = {
                    (True, True): "both",
                    (True, False): "auto_only",
                    (False, True): "rater_only",
                    (False, False): "neither",
                }
                cells[cell[(ours, category in theirs)]] += 1
            rows.append({"rater": rater, "category": category, **cells, "issues": len(coding)})
    return pl.DataFrame(rows, schema=CONFUSION_SCHEMA)
