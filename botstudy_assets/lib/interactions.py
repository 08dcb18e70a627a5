"""Beyond the paper: what bots do to issues and to people, from posts and issue events.

Bots are the accounts `bot_accounts` classifies as bots (`is_bot`); everyone else, deleted
accounts (`ghost`) included, is a person. Everything here is observational: a bot that touched a
thread is associated with how that thread went, not shown to have caused it.

- `bot_actions`: every post and event of a bot, one row each; `issue_closures`: who closed each
  issue (a bot, its author, someone else), how (`state_reason`) and whether it was reopened.
- `stale_policy` (lesson 7): per repository and stale bot, its marks (a stale label it added),
  the inactivity before each mark measured from the last human post or event, what became of
  them, and the eras of its thresholds.
- `bot_reactions` (lesson 6): the next human post after each bot post or action, its latency,
  whether it came from the issue's author, the friction markers it contains, and the reactions
  to the bot's comment.
- `bot_timeline`: per repository, bot and month: posts, actions, threads; adoption and
  replacement show as one bot's months ending where another's begin.
- `bot_effects`: time to first human response and to close, threads a bot touched against the
  others, and around each bot's adoption (segmented regression, statsmodels).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from .reference_data import FrictionLexicon
from .scope import study_query
from .settings import Study
from .storage import Warehouse

DAY_S = 86_400.0
ASSOCIATION = "association, not a cause (observational)"
ACTION_OF_EVENT = {
    "labeled": "label",
    "unlabeled": "unlabel",
    "closed": "close",
    "reopened": "reopen",
    "locked": "lock",
    "unlocked": "unlock",
    "assigned": "assign",
    "unassigned": "unassign",
    "renamed": "rename",
    "merged": "merge",
    "milestoned": "milestone",
    "demilestoned": "demilestone",
    "marked_as_duplicate": "mark_duplicate",
    "unmarked_as_duplicate": "unmark_duplicate",
    "review_requested": "request_review",
    "head_ref_deleted": "delete_branch",
    "referenced": "reference",
    "mentioned": "mention",
    "subscribed": "subscribe",
    "pinned": "pin",
    "transferred": "transfer",
    "converted_to_discussion": "convert_to_discussion",
}
# Post actions; an event kind GitHub adds later keeps its own name as the action.
POST_ACTIONS = ("comment", "open")
KNOWN_ACTIONS = (*POST_ACTIONS, *ACTION_OF_EVENT.values())
MARK_OUTCOMES = (
    "closed_by_bot",
    "closed_by_other",
    "unmarked_after_reply",
    "unmarked_otherwise",
    "still_marked",
)
CLOSER_ROLES = ("bot", "author", "other", "unknown")

# ------------------------------------------------------------------------------ the data


# Read through the study's scope (`lib/scope.py`): its issues, their posts and events before
# BOTSTUDY_UNTIL.
ISSUES_SQL = """
SELECT repo, number, author_login, created_at, closed_at, state, state_reason,
       is_pull_request, html_url
FROM study_issues
"""
POSTS_SQL = """
SELECT repo, number, 0::BIGINT AS comment_id, 'open' AS kind, author_login, created_at,
       NULL::VARCHAR AS body, html_url, NULL::BIGINT AS reactions_total,
       NULL::BIGINT AS reactions_plus1, NULL::BIGINT AS reactions_minus1,
       NULL::BIGINT AS reactions_confused, NULL::BIGINT AS reactions_heart
FROM study_issues
UNION ALL
SELECT repo, issue_number, comment_id, 'comment', author_login, created_at, body,
       html_url, reactions_total, reactions_plus1, reactions_minus1,
       reactions_confused, reactions_heart
FROM study_comments
"""
EVENTS_SQL = """
SELECT e.repo, e.issue_number AS number, e.event_id, e.event, e.actor_login, e.label_name,
       e.state_reason, e.created_at
FROM raw_issue_events e SEMI JOIN study_issues i ON i.repo = e.repo AND i.number = e.issue_number
WHERE $until IS NULL OR e.created_at < $until
"""


@dataclass
class Interactions:
    """The studied threads: issues, posts (bodies and comments), events, and who is a bot."""

    issues: pl.DataFrame
    posts: pl.DataFrame
    events: pl.DataFrame
    bots: pl.DataFrame  # login, kind, registry_name

    @property
    def bot_logins(self) -> list[str]:
        return self.bots["login"].to_list()


def load_interactions(warehouse: Warehouse, study: Study) -> Interactions:
    bots = warehouse.query(
        "SELECT login, kind, registry_name FROM bot_accounts WHERE is_bot ORDER BY login"
    )

    def scoped(sql: str, *order: str) -> pl.DataFrame:
        return study_query(warehouse, study, sql).sort(*order)

    return Interactions(
        issues=scoped(ISSUES_SQL, "repo", "number"),
        posts=scoped(POSTS_SQL, "repo", "number", "created_at", "comment_id"),
        events=scoped(EVENTS_SQL, "repo", "number", "created_at", "event_id"),
        bots=bots,
    )


def _is_bot(data: Interactions, column: str) -> pl.Expr:
    return pl.col(column).is_in(data.bot_logins)


def activity(data: Interactions) -> pl.DataFrame:
    """Every post and event of every thread, in thread order: who did what, when."""
    posts = data.posts.select(
        "repo",
        "number",
        pl.col("author_login").alias("login"),
        pl.col("kind").alias("action"),
        "created_at",
        pl.lit(None, pl.String).alias("label_name"),
        pl.col("comment_id"),
        pl.lit(None, pl.Int64).alias("event_id"),
        pl.lit(None, pl.String).alias("state_reason"),
    )
    events = data.events.select(
        "repo",
        "number",
        pl.col("actor_login").alias("login"),
        pl.col("event").replace(ACTION_OF_EVENT).alias("action"),
        "created_at",
        "label_name",
        pl.lit(None, pl.Int64).alias("comment_id"),
        "event_id",
        "state_reason",
    )
    return (
        pl.concat([posts, events])
        .with_columns(_is_bot(data, "login").alias("is_bot"))
        .sort("repo", "number", "created_at", "event_id", "comment_id", nulls_last=False)
    )


# ------------------------------------------------------------------------------ bot_actions


def bot_actions(data: Interactions) -> pl.DataFrame:
    """One row per thing a bot did: posted (opened a thread or commented) or an issue event."""
    kinds = data.bots.select(pl.col("login").alias("bot"), pl.col("kind").alias("bot_kind"))
    return (
        activity(data)
        .filter(pl.col("is_bot"))
        .rename({"login": "bot"})
        .join(kinds, on="bot", how="left")
        .with_columns(pl.col("comment_id").replace(0, None))
        .select(
            "repo",
            "number",
            "bot",
            "bot_kind",
            "action",
            "created_at",
            "label_name",
            "comment_id",
            "event_id",
            "state_reason",
        )
        .sort("repo", "number", "created_at", "bot", "action")
    )


def issue_closures(data: Interactions) -> pl.DataFrame:
    """Who closed each issue, how, and whether it was reopened afterwards: one row per close
    event, and one (closer `unknown`) per closed issue whose close has no mined event."""
    authors = data.issues.select("repo", "number", "author_login")
    closes = (
        data.events.filter(pl.col("event") == "closed")
        .join(authors, on=["repo", "number"], how="left")
        .select(
            "repo",
            "number",
            pl.col("created_at").alias("closed_at"),
            pl.col("actor_login").alias("closer_login"),
            "state_reason",
            "author_login",
            "event_id",
        )
    )
    reopens = data.events.filter(pl.col("event") == "reopened").select(
        "repo", "number", pl.col("created_at").alias("reopened_at"), "actor_login"
    )
    next_reopen = (
        closes.sort("closed_at")
        .join_asof(
            reopens.sort("reopened_at"),
            left_on="closed_at",
            right_on="reopened_at",
            by=["repo", "number"],
            strategy="forward",
        )
        .rename({"actor_login": "reopened_by"})
    )
    unknown = (
        data.issues.filter(pl.col("closed_at").is_not_null())
        .join(closes.select("repo", "number"), on=["repo", "number"], how="anti")
        .select(
            "repo",
            "number",
            "closed_at",
            pl.lit(None, pl.String).alias("closer_login"),
            "state_reason",
            "author_login",
            pl.lit(None, pl.Int64).alias("event_id"),
            pl.lit(None, pl.Datetime("us")).alias("reopened_at"),
            pl.lit(None, pl.String).alias("reopened_by"),
        )
    )
    frame = pl.concat([next_reopen.select(unknown.columns), unknown])
    role = (
        pl.when(pl.col("closer_login").is_null())
        .then(pl.lit("unknown"))
        .when(_is_bot(data, "closer_login"))
        .then(pl.lit("bot"))
        .when(pl.col("closer_login") == pl.col("author_login"))
        .then(pl.lit("author"))
        .otherwise(pl.lit("other"))
    )
    return (
        frame.with_columns(
            role.alias("closer_role"),
            pl.when(_is_bot(data, "closer_login")).then(pl.col("closer_login")).alias("bot"),
            pl.col("reopened_at").is_not_null().alias("reopened"),
            ((pl.col("reopened_at") - pl.col("closed_at")).dt.total_seconds() / DAY_S).alias(
                "reopened_after_days"
            ),
        )
        .select(
            "repo",
            "number",
            "closed_at",
            "closer_login",
            "closer_role",
            "bot",
            "state_reason",
            "reopened",
            "reopened_after_days",
            "reopened_by",
            "event_id",
        )
        .sort("repo", "number", "closed_at")
    )


def who_closed(closures: pl.DataFrame) -> pl.DataFrame:
    """The who-closed table: closes per repository, closer role and state reason."""
    return (
        closures.group_by("repo", "closer_role", "state_reason")
        .agg(pl.len().alias("closes"), pl.col("reopened").sum().alias("reopened"))
        .with_columns(
            (100.0 * pl.col("closes") / pl.col("closes").sum().over("repo")).round(1).alias("pct")
        )
        .sort("repo", "closes", descending=[False, True])
    )


# ------------------------------------------------------------------------------ stale_policy


def stale_marks(data: Interactions, lexicon: FrictionLexicon) -> pl.DataFrame:
    """One row per stale mark (a bot adding a stale label): the inactivity before it, measured
    from the last human post or event before the mark, and what became of it."""
    acts = activity(data)
    marks = acts.filter(
        pl.col("is_bot")
        & (pl.col("action") == "label")
        & pl.col("label_name").str.to_lowercase().is_in(list(lexicon.stale_label_set))
    )
    marked = acts.join(marks.select("repo", "number").unique(), on=["repo", "number"], how="semi")
    by_thread = dict(marked.group_by(["repo", "number"]))
    rows = []
    for mark in marks.iter_rows(named=True):
        thread = by_thread[(mark["repo"], mark["number"])]
        rows.append(_mark_row(mark, thread))
    return pl.DataFrame(rows, schema=MARK_SCHEMA).sort("repo", "bot", "marked_at", "number")


MARK_SCHEMA = {
    "repo": pl.String,
    "number": pl.Int64,
    "bot": pl.String,
    "label": pl.String,
    "marked_at": pl.Datetime("us"),
    "inactive_days": pl.Float64,
    "outcome": pl.String,
    "ended_at": pl.Datetime("us"),
    "close_after_days": pl.Float64,
    "reopened_after_close": pl.Boolean,
}


def _mark_row(mark: dict, thread: pl.DataFrame) -> dict:
    at, bot, label = mark["created_at"], mark["login"], mark["label_name"]
    human = thread.filter(~pl.col("is_bot"))
    before = human.filter(pl.col("created_at") <= at)["created_at"].max()
    after = thread.filter(
        (pl.col("created_at") > at)
        | ((pl.col("created_at") == at) & (pl.col("event_id") > (mark["event_id"] or 0)))
    )
    end = after.filter(
        (pl.col("action") == "close")
        | (
            (pl.col("action") == "unlabel")
            & (pl.col("label_name").str.to_lowercase() == label.lower())
        )
    ).head(1)
    outcome, ended_at, close_days, reopened = "still_marked", None, None, False
    if end.height:
        row = end.row(0, named=True)
        ended_at = row["created_at"]
        if row["action"] == "close":
            outcome = "closed_by_bot" if row["login"] == bot else "closed_by_other"
            close_days = (ended_at - at).total_seconds() / DAY_S
            reopened = (
                after.filter(
                    (pl.col("action") == "reopen") & (pl.col("created_at") >= ended_at)
                ).height
                > 0
            )
        else:
            # Someone's post or other action since the mark; the removal itself is not a reply.
            replied = human.filter(
                (pl.col("created_at") > at)
                & (pl.col("created_at") <= ended_at)
                & (pl.col("event_id").is_null() | (pl.col("event_id") != row["event_id"]))
            ).height
            outcome = "unmarked_after_reply" if replied else "unmarked_otherwise"
    return {
        "repo": mark["repo"],
        "number": mark["number"],
        "bot": bot,
        "label": label,
        "marked_at": at,
        "inactive_days": (at - before).total_seconds() / DAY_S if before is not None else None,
        "outcome": outcome,
        "ended_at": ended_at,
        "close_after_days": close_days if outcome == "closed_by_bot" else None,
        "reopened_after_close": reopened and outcome == "closed_by_bot",
    }


ERA_SCHEMA = pl.Struct(
    {
        "era": pl.Int64,
        "start": pl.Datetime("us"),
        "end": pl.Datetime("us"),
        "n_marked": pl.Int64,
        "mark_after_days_median": pl.Float64,
        "close_after_days_median": pl.Float64,
    }
)
MIN_ERA_MARKS = 3  # an era needs this many marks on each side of a change
MIN_ERA_CHANGE = 0.15  # and medians at least this far apart (relative), and a day


def policy_eras(marks: pl.DataFrame) -> list[list[int]]:
    """Split one bot's marks (in time order) into eras of different thresholds: binary
    segmentation on the median days idle before a mark (the mark decides the era; a close after
    a change of policy may already follow the new one), else on the days from mark to close;
    a split needs MIN_ERA_MARKS marks on each side and a median that moved by a day and 15%."""
    for column in ("inactive_days", "close_after_days"):
        eras = _segments(marks[column].fill_null(float("nan")).to_numpy())
        if len(eras) > 1:
            return eras
    return [list(range(marks.height))] if marks.height else []


def _segments(series: np.ndarray) -> list[list[int]]:
    def cost(values: np.ndarray) -> float:
        values = values[~np.isnan(values)]
        return float(np.abs(values - np.median(values)).sum()) if values.size else 0.0

    def moved(a: np.ndarray, b: np.ndarray) -> bool:
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if a.size < MIN_ERA_MARKS or b.size < MIN_ERA_MARKS:
            return False
        ma, mb = float(np.median(a)), float(np.median(b))
        return abs(ma - mb) >= max(1.0, MIN_ERA_CHANGE * max(ma, mb))

    def split(lo: int, hi: int) -> list[list[int]]:
        best, best_cost = None, cost(series[lo:hi])
        for k in range(lo + 1, hi):
            total = cost(series[lo:k]) + cost(series[k:hi])
            if total < best_cost and moved(series[lo:k], series[k:hi]):
                best, best_cost = k, total
        if best is None:
            return [list(range(lo, hi))]
        return split(lo, best) + split(best, hi)

    return split(0, len(series)) if len(series) else []


def _median(values: pl.Series) -> float | None:
    return _quantile(values, 0.5)


def _quantile(values: pl.Series, q: float) -> float | None:
    known = values.drop_nulls().to_numpy()
    return round(float(np.quantile(known, q)), 2) if known.size else None


def stale_policy(marks: pl.DataFrame) -> pl.DataFrame:
    """Per repository and stale bot: how many issues it marked, the thresholds it applied
    (median and quartiles), what became of the marks, and the eras of its thresholds."""
    rows = []
    for (repo, bot), part in marks.sort("marked_at").group_by(["repo", "bot"], maintain_order=True):
        outcome = part["outcome"].value_counts()
        counts = dict(zip(outcome["outcome"].to_list(), outcome["count"].to_list(), strict=True))
        eras = [
            {
                "era": k + 1,
                "start": part["marked_at"][indices[0]],
                "end": part["marked_at"][indices[-1]],
                "n_marked": len(indices),
                "mark_after_days_median": _median(part["inactive_days"][indices]),
                "close_after_days_median": _median(part["close_after_days"][indices]),
            }
            for k, indices in enumerate(policy_eras(part))
        ]
        rows.append(
            {
                "repo": repo,
                "bot": bot,
                "stale_labels": sorted(set(part["label"].to_list())),
                "n_marked": part.height,
                "n_closed_by_bot": counts.get("closed_by_bot", 0),
                "n_closed_by_other": counts.get("closed_by_other", 0),
                "n_unmarked": counts.get("unmarked_after_reply", 0),
                "n_unmarked_otherwise": counts.get("unmarked_otherwise", 0),
                "n_still_marked": counts.get("still_marked", 0),
                "n_reopened_after_close": int(part["reopened_after_close"].sum()),
                "mark_after_days_median": _median(part["inactive_days"]),
                "mark_after_days_p25": _quantile(part["inactive_days"], 0.25),
                "mark_after_days_p75": _quantile(part["inactive_days"], 0.75),
                "close_after_days_median": _median(part["close_after_days"]),
                "close_after_days_p25": _quantile(part["close_after_days"], 0.25),
                "close_after_days_p75": _quantile(part["close_after_days"], 0.75),
                "first_mark": part["marked_at"].min(),
                "last_mark": part["marked_at"].max(),
                "n_eras": len(eras),
                "eras": eras,
            }
        )
    return pl.DataFrame(rows, schema=POLICY_SCHEMA).sort("repo", "bot")


POLICY_SCHEMA = {
    "repo": pl.String,
    "bot": pl.String,
    "stale_labels": pl.List(pl.String),
    "n_marked": pl.Int64,
    "n_closed_by_bot": pl.Int64,
    "n_closed_by_other": pl.Int64,
    "n_unmarked": pl.Int64,
    "n_unmarked_otherwise": pl.Int64,
    "n_still_marked": pl.Int64,
    "n_reopened_after_close": pl.Int64,
    "mark_after_days_median": pl.Float64,
    "mark_after_days_p25": pl.Float64,
    "mark_after_days_p75": pl.Float64,
    "close_after_days_median": pl.Float64,
    "close_after_days_p25": pl.Float64,
    "close_after_days_p75": pl.Float64,
    "first_mark": pl.Datetime("us"),
    "last_mark": pl.Datetime("us"),
    "n_eras": pl.Int64,
    "eras": pl.List(ERA_SCHEMA),
}


# ------------------------------------------------------------------------------ bot_reactions


def bot_reactions(
    data: Interactions, actions: pl.DataFrame, lexicon: FrictionLexicon
) -> pl.DataFrame:
    """For each bot post or action, the next human comment in the thread (within the lexicon's
    reply window): latency, whether the issue's author wrote it, its friction markers; and the
    reactions people gave the bot's comment."""
    authors = data.issues.select("repo", "number", pl.col("author_login").alias("issue_author"))
    comments = data.posts.filter(pl.col("kind") == "comment")
    replies = (
        comments.filter(~_is_bot(data, "author_login"))
        .select(
            "repo",
            "number",
            pl.col("created_at").alias("reply_at"),
            pl.col("comment_id").alias("reply_comment_id"),
            pl.col("author_login").alias("reply_login"),
            pl.col("body").alias("reply_body"),
            pl.col("html_url").alias("reply_url"),
        )
        .sort("reply_at")
    )
    reactions = comments.select(
        "repo",
        "comment_id",
        "reactions_total",
        "reactions_plus1",
        "reactions_minus1",
        "reactions_confused",
        "reactions_heart",
    )
    window = dt.timedelta(days=lexicon.reply_window_days)
    frame = (
        actions.sort("created_at")
        .join_asof(
            replies,
            left_on="created_at",
            right_on="reply_at",
            by=["repo", "number"],
            strategy="forward",
            allow_exact_matches=False,
        )
        .with_columns(
            pl.when(pl.col("reply_at") - pl.col("created_at") <= window)
            .then(pl.col("reply_at"))
            .alias("in_window")
        )
        .with_columns(
            [
                pl.when(pl.col("in_window").is_not_null()).then(pl.col(name)).alias(name)
                for name in (
                    "reply_at",
                    "reply_comment_id",
                    "reply_login",
                    "reply_body",
                    "reply_url",
                )
            ]
        )
        .join(authors, on=["repo", "number"], how="left")
        .join(reactions, on=["repo", "comment_id"], how="left")
    )
    markers = [lexicon.markers_in(body) for body in frame["reply_body"].to_list()]
    return (
        frame.with_columns(
            pl.Series("friction_markers", markers, dtype=pl.List(pl.String)),
            ((pl.col("reply_at") - pl.col("created_at")).dt.total_seconds() / 3600.0).alias(
                "reply_latency_hours"
            ),
            (pl.col("reply_login") == pl.col("issue_author")).alias("reply_by_author"),
            pl.col("reply_body").str.slice(0, 280).alias("reply_snippet"),
        )
        .with_columns((pl.col("friction_markers").list.len() > 0).alias("friction"))
        .select(
            "repo",
            "number",
            "bot",
            "action",
            "created_at",
            "comment_id",
            "event_id",
            "reply_comment_id",
            "reply_at",
            "reply_latency_hours",
            "reply_by_author",
            "friction",
            "friction_markers",
            "reply_snippet",
            "reply_url",
            "reactions_total",
            "reactions_plus1",
            "reactions_minus1",
            "reactions_confused",
            "reactions_heart",
        )
        .sort("repo", "number", "created_at", "bot", "action")
    )


def reaction_summary(reactions: pl.DataFrame) -> pl.DataFrame:
    """Per bot: actions, reply rate, friction rate among replies, thumbs-down and confused."""
    return (
        reactions.group_by("bot")
        .agg(
            pl.len().alias("actions"),
            pl.col("reply_at").is_not_null().sum().alias("replied"),
            pl.col("friction").sum().alias("friction"),
            pl.col("reactions_minus1").fill_null(0).sum().alias("thumbs_down"),
            pl.col("reactions_confused").fill_null(0).sum().alias("confused"),
            pl.col("reactions_plus1").fill_null(0).sum().alias("thumbs_up"),
        )
        .with_columns(
            (100.0 * pl.col("replied") / pl.col("actions")).round(1).alias("reply_rate_pct"),
            (100.0 * pl.col("friction") / pl.col("replied").clip(1))
            .round(1)
            .alias("friction_rate_pct"),
        )
        .sort("actions", descending=True)
    )


def friction_quotes(reactions: pl.DataFrame, per_bot: int = 3) -> pl.DataFrame:
    """Example replies with friction, with links: the first few per bot."""
    return (
        reactions.filter(pl.col("friction"))
        .sort("bot", "reply_at")
        .group_by("bot", maintain_order=True)
        .head(per_bot)
        .select(
            "bot",
            "repo",
            "number",
            pl.col("friction_markers").list.join(", ").alias("markers"),
            "reply_snippet",
            "reply_url",
        )
    )


# ------------------------------------------------------------------------------ bot_timeline


def bot_timeline(data: Interactions, actions: pl.DataFrame) -> pl.DataFrame:
    """Per repository, bot and month: posts, other actions, threads touched; the bot's first
    and last activity in the repository; and the share of that year's issues it touched."""
    dated = actions.with_columns(
        pl.col("created_at").dt.truncate("1mo").dt.date().alias("month"),
        pl.col("action").is_in(POST_ACTIONS).alias("is_post"),
    )
    monthly = dated.group_by("repo", "bot", "month").agg(
        pl.col("is_post").sum().alias("posts"),
        (~pl.col("is_post")).sum().alias("actions"),
        pl.col("number").n_unique().alias("threads"),
    )
    span = actions.group_by("repo", "bot").agg(
        pl.col("created_at").min().alias("first_activity"),
        pl.col("created_at").max().alias("last_activity"),
    )
    years = data.issues.with_columns(pl.col("created_at").dt.year().alias("year"))
    per_year = years.group_by("repo", "year").agg(pl.len().alias("year_issues"))
    touched = (
        actions.select("repo", "number", "bot")
        .unique()
        .join(years.select("repo", "number", "year"), on=["repo", "number"])
        .group_by("repo", "bot", "year")
        .agg(pl.len().alias("year_touched"))
        .join(per_year, on=["repo", "year"])
        .with_columns(
            (100.0 * pl.col("year_touched") / pl.col("year_issues"))
            .round(2)
            .alias("year_issue_share_pct")
        )
    )
    return (
        monthly.join(span, on=["repo", "bot"])
        .with_columns(pl.col("month").dt.year().alias("year"))
        .join(
            touched.select("repo", "bot", "year", "year_issue_share_pct"),
            on=["repo", "bot", "year"],
            how="left",
        )
        .with_columns(pl.col("year_issue_share_pct").fill_null(0.0))
        .select(
            "repo",
            "bot",
            "month",
            "posts",
            "actions",
            "threads",
            "first_activity",
            "last_activity",
            "year",
            "year_issue_share_pct",
        )
        .sort("repo", "bot", "month")
    )


# ------------------------------------------------------------------------------ bot_effects


EFFECT_SCHEMA = {
    "repo": pl.String,
    "bot": pl.String,
    "analysis": pl.String,
    "metric": pl.String,
    "term": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "n": pl.Int64,
    "scale": pl.String,
    "interpretation": pl.String,
}
METRICS = ("first_human_response_hours", "close_days")
MIN_MONTHS = 4  # months with data on each side of an adoption
MIN_THREADS = 5


def thread_outcomes(data: Interactions, actions: pl.DataFrame) -> pl.DataFrame:
    """Per thread: hours to the first comment by a person other than its author, days to its
    (first) close, and whether a bot touched it."""
    first_response = (
        data.posts.filter((pl.col("kind") == "comment") & ~_is_bot(data, "author_login"))
        .join(
            data.issues.select("repo", "number", pl.col("author_login").alias("author")),
            on=["repo", "number"],
        )
        .filter(pl.col("author_login") != pl.col("author"))
        .group_by("repo", "number")
        .agg(pl.col("created_at").min().alias("first_response_at"))
    )
    touched = actions.select("repo", "number").unique().with_columns(pl.lit(True).alias("touched"))
    return (
        data.issues.join(first_response, on=["repo", "number"], how="left")
        .join(touched, on=["repo", "number"], how="left")
        .with_columns(
            pl.col("touched").fill_null(False),
            (
                (pl.col("first_response_at") - pl.col("created_at")).dt.total_seconds() / 3600.0
            ).alias("first_human_response_hours"),
            ((pl.col("closed_at") - pl.col("created_at")).dt.total_seconds() / DAY_S).alias(
                "close_days"
            ),
        )
        .select(
            "repo", "number", "created_at", "touched", "first_human_response_hours", "close_days"
        )
    )


def bot_effects(data: Interactions, actions: pl.DataFrame) -> pl.DataFrame:
    """Threads a bot touched against the others (ratio of geometric means from an OLS on
    log1p(metric), 95% CI), and each bot's adoption as an interrupted time series (segmented
    OLS on the monthly mean of log1p(metric) of the threads opened that month, HC3 errors):
    associations, not causes."""
    outcomes = thread_outcomes(data, actions)
    rows = []
    for repo in sorted(outcomes["repo"].unique().to_list()):
        part = outcomes.filter(pl.col("repo") == repo)
        for metric in METRICS:
            rows += _touched_rows(repo, part, metric)
        firsts = (
            actions.filter(pl.col("repo") == repo)
            .group_by("bot")
            .agg(pl.col("created_at").min().alias("adopted_at"))
        )
        for bot, adopted_at in firsts.sort("bot").iter_rows():
            for metric in METRICS:
                rows += _adoption_rows(repo, bot, adopted_at, part, metric)
    return pl.DataFrame(rows, schema=EFFECT_SCHEMA)


def _effect(repo, bot, analysis, metric, term, estimate, low, high, p, n, scale) -> dict:
    return {
        "repo": repo,
        "bot": bot,
        "analysis": analysis,
        "metric": metric,
        "term": term,
        "estimate": _finite(estimate),
        "ci_low": _finite(low),
        "ci_high": _finite(high),
        "p_value": _finite(p),
        "n": n,
        "scale": scale,
        "interpretation": ASSOCIATION,
    }


def _finite(value) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else round(float(value), 4)


def _touched_rows(repo: str, part: pl.DataFrame, metric: str) -> list[dict]:
    import statsmodels.api as sm

    known = part.filter(pl.col(metric).is_not_null() & (pl.col(metric) >= 0))
    groups = known.group_by("touched").agg(pl.col(metric).median().alias("median"), pl.len())
    rows = [
        _effect(
            repo,
            None,
            "touched_vs_untouched",
            metric,
            "median_touched" if touched else "median_untouched",
            median,
            None,
            None,
            None,
            n,
            "hours" if "hours" in metric else "days",
        )
        for touched, median, n in groups.sort("touched").iter_rows()
    ]
    if groups.height < 2 or min(groups["len"].to_list()) < MIN_THREADS:
        return rows
    y = np.log1p(known[metric].to_numpy())
    x = sm.add_constant(known["touched"].cast(pl.Float64).to_numpy())
    fit = sm.OLS(y, x).fit(cov_type="HC3")
    low, high = fit.conf_int()[1]
    rows.append(
        _effect(
            repo,
            None,
            "touched_vs_untouched",
            metric,
            "ratio_touched_to_untouched",
            math.exp(fit.params[1]),
            math.exp(low),
            math.exp(high),
            fit.pvalues[1],
            known.height,
            "ratio of geometric means of (1 + metric)",
        )
    )
    return rows


def _adoption_rows(
    repo: str, bot: str, adopted_at: dt.datetime, part: pl.DataFrame, metric: str
) -> list[dict]:
    import statsmodels.api as sm

    monthly = (
        part.filter(pl.col(metric).is_not_null() & (pl.col(metric) >= 0))
        .with_columns(pl.col("created_at").dt.truncate("1mo").alias("month"))
        .group_by("month")
        .agg(pl.col(metric).log1p().mean().alias("y"), pl.len().alias("threads"))
        .sort("month")
    )
    adoption = dt.datetime(adopted_at.year, adopted_at.month, 1)
    months = monthly["month"].to_list()
    index = np.array([(m.year - adoption.year) * 12 + m.month - adoption.month for m in months])
    after = (index >= 0).astype(float)
    if (after == 0).sum() < MIN_MONTHS or (after == 1).sum() < MIN_MONTHS:
        return []
    x = np.column_stack([np.ones_like(after), index, after, after * index])
    fit = sm.OLS(monthly["y"].to_numpy(), x).fit(cov_type="HC3")
    intervals = fit.conf_int()
    n = int(monthly["threads"].sum())
    return [
        _effect(
            repo,
            bot,
            "adoption",
            metric,
            term,
            math.exp(fit.params[k]),
            math.exp(intervals[k][0]),
            math.exp(intervals[k][1]),
            fit.pvalues[k],
            n,
            "ratio of geometric means of (1 + metric)" + (" per month" if k != 2 else ""),
        )
        for k, term in ((1, "pre_trend"), (2, "level_change"), (3, "slope_change"))
    ]
