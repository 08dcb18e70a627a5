"""Stage 4, reporting: the paper's Table I (`category_summary`), Figure 2 and the study report."""

import base64
import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from .coding import AUTO, agreement_metrics, coded_labels, final_labels
from .config import StudyConfig, library_name
from .detection import PAPER_FUNNEL, UNNAMED_BOT, bot_funnel, candidate_decisions, validated_true_positives
from .quality import Expectation, run_expectations
from .reference_data import CATEGORIES, load_codebook
from .storage import Warehouse

GROUP = "reporting"

# Table I of Rahman et al.: share of the 135 true positives per category, and kappa 0.87.
PAPER_PROPORTIONS = {
    "issue_management": 39.4, "stale": 28.1, "onboarding": 14.1, "feedback": 13.3,
    "continuous_integration": 2.2, "code_coverage": 0.7, "commit_mapping": 0.7, "license": 0.7,
    "mention": 0.7,
}
PAPER_TRUE_POSITIVES = PAPER_FUNNEL["true_positives"]
PAPER_KAPPA = 0.87

SUMMARY_SCHEMA = {
    "category": pl.String, "label": pl.String, "bots": pl.List(pl.String),
    "libraries": pl.List(pl.String), "issue_count": pl.Int64, "issue_proportion_pct": pl.Float64,
    "paper_issue_count": pl.Int64, "paper_proportion_pct": pl.Float64,
}


def summarize_categories(final: pl.DataFrame, auto: pl.DataFrame, tps: pl.DataFrame,
                         labels: dict[str, str]) -> pl.DataFrame:
    """Table I: per category, the bots seen doing it, the libraries, issue count and share."""
    n_issues = final.select("repo", "number").n_unique()
    coded = final.filter(pl.col("category").is_not_null())
    # The bot credited with an (issue, category): the auto coder's evidence, else the bots the
    # validation found in that thread.
    credited = (
        coded.join(auto.select("repo", "number", "category", "bot"), on=["repo", "number", "category"], how="left")
        .join(tps.select("repo", "number", "bots"), on=["repo", "number"], how="left")
        .with_columns(pl.when(pl.col("bot").is_not_null()).then(pl.concat_list(pl.col("bot")))
                      .otherwise(pl.col("bots")).alias("credited"))
    )
    rows = []
    for category in CATEGORIES:
        part = credited.filter(pl.col("category") == category)
        count = part.select("repo", "number").n_unique()
        bots = sorted({bot for entry in part["credited"].to_list() if entry for bot in entry
                       if bot and bot != UNNAMED_BOT})
        paper = PAPER_PROPORTIONS[category]
        rows.append({
            "category": category, "label": labels.get(category, category), "bots": bots,
            "libraries": sorted({library_name(repo) for repo in part["repo"].to_list()}),
            "issue_count": count,
            "issue_proportion_pct": round(100.0 * count / n_issues, 1) if n_issues else 0.0,
            "paper_issue_count": round(PAPER_TRUE_POSITIVES * paper / 100),
            "paper_proportion_pct": paper,
        })
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA).sort("issue_count", descending=True)


@dg.asset(group_name=GROUP, deps=[final_labels, coded_labels, validated_true_positives],
          compute_kind="polars",
          description="The paper's Table I from the final labels: category, bots, libraries, "
                      "issue count and proportion, beside the paper's own figures.")
def category_summary(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    codebook = load_codebook(study.codebook_file)
    summary = summarize_categories(
        warehouse.query("SELECT repo, number, category FROM final_labels"),
        warehouse.query("SELECT repo, number, category, bot FROM coded_labels WHERE rater = ?", [AUTO]),
        warehouse.query("SELECT repo, number, bots FROM validated_true_positives"),
        {category.name: category.label for category in codebook.categories},
    )
    warehouse.replace_table("category_summary", summary)
    shown = summary.with_columns(pl.col("bots").list.join(", "), pl.col("libraries").list.join(", "))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": summary.height,
        "table_1": dg.MetadataValue.md(shown.to_pandas().to_markdown(index=False)),
    })


@dg.asset_check(asset=category_summary, blocking=True,
                description="All nine categories, non-negative counts, proportions consistent "
                            "with counts.")
def category_summary_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query("SELECT * FROM category_summary")
    n_issues = warehouse.scalar("SELECT count(DISTINCT (repo, number)) FROM final_labels") or 0
    expected = frame.with_columns(
        (100.0 * pl.col("issue_count") / max(n_issues, 1)).round(1).alias("expected_pct"))
    inconsistent = expected.filter((pl.col("expected_pct") - pl.col("issue_proportion_pct")).abs() > 0.05)
    extra = [f"proportions inconsistent with counts over {n_issues} issues: "
             f"{inconsistent.select('category', 'issue_count', 'issue_proportion_pct').rows()}"] \
        if inconsistent.height else []
    return run_expectations("category_summary", frame.select("category", "issue_count", "issue_proportion_pct"), [
        Expectation("ExpectColumnDistinctValuesToEqualSet", column="category", value_set=list(CATEGORIES)),
        Expectation("ExpectColumnValuesToBeUnique", column="category"),
        Expectation("ExpectColumnValuesToBeBetween", column="issue_count", min_value=0),
        Expectation("ExpectColumnValuesToBeBetween", column="issue_proportion_pct", min_value=0, max_value=100),
    ], extra_failures=extra)


# ------------------------------------------------------------------------------------- figures


def plot_categories(summary: pl.DataFrame, path: Path) -> Path:
    """Figure 2: share of bot-related issues per category, ours beside the paper's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = summary.sort("paper_proportion_pct")
    labels = ordered["label"].to_list()
    positions = range(len(labels))
    figure, axis = plt.subplots(figsize=(8, 5), dpi=110)
    axis.barh([p + 0.2 for p in positions], ordered["issue_proportion_pct"].to_list(), height=0.4,
              label="botstudy", color="#2b6cb0")
    axis.barh([p - 0.2 for p in positions], ordered["paper_proportion_pct"].to_list(), height=0.4,
              label="Rahman et al. (paper)", color="#a0aec0")
    axis.set_yticks(list(positions), labels)
    axis.set_xlabel("% of bot-related issues")
    axis.set_title("Figure 2: categories of automated work")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_by_library(counts: pl.DataFrame, path: Path) -> Path:
    """Figure 2, per library: issues per category, one bar segment per library."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    libraries = sorted(counts["library"].unique().to_list()) if counts.height else []
    figure, axis = plt.subplots(figsize=(8, 5), dpi=110)
    left = [0] * len(CATEGORIES)
    for library in libraries:
        part = dict(counts.filter(pl.col("library") == library).select("category", "issues").iter_rows())
        values = [part.get(category, 0) for category in CATEGORIES]
        axis.barh(list(CATEGORIES), values, left=left, label=library)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axis.set_xlabel("bot-related issues")
    axis.set_title("Figure 2 by library")
    if libraries:
        axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


# -------------------------------------------------------------------------------------- report


def _md_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "_(no rows)_\n"
    return frame.to_pandas().to_markdown(index=False) + "\n"


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def render_report(study: StudyConfig, funnel: pl.DataFrame, summary: pl.DataFrame,
                  agreement: pl.DataFrame, decisions: pl.DataFrame, figures: dict[str, str]) -> str:
    source = study.resolved_source()
    until = study.until_datetime()
    keyword_all = funnel.filter((pl.col("library") == "All") & (pl.col("channel") == "keyword"))
    ours = keyword_all.row(0, named=True) if keyword_all.height else {}
    pooled = agreement.filter(pl.col("category").is_null()).select(
        "rater_a", "rater_b", "metric", "value", "ci_low", "ci_high", "n", "interpretation")
    per_category = agreement.filter(pl.col("category").is_not_null() & (pl.col("metric") == "cohen_kappa")) \
        .select("rater_a", "rater_b", "category", "value", "ci_low", "ci_high", "n")
    table1 = summary.select(
        "label", pl.col("bots").list.join(", "), pl.col("libraries").list.join(", "),
        "issue_count", "issue_proportion_pct", "paper_issue_count", "paper_proportion_pct")
    human_pairs = pooled.filter((pl.col("metric") == "cohen_kappa") & (pl.col("rater_a") != AUTO)
                                & (pl.col("rater_b") != AUTO))
    kappa_line = ", ".join(f"{r['rater_a']}–{r['rater_b']} κ = {_fmt(r['value'])} "
                           f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                           for r in human_pairs.iter_rows(named=True)) or "no human rater pair"
    basis = decisions.group_by("basis", "is_true_positive").len().sort("len", descending=True)
    lines = [
        "# botstudy report: bots in deep-learning libraries' issue trackers",
        "",
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC from **{source}** data of "
        f"{', '.join(study.repo_list())}" + (f", issues created before {until.date()}" if until else "") + ".",
    ]
    if source == "sample":
        lines += ["", "> **Synthetic data.** These numbers come from botstudy's embedded synthetic sample, "
                  "made to exercise every stage; they say nothing about the real repositories. "
                  "Set `GITHUB_TOKEN` to mine GitHub."]
    lines += [
        "", "## The funnel", "",
        f"Paper: {PAPER_FUNNEL['issues']:,} issues → {PAPER_FUNNEL['candidates']} keyword hits → "
        f"{PAPER_FUNNEL['true_positives']} true positives. botstudy (keyword channel, all libraries): "
        f"{ours.get('issues', 0):,} → {ours.get('candidates', 0):,} → {ours.get('true_positives', 0):,}.",
        "", _md_table(funnel),
        "## Table I: categories of automated work", "",
        _md_table(table1),
        "## Figure 2", "",
        *[f"![{name}]({Path(path).name})" for name, path in figures.items()], "",
        "## Inter-rater agreement", "",
        f"Paper: Cohen's κ = {PAPER_KAPPA} between two raters. botstudy: {kappa_line}.", "",
        _md_table(pooled), "### Cohen's kappa per category", "", _md_table(per_category),
        "## How candidates were decided", "", _md_table(basis),
    ]
    return "\n".join(lines)


@dg.asset(group_name=GROUP,
          deps=[category_summary, agreement_metrics, bot_funnel, candidate_decisions],
          compute_kind="matplotlib",
          description="The study report (markdown) with the funnel, Table I, Figure 2 (PNG) and the "
                      "agreement tables, written under data/reports; the table lists the files.")
def study_report(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    out = study.reports_path
    out.mkdir(parents=True, exist_ok=True)
    summary = warehouse.query("SELECT * FROM category_summary")
    by_library = warehouse.query(
        "SELECT r.library, f.category, count(DISTINCT (f.repo, f.number)) AS issues FROM final_labels f "
        "JOIN raw_issues r USING (repo, number) WHERE f.category IS NOT NULL GROUP BY ALL")
    figures = {
        "Figure 2: categories": str(plot_categories(summary, out / "figure2_categories.png")),
        "Figure 2 by library": str(plot_by_library(by_library, out / "figure2_by_library.png")),
    }
    text = render_report(study, warehouse.query("SELECT * FROM bot_funnel"), summary,
                         warehouse.query("SELECT * FROM agreement_metrics"),
                         warehouse.query("SELECT basis, is_true_positive FROM candidate_decisions"),
                         figures)
    report = out / "botstudy_report.md"
    report.write_text(text, encoding="utf-8")
    files = [report, *map(Path, figures.values()), out / "review_sheet.csv"]
    table = pl.DataFrame({"artifact": [path.name for path in files],
                          "path": [str(path.resolve()) for path in files],
                          "bytes": [path.stat().st_size if path.exists() else 0 for path in files]})
    warehouse.replace_table("study_report", table)
    image = base64.b64encode(Path(figures["Figure 2: categories"]).read_bytes()).decode()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": table.height,
        "report": dg.MetadataValue.path(str(report.resolve())),
        "figure_2": dg.MetadataValue.md(f"![Figure 2](data:image/png;base64,{image})"),
        "report_preview": dg.MetadataValue.md(text[:20000]),
    })
