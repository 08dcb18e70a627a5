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
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import paper
from .labelfiles import Override
from .reference_data import Registry
from .settings import library_name
from .stats import IssueKey
from .textmatch import KeywordMatcher, NameMatcher, snippet

CHANNELS = ("keyword", "bot_activity", "named_service")
REVIEW_BELOW = 0.75  # auto decisions less sure than this go to the review sheet
UNNAMED_BOT = "unnamed bot"  # "the bot" in prose names no particular bot

# --------------------------------------------------------------------------------- candidates

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

    @property
    def in_prose(self) -> bool:
        return not (self.in_code or self.in_quote)


@dataclass
class ThreadEvidence:
    items: list[Evidence] = field(default_factory=list)

    def of(self, channel: str) -> list[Evidence]:
        return [item for item in self.items if item.channel == channel]


def collect_evidence(
    posts: pl.DataFrame, accounts: pl.DataFrame, matcher: KeywordMatcher, names: NameMatcher
) -> dict[IssueKey, ThreadEvidence]:
    """Every keyword hit, bot post and service mention, grouped by thread."""
    scores = dict(zip(accounts["login"].to_list(), accounts["bot_score"].to_list(), strict=True))
    bots = set(accounts.filter(pl.col("is_bot"))["login"].to_list())
    threads: dict[IssueKey, ThreadEvidence] = defaultdict(ThreadEvidence)
    terms = list(names.terms)
    flagged = posts.with_columns(
        pl.col("text").fill_null("").str.contains("(?i)" + matcher.prefilter).alias("_kw"),
        pl.col("text")
        .fill_null("")
        .str.contains_any(terms, ascii_case_insensitive=True)
        .alias("_name")
        if terms
        else pl.lit(False).alias("_name"),
        pl.col("author_login")
        .is_in([k for k, v in scores.items() if v >= SUSPECT_SCORE])
        .alias("_bot"),
    ).filter(pl.col("_kw") | pl.col("_name") | (pl.col("_bot") & (pl.col("location") != "title")))
    for post in flagged.iter_rows(named=True):
        key, text, author = (post["repo"], post["number"]), post["text"] or "", post["author_login"]
        common: dict[str, Any] = {
            "location": post["location"],
            "post_id": post["post_id"],
            "author": author,
            "author_is_bot": author in bots,
        }
        if post["_bot"] and post["location"] != "title":
            threads[key].items.append(
                Evidence(
                    channel="bot_activity",
                    matched=author,
                    snippet=snippet(text, 0, 0, 160),
                    score=scores[author],
                    **common,
                )
            )
        if post["_kw"]:
            for hit in matcher.hits(text):
                negative, development = matcher.context(text, hit)
                threads[key].items.append(
                    Evidence(
                        channel="keyword",
                        matched=hit.token,
                        snippet=snippet(text, hit.start, hit.end),
                        in_code=hit.in_code,
                        in_quote=hit.in_quote,
                        negative=negative,
                        development=development,
                        **common,
                    )
                )
        if post["_name"]:
            for hit, service in names.names(text):
                threads[key].items.append(
                    Evidence(
                        channel="named_service",
                        matched=hit.token,
                        service=service,
                        snippet=snippet(text, hit.start, hit.end),
                        in_code=hit.in_code,
                        in_quote=hit.in_quote,
                        **common,
                    )
                )
    return threads


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
        item for item in evidence.of("keyword") if item.in_prose and not item.author_is_bot
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
    if services:
        names = sorted({item.service for item in services if item.service})
        return Decision(True, 0.75, "service_discussed", f"names {', '.join(names)}", names)
    generic = [item for item in human_prose if not item.negative]
    if generic:
        return Decision(
            True,
            0.6,
            "bot_mentioned",
            f"mentions a bot without clear context: “{generic[0].snippet[:120]}”",
            [UNNAMED_BOT],
        )
    keyword = evidence.of("keyword")
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
channels AS (SELECT unnest(['keyword', 'bot_activity', 'named_service', 'any']) AS channel),
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
    list_position(['keyword', 'bot_activity', 'named_service', 'any'], g.channel)
"""


def funnel_params() -> dict:
    """FUNNEL_SQL's parameters besides the study's scope: the paper's funnel."""
    return {
        "paper_issues": paper.ISSUES,
        "paper_candidates": paper.KEYWORD_CANDIDATES,
        "paper_true_positives": paper.TRUE_POSITIVES,
    }
