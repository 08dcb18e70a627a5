"""Which threads involve a software-development bot: candidates with evidence, and decisions.

Three channels propose candidates, one row per (repo, number, channel) in `keyword_candidates`:
- `keyword`: the paper's step, `bot`/`bots`, tokens ending in `bot` and `[bot]` in titles, bodies
  and comments;
- `bot_activity`: threads opened or commented on by an account `bot_accounts` classifies as a bot
  (most bots of these libraries are machine users of type `User` and never write "bot");
- `named_service`: prose naming a registry bot or automation service (codecov, Dr. CI, …).
Each candidate thread is then decided with a reason and a confidence, human decisions in
`validation.csv` overriding.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import paper
from .accounts import PLACEHOLDER_LOGINS
from .labelfiles import Override
from .reference_data import Registry
from .settings import library_name
from .stats import IssueKey
from .textmatch import KeywordMatcher, NameMatcher, snippet
from .traces import TraceMatcher

CHANNELS = ("keyword", "bot_activity", "named_service", "bot_trace", "bot_label", "bot_event")
REVIEW_BELOW = 0.75  # auto decisions less sure than this go to the review sheet
UNNAMED_BOT = "unnamed bot"  # "the bot" in prose names no particular bot

# --------------------------------------------------------------------------------- candidates

# A repository named like a bot (`Paddle-bot`, `probot`) holds that bot's development.
_BOT_REPOSITORY = re.compile(r"(^|[-_.])bot$|probot$", re.IGNORECASE)
SUSPECT_SCORE = 0.35  # accounts this bot-like propose candidates, even if not classified bots
CANDIDATE_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "channel": pl.String,
    "library": pl.String,
    "n_evidence": pl.Int64,
    "matched": pl.List(pl.String),
    "first_location": pl.String,
    "first_post_id": pl.Int64,
    "snippet": pl.String,
    "evidence": pl.String,
}


@dataclass
class Evidence:
    channel: str
    location: str
    post_id: int
    author: str | None
    author_is_bot: bool
    matched: str
    snippet: str
    in_code: bool = False
    in_quote: bool = False
    negative: bool = False
    development: bool = False
    score: float = 0.0
    service: str | None = None
    category: str | None = None  # the category a trace or label shows
    rule: str | None = None
    # A keyword hit in the author's login: the paper's search saw it, but a login alone says
    # nothing about a bot (the `bot_activity` channel judges accounts).
    from_login: bool = False

    @property
    def in_prose(self) -> bool:
        return not (self.in_code or self.in_quote)


@dataclass
class ThreadEvidence:
    items: list[Evidence] = field(default_factory=list)

    def of(self, channel: str) -> list[Evidence]:
        return [item for item in self.items if item.channel == channel]


@dataclass(frozen=True)
class EventHit:
    """Something a bot did to a thread that its issue events record (a label, a close, …)."""

    category: str
    rule: str
    matched: str
    snippet: str
    event_id: int
    actor: str


# What an event by a bot is evidence of; label events take the category of the label they set.
_EVENT_CATEGORY = {
    "assigned": "issue_management",
    "unassigned": "issue_management",
    "marked_as_duplicate": "issue_management",
    "transferred": "issue_management",
    "milestoned": "issue_management",
    "demilestoned": "issue_management",
    "renamed": "issue_management",
    "pinned": "issue_management",
    "review_requested": "mention",
    "merged": "continuous_integration",
}
_STATE_EVENTS = ("closed", "reopened", "locked", "unlocked")


def bot_event_hits(
    events: pl.DataFrame, bot_logins: set[str], tracer: TraceMatcher, registry: Registry
) -> dict[IssueKey, list[EventHit]]:
    """The events bots performed on each thread, with the category of bot work each shows."""
    hits: dict[IssueKey, list[EventHit]] = defaultdict(list)
    mine = events.filter(pl.col("actor_login").str.to_lowercase().is_in(list(bot_logins)))
    for row in mine.iter_rows(named=True):
        for category in _event_categories(row, tracer, registry):
            label = f" “{row['label_name']}”" if row["label_name"] else ""
            hits[(row["repo"], row["number"])].append(
                EventHit(
                    category,
                    f"event: {row['event']} by a bot",
                    f"{row['event']}{label}",
                    f"{row['actor_login']} {row['event']}{label} on {row['created_at']:%Y-%m-%d}",
                    row["event_id"],
                    row["actor_login"],
                )
            )
    return hits


def _event_categories(row: dict, tracer: TraceMatcher, registry: Registry) -> list[str]:
    event = row["event"]
    if event in ("labeled", "unlabeled"):
        found = [
            hit.category
            for hit in tracer.in_labels([row["label_name"] or ""])
            if hit.category and not hit.weak
        ]
        return found or ["issue_management"]
    if event in _STATE_EVENTS:
        entry = registry.entry_for_login(row["actor_login"])
        return [entry.tasks[0]] if entry and len(entry.tasks) == 1 else ["issue_management"]
    return [_EVENT_CATEGORY[event]] if event in _EVENT_CATEGORY else []


def collect_evidence(
    posts: pl.DataFrame,
    accounts: pl.DataFrame,
    matcher: KeywordMatcher,
    names: NameMatcher,
    tracer: TraceMatcher | None = None,
    labels: dict[IssueKey, list[str]] | None = None,
    events: dict[IssueKey, list[EventHit]] | None = None,
) -> dict[IssueKey, ThreadEvidence]:
    """Every keyword hit, bot post, service mention, bot trace and bot label, by thread."""
    scores = dict(zip(accounts["login"].to_list(), accounts["bot_score"].to_list(), strict=True))
    bots = set(accounts.filter(pl.col("is_bot"))["login"].to_list())
    threads: dict[IssueKey, ThreadEvidence] = defaultdict(ThreadEvidence)
    for post in _flagged_posts(posts, scores, matcher, names, tracer).iter_rows(named=True):
        key, text, author = (post["repo"], post["number"]), post["text"] or "", post["author_login"]
        common: dict[str, Any] = {
            "location": post["location"],
            "post_id": post["post_id"],
            "author": author,
            "author_is_bot": author in bots,
        }
        items = threads[key].items
        if post["_bot"] and post["location"] != "title":
            items.append(
                Evidence(
                    channel="bot_activity",
                    matched=author,
                    snippet=snippet(text, 0, 0, 160),
                    score=scores[author],
                    **common,
                )
            )
        # A person's copy of another thread's message, or of a bot's template, shows no bot
        # work here: its hits stay in the paper's keyword channel but decide nothing.
        copied = tracer is not None and tracer.reproduces_a_message(
            text, by_bot=author in bots or (author or "").lower() in PLACEHOLDER_LOGINS
        )
        if post["location"] != "title" and author and matcher.hits(author):
            items.append(
                Evidence(
                    channel="keyword",
                    matched=author,
                    from_login=True,
                    snippet=f"posted by {author}",
                    **common,
                )
            )
        if post["_kw"]:
            for hit in matcher.hits(text):
                negative, development = matcher.context(text, hit)
                items.append(
                    Evidence(
                        channel="keyword",
                        matched=hit.token,
                        snippet=snippet(text, hit.start, hit.end),
                        in_code=hit.in_code,
                        in_quote=hit.in_quote or copied,
                        negative=negative,
                        development=development,
                        **common,
                    )
                )
        if post["_name"]:
            for hit, service in names.names(text):
                items.append(
                    Evidence(
                        channel="named_service",
                        matched=hit.token,
                        service=service,
                        snippet=snippet(text, hit.start, hit.end),
                        in_code=hit.in_code,
                        in_quote=hit.in_quote or copied,
                        **common,
                    )
                )
        if post["_trace"] and tracer is not None:
            # A placeholder author (deleted account) may have been the bot itself.
            by_bot = author in bots or (author or "").lower() in PLACEHOLDER_LOGINS
            for trace in tracer.in_text(
                text,
                pull_request=bool(post["is_pull_request"]),
                by_bot=by_bot,
                title=post["location"] == "title",
            ):
                items.append(
                    Evidence(
                        channel="bot_trace",
                        matched=trace.matched,
                        category=trace.category,
                        rule=trace.rule,
                        snippet=trace.snippet,
                        in_code=trace.in_code,
                        **common,
                    )
                )
    if tracer is not None:
        for key in labels or {}:
            if _BOT_REPOSITORY.search(key[0].split("/")[-1]):
                threads[key].items.append(
                    Evidence(
                        channel="bot_trace",
                        location="repository",
                        post_id=0,
                        author=None,
                        author_is_bot=False,
                        matched=key[0],
                        rule="repository: a bot's own",
                        snippet=f"the repository {key[0]} is a bot's own",
                    )
                )
        for key, hits in (events or {}).items():
            threads[key].items.extend(
                Evidence(
                    channel="bot_event",
                    location="event",
                    post_id=hit.event_id,
                    author=hit.actor,
                    author_is_bot=True,
                    matched=hit.matched,
                    category=hit.category,
                    rule=hit.rule,
                    snippet=hit.snippet,
                )
                for hit in hits
            )
        for key, names_of_labels in (labels or {}).items():
            for trace in tracer.in_labels(names_of_labels):
                threads[key].items.append(
                    Evidence(
                        channel="bot_label",
                        location="labels",
                        post_id=0,
                        author=None,
                        author_is_bot=False,
                        matched=trace.matched,
                        category=trace.category,
                        rule=trace.rule,
                        snippet=trace.snippet,
                    )
                )
    return threads


def _flagged_posts(
    posts: pl.DataFrame,
    scores: dict[str, float],
    matcher: KeywordMatcher,
    names: NameMatcher,
    tracer: TraceMatcher | None,
) -> pl.DataFrame:
    """The posts worth a closer look, found with vectorised string searches first."""
    text = pl.col("text").fill_null("")
    terms = list(names.terms)
    suspects = [login for login, score in scores.items() if score >= SUSPECT_SCORE]
    flags = posts.with_columns(
        text.str.contains("(?i)" + matcher.prefilter).alias("_kw"),
        text.str.contains_any(terms, ascii_case_insensitive=True).alias("_name")
        if terms
        else pl.lit(False).alias("_name"),
        pl.col("author_login").is_in(suspects).alias("_bot"),
        pl.col("author_login")
        .fill_null("")
        .str.contains("(?i)" + matcher.prefilter)
        .alias("_login_kw"),
        tracer.prefilter(posts["text"]).alias("_trace")
        if tracer
        else pl.lit(False).alias("_trace"),
    )
    if "is_pull_request" not in flags.columns:
        flags = flags.with_columns(pl.lit(False).alias("is_pull_request"))
    return flags.filter(
        pl.col("_kw")
        | pl.col("_name")
        | pl.col("_trace")
        | ((pl.col("_bot") | pl.col("_login_kw")) & (pl.col("location") != "title"))
    )


def candidate_rows(threads: dict[IssueKey, ThreadEvidence]) -> pl.DataFrame:
    rows = []
    for (repo, number), evidence in threads.items():
        for channel in CHANNELS:
            items = evidence.of(channel)
            if not items:
                continue
            first = items[0]
            rows.append(
                {
                    "repo": repo,
                    "number": number,
                    "channel": channel,
                    "library": library_name(repo),
                    "n_evidence": len(items),
                    "matched": sorted({item.service or item.matched for item in items}),
                    "first_location": first.location,
                    "first_post_id": first.post_id,
                    "snippet": first.snippet,
                    "evidence": json.dumps(
                        [_evidence_json(item) for item in items], ensure_ascii=False
                    ),
                }
            )
    return pl.DataFrame(rows, schema=CANDIDATE_SCHEMA).sort(["repo", "number", "channel"])


def _evidence_json(item: Evidence) -> dict:
    """Lossless, so that decisions are made from the stored evidence alone; flags that are off
    and empty fields are left out to keep the column readable."""
    return {
        key: value
        for key, value in dataclasses.asdict(item).items()
        if key != "channel" and value not in (False, None, 0.0)
    }


def evidence_from_candidates(candidates: pl.DataFrame) -> dict[IssueKey, ThreadEvidence]:
    """The evidence `keyword_candidates` stored, grouped by thread again."""
    threads: dict[IssueKey, ThreadEvidence] = defaultdict(ThreadEvidence)
    for repo, number, channel, evidence in candidates.select(
        "repo", "number", "channel", "evidence"
    ).iter_rows():
        for item in json.loads(evidence):
            item.setdefault("post_id", 0)
            item.setdefault("author", None)
            item.setdefault("author_is_bot", False)
            threads[(repo, number)].items.append(Evidence(channel=channel, **item))
    return threads


# ---------------------------------------------------------------------------------- decisions


@dataclass
class Decision:
    accepted: bool
    confidence: float
    basis: str
    reason: str
    bots: list[str]


def _display(item: Evidence, registry: Registry) -> str:
    login = (item.author or "") if item.channel == "bot_activity" else item.matched.lstrip("@")
    entry = registry.entry_for_login(login)
    if item.service:
        return item.service
    return entry.name if entry else login


def decide(evidence: ThreadEvidence, registry: Registry, bot_logins: set[str]) -> Decision:
    """The paper's manual inspection as explicit rules, strongest evidence first."""
    posting = [item for item in evidence.of("bot_activity") if item.author_is_bot]
    if posting:
        names = sorted({_display(item, registry) for item in posting})
        best = max(item.score for item in posting)
        return Decision(
            True,
            round(best, 3),
            "bot_posts",
            f"{', '.join(names)} posted {len(posting)} time(s) in the thread",
            names,
        )
    human_prose = [
        item
        for item in evidence.of("keyword")
        if item.in_prose and not item.author_is_bot and not item.from_login
    ]
    invoked = [
        item
        for item in human_prose
        if item.matched.startswith("@")
        and not item.negative
        and (
            item.matched[1:].lower() in bot_logins
            or registry.entry_for_login(item.matched[1:])
            or item.matched.lower().endswith("bot")
        )
    ]
    if invoked:
        names = sorted({_display(item, registry) for item in invoked})
        return Decision(True, 0.9, "bot_invoked", f"a person invokes {', '.join(names)}", names)
    known = [
        item
        for item in human_prose
        if not item.negative
        and (
            registry.entry_for_login(item.matched.lstrip("@"))
            or item.matched.lower().endswith("[bot]")
            or item.matched.lstrip("@").lower() in bot_logins
        )
    ]
    developmental = [item for item in human_prose if item.development and not item.negative]
    if known or developmental:
        chosen = known or developmental
        names = sorted({_display(item, registry) for item in known}) or [UNNAMED_BOT]
        return Decision(
            True,
            0.85 if known else 0.8,
            "bot_discussed",
            f"people discuss a development bot: “{chosen[0].snippet[:120]}”",
            names,
        )
    services = [item for item in evidence.of("named_service") if item.in_prose]
    traced = evidence.of("bot_event") + evidence.of("bot_label") + evidence.of("bot_trace")
    if traced:
        first = traced[0]
        names = sorted({item.service for item in services if item.service}) or [UNNAMED_BOT]
        return Decision(
            True,
            0.85,
            first.channel,
            f"shows {first.category} bot work: {first.snippet[:120]}",
            names,
        )
    if services:
        names = sorted({item.service for item in services if item.service})
        return Decision(True, 0.75, "service_discussed", f"names {', '.join(names)}", names)
    generic = [item for item in human_prose if not item.negative]
    if generic:  # "a bot" with nothing around it that points to development: left to people
        return Decision(
            False,
            0.5,
            "bot_mentioned",
            f"mentions a bot without development context: “{generic[0].snippet[:120]}”",
            [],
        )
    keyword = [item for item in evidence.of("keyword") if not item.from_login]
    if any(item.in_prose and item.negative for item in keyword):
        hit = next(item for item in keyword if item.in_prose and item.negative)
        return Decision(
            False,
            0.85,
            "not_a_development_bot",
            f"'{hit.matched}' is a chatbot, game bot or robot: “{hit.snippet[:120]}”",
            [],
        )
    if keyword:
        return Decision(
            False,
            0.75,
            "only_in_code_or_quotes",
            "'bot' appears only in code, logs or quoted text",
            [],
        )
    suspects = evidence.of("bot_activity")
    if suspects:
        item = max(suspects, key=lambda entry: entry.score)
        return Decision(
            False,
            0.5,
            "suspected_account",
            f"{item.author} looks somewhat bot-like (score {item.score:.2f}) but is "
            "not classified as a bot",
            [],
        )
    return Decision(False, 0.6, "no_evidence", "no evidence of a development bot", [])


DECISION_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "library": pl.String,
    "title": pl.String,
    "html_url": pl.String,
    "channels": pl.List(pl.String),
    "is_true_positive": pl.Boolean,
    "basis": pl.String,
    "reason": pl.String,
    "confidence": pl.Float64,
    "decided_by": pl.String,
    "bots": pl.List(pl.String),
    "auto_is_true_positive": pl.Boolean,
}


def decision_rows(
    threads: dict[IssueKey, ThreadEvidence],
    issues: pl.DataFrame,
    registry: Registry,
    bot_logins: set[str],
    overrides: dict[IssueKey, Override],
) -> pl.DataFrame:
    meta = {(row["repo"], row["number"]): row for row in issues.iter_rows(named=True)}
    rows = []
    for key in sorted(set(threads) | set(overrides)):
        evidence = threads.get(key, ThreadEvidence())
        auto = decide(evidence, registry, bot_logins)
        human = overrides.get(key)
        issue = meta.get(key, {})
        rows.append(
            {
                "repo": key[0],
                "number": key[1],
                "library": library_name(key[0]),
                "title": issue.get("title"),
                "html_url": issue.get("html_url"),
                "channels": [channel for channel in CHANNELS if evidence.of(channel)],
                "is_true_positive": human.accepted if human else auto.accepted,
                "basis": "human" if human else auto.basis,
                "reason": human.reason if human else auto.reason,
                "confidence": 1.0 if human else auto.confidence,
                "decided_by": human.decided_by if human else "auto",
                "bots": auto.bots,
                "auto_is_true_positive": auto.accepted,
            }
        )
    return pl.DataFrame(rows, schema=DECISION_SCHEMA)


FUNNEL_SQL = """
WITH issues AS (SELECT repo, number, library FROM study_issues),
channels AS (SELECT unnest($channels) AS channel),
libraries AS (SELECT DISTINCT library FROM issues UNION ALL SELECT 'All'),
cand AS (
    SELECT repo, number, channel FROM keyword_candidates
    UNION ALL SELECT DISTINCT repo, number, 'any' FROM keyword_candidates),
tp AS (SELECT repo, number FROM validated_true_positives),
grid AS (SELECT l.library, c.channel FROM libraries l CROSS JOIN channels c)
SELECT g.library, g.channel,
    (SELECT count(*) FROM issues i WHERE g.library IN (i.library, 'All')) AS issues,
    (SELECT count(*) FROM cand c JOIN issues i USING (repo, number)
        WHERE c.channel = g.channel AND g.library IN (i.library, 'All')) AS candidates,
    (SELECT count(*) FROM cand c JOIN issues i USING (repo, number) JOIN tp USING (repo, number)
        WHERE c.channel = g.channel AND g.library IN (i.library, 'All')) AS true_positives,
    CASE WHEN g.library = 'All' AND g.channel = 'keyword' THEN $paper_issues END AS paper_issues,
    CASE WHEN g.library = 'All' AND g.channel = 'keyword' THEN $paper_candidates END
        AS paper_candidates,
    CASE WHEN g.library = 'All' AND g.channel = 'keyword' THEN $paper_true_positives END
        AS paper_true_positives
FROM grid g
ORDER BY g.library = 'All', g.library,
    list_position($channels, g.channel)
"""


def funnel_params() -> dict:
    """FUNNEL_SQL's parameters besides the study's scope: the paper's funnel."""
    return {
        "channels": [*CHANNELS, "any"],
        "paper_issues": paper.ISSUES,
        "paper_candidates": paper.KEYWORD_CANDIDATES,
        "paper_true_positives": paper.TRUE_POSITIVES,
    }
