"""Who is a bot: every author classified from signals that cost no API request.

GitHub type `Bot`, a `[bot]` suffix, `performed_via_github_app`, the registry, login patterns,
and BoDeGHa's intuition that bots repeat near-identical messages across many threads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from .reference_data import Registry
from .settings import library_name

# GitHub's stand-ins for deleted or unknown users: many people, never a bot.
PLACEHOLDER_LOGINS = frozenset({"ghost", "web-flow", "invalid-email-address", "deleted-user"})
_URL = r"https?://\S+"
_MENTION = r"@[A-Za-z0-9_-]+"
_HEX = r"\b[0-9a-f]{7,40}\b"
_BOT_LOGIN = re.compile(r"(?:[-_]bot|\[bot\])$", re.IGNORECASE)
_BOT_SUFFIX = re.compile(r"[a-z]bot$", re.IGNORECASE)  # pytorchbot, but also the surname Abbot
# Logins no person takes: an import or merge service's machine user.
_SERVICE_LOGIN = re.compile(
    r"(copybara|mergebot|[-_]ci[-_]?(bot|robot)|automation$)", re.IGNORECASE
)
_AUTOMATION_LOGIN = re.compile(
    r"(butler|jenkins|(^|[-_])ci($|[-_])|automation|autobuild|gardener|copybara|kokoro|mergebot)",
    re.IGNORECASE,
)
ACCOUNT_SCHEMA = {
    "login": pl.String,
    "is_bot": pl.Boolean,
    "confidence": pl.Float64,
    "bot_score": pl.Float64,
    "kind": pl.String,
    "registry_name": pl.String,
    "reasons": pl.List(pl.String),
    "n_posts": pl.Int64,
    "n_threads": pl.Int64,
    "n_events": pl.Int64,
    "template_diversity": pl.Float64,
    "github_type": pl.String,
    "via_app": pl.String,
    "libraries": pl.List(pl.String),
}


def account_features(posts: pl.DataFrame, events: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per author: activity and how templated their posts are (BoDeGHa's intuition: bots repeat
    near-identical messages across many threads, people do not). The actors of issue events join
    too (a bot that only labels or closes is a bot), with their GitHub type and app but no
    templating figures, which only posts have."""
    from_posts = _post_features(posts)
    if events is None or events.is_empty():
        return from_posts.with_columns(pl.lit(0, dtype=pl.Int64).alias("n_events"))
    acted = (
        events.filter(pl.col("actor_login").is_not_null())
        .group_by("actor_login")
        .agg(
            pl.len().alias("n_events"),
            (pl.col("actor_type") == "Bot").any().alias("typed_bot_events"),
            pl.col("actor_type").mode().sort().first().alias("type_events"),
            pl.col("via_app").is_not_null().mean().alias("app_share_events"),
            pl.col("via_app").drop_nulls().first().alias("via_app_events"),
            pl.col("repo").unique().sort().alias("repos_events"),
        )
        .rename({"actor_login": "login"})
    )
    joined = from_posts.join(acted, on="login", how="full", coalesce=True)
    return joined.with_columns(
        pl.col("n_posts").fill_null(0),
        pl.col("n_threads").fill_null(0),
        pl.col("n_templates").fill_null(0),
        pl.col("n_events").fill_null(0),
        (pl.col("typed_bot").fill_null(False) | pl.col("typed_bot_events").fill_null(False)).alias(
            "typed_bot"
        ),
        pl.coalesce("github_type", "type_events").alias("github_type"),
        pl.max_horizontal(
            pl.col("app_share").fill_null(0.0), pl.col("app_share_events").fill_null(0.0)
        ).alias("app_share"),
        pl.coalesce("via_app", "via_app_events").alias("via_app"),
        pl.concat_list(pl.col("repos").fill_null([]), pl.col("repos_events").fill_null([]))
        .list.unique()
        .list.sort()
        .alias("repos"),
        pl.col("template_diversity").fill_null(1.0),
    ).drop("typed_bot_events", "type_events", "app_share_events", "via_app_events", "repos_events")


def _post_features(posts: pl.DataFrame) -> pl.DataFrame:
    authored = posts.filter(pl.col("location") != "title")
    template = (
        pl.col("text")
        .fill_null("")
        .str.slice(0, 400)
        .str.to_lowercase()
        .str.replace_all(_URL, "<url>")
        .str.replace_all(_MENTION, "@u")
        .str.replace_all(_HEX, "<h>")
        .str.replace_all(r"\d+", "<n>")
        .str.replace_all(r"\s+", " ")
    )
    return (
        authored.with_columns(
            template.alias("template"),
            (pl.col("repo") + "#" + pl.col("number").cast(pl.String)).alias("thread"),
        )
        .group_by("author_login")
        .agg(
            pl.len().alias("n_posts"),
            pl.col("thread").n_unique().alias("n_threads"),
            pl.col("template").n_unique().alias("n_templates"),
            (pl.col("author_type") == "Bot").any().alias("typed_bot"),
            pl.col("author_type").mode().sort().first().alias("github_type"),
            pl.col("via_app").is_not_null().mean().alias("app_share"),
            pl.col("via_app").drop_nulls().first().alias("via_app"),
            pl.col("repo").unique().sort().alias("repos"),
        )
        .with_columns((pl.col("n_templates") / pl.col("n_posts")).alias("template_diversity"))
        .rename({"author_login": "login"})
    )


@dataclass
class AccountVerdict:
    is_bot: bool
    bot_score: float
    kind: str
    registry_name: str | None
    reasons: list[str]


def classify_account(features: dict, registry: Registry) -> AccountVerdict:
    """Combine independent signals by noisy-OR; no signal costs an API request."""
    login = features["login"] or ""
    if login.lower() in PLACEHOLDER_LOGINS:
        return AccountVerdict(
            False, 0.0, "human", None, ["GitHub's placeholder account (deleted or unknown users)"]
        )
    signals: list[tuple[float, str]] = []
    entry = registry.entry_for_login(login)
    if entry:
        signals.append((0.99, f"in the bot registry as {entry.name} ({entry.kind})"))
    if features["typed_bot"]:
        signals.append((0.97, "GitHub account type is Bot (a GitHub App)"))
    if login.lower().endswith("[bot]"):
        signals.append((0.95, "login ends in [bot]"))
    if (features["app_share"] or 0) >= 0.5:
        signals.append((0.9, f"posts via the GitHub App {features['via_app']}"))
    if _SERVICE_LOGIN.search(login):
        signals.append((0.8, "login names an automation service (copybara, mergebot, …)"))
    elif _BOT_LOGIN.search(login):
        signals.append((0.55, "login ends in '-bot'"))
    elif _BOT_SUFFIX.search(login):
        signals.append((0.4, "login ends in 'bot'"))
    elif _AUTOMATION_LOGIN.search(login):
        signals.append((0.45, "login names automation (butler, jenkins, ci, …)"))
    diversity, posts, threads = (
        features["template_diversity"],
        features["n_posts"],
        features["n_threads"],
    )
    if posts >= 5 and threads >= 3 and diversity <= 0.3:
        signals.append(
            (
                0.45,
                f"templated: {posts} posts in {threads} threads with only "
                f"{features['n_templates']} distinct texts",
            )
        )
    score = 1.0
    for weight, _ in signals:
        score *= 1.0 - weight
    score = 1.0 - score
    hard = entry is not None or features["typed_bot"] or (features["app_share"] or 0) >= 0.5
    if not hard and posts >= 5 and diversity >= 0.8 and score > 0:
        score *= 0.5
        signals.append(
            (0.0, f"varied, human-like texts ({diversity:.0%} distinct) halve the score")
        )
    is_bot = score >= 0.5
    if entry:
        kind = entry.kind
    elif features["typed_bot"] or login.lower().endswith("[bot]"):
        kind = "github_app"
    else:
        kind = "machine_user" if is_bot else "human"
    reasons = [reason for _, reason in signals] or ["no bot signal"]
    return AccountVerdict(is_bot, round(score, 4), kind, entry.name if entry else None, reasons)


def build_bot_accounts(
    posts: pl.DataFrame, registry: Registry, events: pl.DataFrame | None = None
) -> pl.DataFrame:
    rows = []
    for features in account_features(posts, events).iter_rows(named=True):
        verdict = classify_account(features, registry)
        rows.append(
            {
                "login": features["login"],
                "is_bot": verdict.is_bot,
                "confidence": round(
                    verdict.bot_score if verdict.is_bot else 1 - verdict.bot_score, 4
                ),
                "bot_score": verdict.bot_score,
                "kind": verdict.kind,
                "registry_name": verdict.registry_name,
                "reasons": verdict.reasons,
                "n_posts": features["n_posts"],
                "n_threads": features["n_threads"],
                "n_events": features["n_events"],
                "template_diversity": round(features["template_diversity"], 4),
                "github_type": features["github_type"],
                "via_app": features["via_app"],
                "libraries": sorted({library_name(repo) for repo in features["repos"]}),
            }
        )
    return pl.DataFrame(rows, schema=ACCOUNT_SCHEMA).sort(["is_bot", "n_posts"], descending=True)
