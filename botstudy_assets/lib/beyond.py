"""The report's section "Beyond the paper": the bot timeline, stale thresholds per bot and era,
friction per bot, quotes, and who closed what (figures with matplotlib)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .figures import pyplot, save_figure
from .interactions import ASSOCIATION, friction_quotes, reaction_summary, who_closed
from .markdown import md_table

FIGURE_TIMELINE = "Beyond: bot timeline"
FIGURE_STALE = "Beyond: stale thresholds"
FIGURE_FRICTION = "Beyond: friction per bot"
BEYOND_SOURCES = {
    FIGURE_TIMELINE: "botstudy's bot_timeline (posts and issue events of bot accounts)",
    FIGURE_STALE: "botstudy's stale_policy (eras of each stale bot, from issue events)",
    FIGURE_FRICTION: "botstudy's bot_reactions (the next human comment after a bot's post)",
}


def plot_timeline(
    timeline: pl.DataFrame, path: Path, top: int = 12, footnote: str | None = None
) -> Path:
    """Monthly posts and actions of the busiest bots, one line each (adoption, replacement)."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(9, 5), dpi=110)
    busiest = (
        timeline.group_by("bot")
        .agg((pl.col("posts") + pl.col("actions")).sum().alias("n"))
        .sort("n", descending=True)
        .head(top)["bot"]
        .to_list()
    )
    for bot in busiest:
        part = (
            timeline.filter(pl.col("bot") == bot)
            .group_by("month")
            .agg((pl.col("posts") + pl.col("actions")).sum().alias("n"))
            .sort("month")
        )
        axis.plot(part["month"].to_list(), part["n"].to_list(), marker=".", label=bot)
    axis.set_ylabel("posts and actions per month")
    axis.set_title("Bot activity over time (all studied repositories)")
    if busiest:
        axis.legend(fontsize=7, ncol=2, loc="upper left")
    figure.autofmt_xdate()
    return save_figure(figure, path, footnote)


def stale_eras(policy: pl.DataFrame) -> pl.DataFrame:
    """One row per (repo, stale bot, era) with its thresholds."""
    if policy.is_empty():
        return pl.DataFrame()
    return (
        policy.select("repo", "bot", "eras")
        .explode("eras")
        .unnest("eras")
        .drop_nulls("era")
        .sort("repo", "bot", "era")
    )


def plot_stale(policy: pl.DataFrame, path: Path, footnote: str | None = None) -> Path:
    """Median days idle before the mark and from mark to close, per stale bot and era."""
    plt = pyplot()
    eras = stale_eras(policy)
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    if eras.height:
        labels = [
            f"{row['bot']} ({row['repo'].split('/')[-1]}) era {row['era']}"
            for row in eras.iter_rows(named=True)
        ]
        positions = list(range(len(labels)))
        axis.barh(
            [p + 0.2 for p in positions],
            eras["mark_after_days_median"].fill_null(0).to_list(),
            height=0.4,
            label="idle days before the mark",
            color="#dd6b20",
        )
        axis.barh(
            [p - 0.2 for p in positions],
            eras["close_after_days_median"].fill_null(0).to_list(),
            height=0.4,
            label="days from mark to close",
            color="#2b6cb0",
        )
        axis.set_yticks(positions, labels, fontsize=8)
        axis.legend(loc="lower right")
    axis.set_xlabel("days (median)")
    axis.set_title("Stale bots: inferred thresholds per era (lesson 7)")
    return save_figure(figure, path, footnote)


def plot_friction(
    summary: pl.DataFrame, path: Path, top: int = 12, footnote: str | None = None
) -> Path:
    """Per bot: share of its posts and actions that got a human reply, and of replies with
    friction markers."""
    plt = pyplot()
    shown = summary.head(top)
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    positions = list(range(shown.height))
    axis.barh(
        [p + 0.2 for p in positions],
        shown["reply_rate_pct"].to_list(),
        height=0.4,
        label="replied to (%)",
        color="#a0aec0",
    )
    axis.barh(
        [p - 0.2 for p in positions],
        shown["friction_rate_pct"].to_list(),
        height=0.4,
        label="replies with friction (%)",
        color="#c53030",
    )
    axis.set_yticks(positions, shown["bot"].to_list(), fontsize=8)
    axis.set_xlabel("%")
    axis.set_title("Human replies to bots and friction (lesson 6)")
    if shown.height:
        axis.legend(loc="lower right")
    return save_figure(figure, path, footnote)


def write_figures(
    out: Path,
    timeline: pl.DataFrame,
    policy: pl.DataFrame,
    reactions: pl.DataFrame,
    notes: dict[str, str] | None = None,
) -> dict[str, str]:
    """The section's figures by name; `notes` (by figure name) are printed under them."""
    notes = notes or {}
    return {
        FIGURE_TIMELINE: str(
            plot_timeline(
                timeline, out / "beyond_timeline.png", footnote=notes.get(FIGURE_TIMELINE)
            )
        ),
        FIGURE_STALE: str(
            plot_stale(policy, out / "beyond_stale_thresholds.png", notes.get(FIGURE_STALE))
        ),
        FIGURE_FRICTION: str(
            plot_friction(
                reaction_summary(reactions),
                out / "beyond_friction.png",
                footnote=notes.get(FIGURE_FRICTION),
            )
        ),
    }


def render_section(
    timeline: pl.DataFrame,
    policy: pl.DataFrame,
    reactions: pl.DataFrame,
    closures: pl.DataFrame,
    effects: pl.DataFrame,
    figures: dict[str, str],
    notes: dict[str, str] | None = None,
) -> str:
    spans = (
        timeline.group_by("repo", "bot")
        .agg(
            pl.col("first_activity").min().dt.date(),
            pl.col("last_activity").max().dt.date(),
            (pl.col("posts") + pl.col("actions")).sum().alias("posts_and_actions"),
        )
        .sort("repo", "first_activity")
    )
    shown_policy = (
        policy.select(
            "repo",
            "bot",
            "n_marked",
            "n_closed_by_bot",
            "n_unmarked",
            "n_still_marked",
            "n_reopened_after_close",
            "mark_after_days_median",
            "close_after_days_median",
            "n_eras",
        )
        if policy.height
        else policy
    )
    effect_rows = effects.filter(
        pl.col("term").is_in(["ratio_touched_to_untouched", "level_change"])
    ).select("repo", "bot", "analysis", "metric", "term", "estimate", "ci_low", "ci_high", "n")
    notes = notes or {}

    def image(name: str) -> str:
        shown = f"![{name}]({Path(figures[name]).name})"
        return shown + (f"\n\n*{notes[name].replace(chr(10), ' ')}*" if name in notes else "")

    return "\n".join(
        [
            "## Beyond the paper",
            "",
            "What the study's lessons could not measure, from issue events, posts and "
            f"reactions. Everything here is observational: an {ASSOCIATION}.",
            "",
            "### Adoption and replacement (bot timeline)",
            "",
            image(FIGURE_TIMELINE),
            "",
            md_table(spans),
            "",
            "### Stale bots (lesson 7)",
            "",
            "Inactivity before a mark is measured from the last human post or event; eras are "
            "periods with different thresholds.",
            "",
            image(FIGURE_STALE),
            "",
            md_table(shown_policy),
            "",
            md_table(stale_eras(policy)),
            "",
            "### Human replies and friction (lesson 6)",
            "",
            image(FIGURE_FRICTION),
            "",
            md_table(reaction_summary(reactions)),
            "",
            "Quotes (the next human post after a bot's post or action):",
            "",
            md_table(friction_quotes(reactions), max_text=200),
            "",
            "### Who closed what",
            "",
            md_table(who_closed(closures)),
            "",
            "### Time to response and to close",
            "",
            md_table(effect_rows),
            "",
        ]
    )
