"""Table I, Figure 2 and the study report, from the final labels and agreement metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from . import paper
from .beyond import BEYOND_SOURCES, render_section, write_figures
from .detection import UNNAMED_BOT
from .figures import DataVersion, note, pyplot, save_figure
from .labelfiles import AUTO
from .markdown import MISSING, md_table, thread_link
from .reference_data import CATEGORIES
from .settings import Study, library_name

SUMMARY_SCHEMA = {
    "category": pl.String,
    "label": pl.String,
    "bots": pl.List(pl.String),
    "libraries": pl.List(pl.String),
    "issue_count": pl.Int64,
    "issue_proportion_pct": pl.Float64,
    "paper_issue_count": pl.Int64,
    "paper_proportion_pct": pl.Float64,
}


def summarize_categories(
    final: pl.DataFrame, auto: pl.DataFrame, tps: pl.DataFrame, labels: dict[str, str]
) -> pl.DataFrame:
    """Table I: per category, the bots seen doing it, the libraries, issue count and share."""
    n_issues = final.select("repo", "number").n_unique()
    coded = final.filter(pl.col("category").is_not_null())
    # The bot credited with an (issue, category): the auto coder's evidence, else the bots the
    # validation found in that thread.
    credited = (
        coded.join(
            auto.select("repo", "number", "category", "bot"),
            on=["repo", "number", "category"],
            how="left",
        )
        .join(tps.select("repo", "number", "bots"), on=["repo", "number"], how="left")
        .with_columns(
            pl.when(pl.col("bot").is_not_null())
            .then(pl.concat_list(pl.col("bot")))
            .otherwise(pl.col("bots"))
            .alias("credited")
        )
    )
    rows = []
    for category in CATEGORIES:
        part = credited.filter(pl.col("category") == category)
        count = part.select("repo", "number").n_unique()
        bots = sorted(
            {
                bot
                for entry in part["credited"].to_list()
                if entry
                for bot in entry
                if bot and bot != UNNAMED_BOT
            }
        )
        rows.append(
            {
                "category": category,
                "label": labels.get(category, category),
                "bots": bots,
                "libraries": sorted({library_name(repo) for repo in part["repo"].to_list()}),
                "issue_count": count,
                "issue_proportion_pct": round(100.0 * count / n_issues, 1) if n_issues else 0.0,
                "paper_issue_count": paper.issue_count(category),
                "paper_proportion_pct": paper.PROPORTIONS[category],
            }
        )
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA).sort("issue_count", descending=True)


# ------------------------------------------------------------------------------------- figures

FIGURE_CATEGORIES = "Figure 2: categories"
FIGURE_BY_LIBRARY = "Figure 2 by library"
FIGURE_SOURCES = {
    FIGURE_CATEGORIES: "botstudy's category_summary (Table I); Rahman et al., Table I and Fig. 2",
    FIGURE_BY_LIBRARY: "botstudy's final_labels, by library of raw_issues",
}


def figure_order(summary: pl.DataFrame) -> list[tuple[str, str]]:
    """(category, label) as both Figure 2 plots draw them, bottom to top: by the paper's share,
    so the largest categories are on top."""
    ordered = summary.sort("paper_proportion_pct", "category", descending=[False, True])
    return list(zip(ordered["category"].to_list(), ordered["label"].to_list(), strict=True))


def plot_categories(summary: pl.DataFrame, path: Path, footnote: str | None = None) -> Path:
    """Figure 2: share of bot-related issues per category, ours beside the paper's."""
    plt = pyplot()
    order = figure_order(summary)
    by_category = {row["category"]: row for row in summary.iter_rows(named=True)}
    positions = range(len(order))
    figure, axis = plt.subplots(figsize=(8, 5), dpi=110)
    axis.barh(
        [p + 0.2 for p in positions],
        [by_category[category]["issue_proportion_pct"] for category, _ in order],
        height=0.4,
        label="botstudy",
        color="#2b6cb0",
    )
    axis.barh(
        [p - 0.2 for p in positions],
        [by_category[category]["paper_proportion_pct"] for category, _ in order],
        height=0.4,
        label="Rahman et al. (paper)",
        color="#a0aec0",
    )
    axis.set_yticks(list(positions), [label for _, label in order])
    axis.set_xlabel("% of bot-related issues")
    axis.set_title("Figure 2: categories of automated work")
    axis.legend(loc="lower right")
    return save_figure(figure, path, footnote)


def plot_by_library(
    counts: pl.DataFrame, summary: pl.DataFrame, path: Path, footnote: str | None = None
) -> Path:
    """Figure 2, per library: issues per category, one bar segment per library; categories
    labelled and ordered as in plot_categories."""
    plt = pyplot()
    order = figure_order(summary)
    libraries = sorted(counts["library"].unique().to_list()) if counts.height else []
    figure, axis = plt.subplots(figsize=(8, 5), dpi=110)
    positions = list(range(len(order)))
    left = [0] * len(order)
    for library in libraries:
        part = dict(
            counts.filter(pl.col("library") == library).select("category", "issues").iter_rows()
        )
        values = [part.get(category, 0) for category, _ in order]
        axis.barh(positions, values, left=left, label=library)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axis.set_yticks(positions, [label for _, label in order])
    axis.set_xlabel("bot-related issues")
    axis.set_title("Figure 2 by library")
    if libraries:
        axis.legend(loc="lower right")
    return save_figure(figure, path, footnote)


def _fmt(value) -> str:
    return MISSING if value is None else f"{value:.2f}"


def caption(name: str, path: str, footnote: str | None) -> list[str]:
    """A figure in the report with its note under it."""
    image = [f"![{name}]({Path(path).name})", ""]
    return [*image, f"*{footnote.replace(chr(10), ' ')}*", ""] if footnote else image


def _rounded(frame: pl.DataFrame, digits: int = 3) -> pl.DataFrame:
    return frame.with_columns(pl.col("value", "ci_low", "ci_high").round(digits))


def render_report(
    study: Study,
    funnel: pl.DataFrame,
    summary: pl.DataFrame,
    agreement: pl.DataFrame,
    decisions: pl.DataFrame,
    figures: dict[str, str],
    notes: dict[str, str] | None = None,
    version: DataVersion | None = None,
) -> str:
    """The report's markdown; `notes` go under the figures of the same name, `version` (the
    data version) under the title."""
    notes = notes or {}
    source, until = study.source, study.until
    keyword_all = funnel.filter((pl.col("library") == "All") & (pl.col("channel") == "keyword"))
    ours = keyword_all.row(0, named=True) if keyword_all.height else {}
    pooled = agreement.filter(pl.col("category").is_null()).select(
        "rater_a", "rater_b", "metric", "value", "ci_low", "ci_high", "n", "interpretation"
    )
    per_category = agreement.filter(
        pl.col("category").is_not_null() & (pl.col("metric") == "cohen_kappa")
    ).select("rater_a", "rater_b", "category", "value", "ci_low", "ci_high", "n")
    table1 = summary.select(
        "label",
        "bots",
        "libraries",
        "issue_count",
        "issue_proportion_pct",
        "paper_issue_count",
        "paper_proportion_pct",
    )
    human_pairs = pooled.filter(
        (pl.col("metric") == "cohen_kappa")
        & (pl.col("rater_a") != AUTO)
        & (pl.col("rater_b") != AUTO)
    )
    kappa_line = (
        ", ".join(
            f"{r['rater_a']}–{r['rater_b']} κ = {_fmt(r['value'])} "
            f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
            for r in human_pairs.iter_rows(named=True)
        )
        or "no human rater pair"
    )
    basis = decisions.group_by("basis", "is_true_positive").len().sort("len", descending=True)
    lines = [
        "# botstudy report: bots in deep-learning libraries' issue trackers",
        "",
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC from **{source}** data of "
        f"{', '.join(study.repo_list())}"
        + (f", issues created before {until.date()}" if until else "")
        + ".",
    ]
    if version is not None:
        lines += ["", f"Data version: {version.text()}."]
    if source == "sample":
        lines += [
            "",
            "> **Synthetic data.** These numbers come from botstudy's embedded synthetic sample, "
            "made to exercise every stage; they say nothing about the real repositories. "
            "Set `GITHUB_TOKEN` to mine GitHub.",
        ]
    lines += [
        "",
        "## The funnel",
        "",
        f"Paper: {paper.FUNNEL_LINE}. botstudy (keyword channel, all libraries): "
        f"{ours.get('issues', 0):,} → {ours.get('candidates', 0):,} → "
        f"{ours.get('true_positives', 0):,}.",
        "",
        md_table(funnel),
        "",
        "## Table I: categories of automated work",
        "",
        md_table(table1),
        "",
        "## Figure 2",
        "",
        *[line for name, path in figures.items() for line in caption(name, path, notes.get(name))],
        "## Inter-rater agreement",
        "",
        f"Paper: Cohen's κ = {paper.KAPPA} between two raters. botstudy: {kappa_line}.",
        "",
        md_table(_rounded(pooled)),
        "",
        "### Cohen's kappa per category",
        "",
        md_table(_rounded(per_category)),
        "",
        "## How candidates were decided",
        "",
        md_table(basis),
        "",
    ]
    return "\n".join(lines)


DISAGREEMENTS_IN_REPORT = 40  # per rater; the table `coder_disagreements` holds them all


def render_disagreements(confusion: pl.DataFrame, disagreements: pl.DataFrame) -> str:
    """Where the automatic coder and each human rater differ, per category, and which threads."""
    lines = ["## Where the automatic coder and the raters differ", ""]
    if confusion.is_empty():
        return "\n".join([*lines, "No human rater files: nothing to compare.", ""])
    lines += [
        "Per category, over the issues each rater coded: both gave it, only the coder "
        "(`auto_only`), only the rater (`rater_only`). An issue the coder did not find "
        "bot-related counts as coded with none. Check these threads before publishing.",
        "",
        md_table(confusion.filter((pl.col("auto_only") + pl.col("rater_only")) > 0)),
        "",
    ]
    for rater in sorted(set(disagreements["rater"].to_list())):
        part = disagreements.filter(pl.col("rater") == rater)
        shown = (
            part.head(DISAGREEMENTS_IN_REPORT)
            .with_columns(
                thread_link(),
                pl.when(pl.col("auto"))
                .then(pl.lit("coder only"))
                .otherwise(pl.lit("rater only"))
                .alias("given_by"),
            )
            .select("thread", "category", "given_by", "found_by_auto", "auto_rule")
        )
        lines += [
            f"### {rater}: {part.height} disagreements"
            + (f" (first {DISAGREEMENTS_IN_REPORT})" if part.height > shown.height else ""),
            "",
            md_table(shown, max_text=90),
            "",
        ]
    return "\n".join(lines)


def write_study_report(
    study: Study,
    funnel: pl.DataFrame,
    summary: pl.DataFrame,
    by_library: pl.DataFrame,
    agreement: pl.DataFrame,
    decisions: pl.DataFrame,
    beyond: dict[str, pl.DataFrame] | None = None,
    differences: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    version: DataVersion | None = None,
) -> tuple[Path, dict[str, str], str]:
    """Write the figures and the markdown report under the reports folder; returns the report's
    path, the figures by name and the report's text. `beyond` (the interaction tables by name)
    adds the section "Beyond the paper" with its figures; `version` (the data version) is
    printed under every figure with its sources."""
    out = study.reports_path
    out.mkdir(parents=True, exist_ok=True)
    notes = {
        name: note(sources, version) for name, sources in (FIGURE_SOURCES | BEYOND_SOURCES).items()
    }
    figures = {
        FIGURE_CATEGORIES: str(
            plot_categories(summary, out / "figure2_categories.png", notes[FIGURE_CATEGORIES])
        ),
        FIGURE_BY_LIBRARY: str(
            plot_by_library(
                by_library, summary, out / "figure2_by_library.png", notes[FIGURE_BY_LIBRARY]
            )
        ),
    }
    text = render_report(study, funnel, summary, agreement, decisions, figures, notes, version)
    if differences is not None:
        text += "\n" + render_disagreements(*differences)
    if beyond is not None:
        extra = write_figures(
            out, beyond["bot_timeline"], beyond["stale_policy"], beyond["bot_reactions"], notes
        )
        text += "\n" + render_section(
            beyond["bot_timeline"],
            beyond["stale_policy"],
            beyond["bot_reactions"],
            beyond["issue_closures"],
            beyond["bot_effects"],
            extra,
            notes,
        )
        figures |= extra
    report = out / "botstudy_report.md"
    report.write_text(text, encoding="utf-8")
    return report, figures, text
