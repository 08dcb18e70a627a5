"""Stage 5, interactions (beyond the paper): bot actions and who closed what, stale thresholds,
human reactions to bots, adoption timelines and observational effects (see
`lib/interactions.py`)."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md, written
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib import interactions as ix
from botstudy_assets.lib.reference_data import load_friction_lexicon

GROUP = "interactions"
# The raw tables, as `raw_snapshot` published them to the DuckDB file.
RAW = ["raw_snapshot", "bot_accounts"]


def _data(study: StudyResource, warehouse: WarehouseResource) -> ix.Interactions:
    return ix.load_interactions(warehouse.get(), study.get())


@dg.asset(group_name=GROUP, deps=RAW, kinds={"polars", "duckdb"})
def bot_actions(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per thing a bot did: opened a thread, commented, labelled, closed, reopened,
    locked, assigned, … (bots are those of `bot_accounts`)."""
    actions = ix.bot_actions(_data(study, warehouse))
    per_action = actions.group_by("bot", "action").len().sort("len", descending=True)
    return written(warehouse.get(), "bot_actions", actions, per_bot_action=md(per_action.head(30)))


@dg.asset(group_name=GROUP, deps=RAW, kinds={"polars", "duckdb"})
def issue_closures(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Who closed each issue (a bot, its author, someone else), how (state_reason) and whether
    it was reopened afterwards."""
    closures = ix.issue_closures(_data(study, warehouse))
    return written(
        warehouse.get(), "issue_closures", closures, who_closed=md(ix.who_closed(closures))
    )


@dg.asset(group_name=GROUP, deps=RAW, kinds={"polars", "duckdb"})
def stale_policy(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Per repository and stale bot (lesson 7): marks, days of inactivity before a mark (from
    the last human post or event), days from mark to close, marks lifted by replies, reopened
    closes, and the eras of its thresholds."""
    lexicon = load_friction_lexicon(study.get().friction_file)
    policy = ix.stale_policy(ix.stale_marks(_data(study, warehouse), lexicon))
    shown = policy.drop("eras", "stale_labels")
    eras = policy.select("repo", "bot", "eras").explode("eras").unnest("eras")
    return written(
        warehouse.get(), "stale_policy", policy, policy=md(shown), eras=md(eras.drop_nulls("era"))
    )


@dg.asset(group_name=GROUP, deps=[*RAW, "bot_actions"], kinds={"polars", "duckdb"})
def bot_reactions(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """For each bot post or action (lesson 6): the next human comment, its latency, whether the
    issue's author wrote it, friction markers (data/friction_lexicon.yaml), and the reactions to
    the bot's comment."""
    settings, db = study.get(), warehouse.get()
    lexicon = load_friction_lexicon(settings.friction_file)
    reactions = ix.bot_reactions(
        _data(study, warehouse), db.query("SELECT * FROM bot_actions"), lexicon
    )
    return written(
        db,
        "bot_reactions",
        reactions,
        lexicon_version=lexicon.version,
        per_bot=md(ix.reaction_summary(reactions)),
        quotes=md(ix.friction_quotes(reactions)),
    )


@dg.asset(group_name=GROUP, deps=[*RAW, "bot_actions"], kinds={"polars", "duckdb"})
def bot_timeline(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Per repository, bot and month: posts, actions and threads touched, first and last
    activity, and the share of the year's issues the bot touched (adoption and replacement)."""
    db = warehouse.get()
    timeline = ix.bot_timeline(_data(study, warehouse), db.query("SELECT * FROM bot_actions"))
    spans = timeline.group_by("repo", "bot").agg(
        pl.col("first_activity").min(), pl.col("last_activity").max()
    )
    return written(db, "bot_timeline", timeline, spans=md(spans.sort("repo", "first_activity")))


@dg.asset(group_name=GROUP, deps=[*RAW, "bot_actions"], kinds={"statsmodels", "duckdb"})
def bot_effects(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Time to first human response and to close: threads a bot touched against the others,
    and around each bot's adoption (segmented regression, 95% CIs). Associations, not causes."""
    db = warehouse.get()
    effects = ix.bot_effects(_data(study, warehouse), db.query("SELECT * FROM bot_actions"))
    return written(db, "bot_effects", effects, interpretation=ix.ASSOCIATION)
