"""Stage 4, reporting: the paper's Table I (`category_summary`), Figure 2 and the report."""

import base64
from pathlib import Path

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.coding import codings_from, confusion_by_category
from botstudy_assets.lib.figures import DataVersion, code_version
from botstudy_assets.lib.labelfiles import AUTO
from botstudy_assets.lib.reference_data import load_codebook
from botstudy_assets.lib.report import (
    FIGURE_BY_LIBRARY,
    FIGURE_CATEGORIES,
    summarize_categories,
    write_study_report,
)
from botstudy_assets.lib.scope import study_query
from botstudy_assets.lib.storage import Warehouse

GROUP = "reporting"
# The interaction tables behind the section "Beyond the paper".
BEYOND = ["bot_timeline", "stale_policy", "bot_reactions", "issue_closures", "bot_effects"]

BY_LIBRARY_SQL = """
SELECT r.library, f.category, count(DISTINCT (f.repo, f.number)) AS issues
FROM final_labels f JOIN study_issues r USING (repo, number)
WHERE f.category IS NOT NULL GROUP BY ALL
"""
# The day the newest row was mined, whichever raw table it is in.
MINED_SQL = """
SELECT max(mined_at)::DATE::VARCHAR FROM (
    SELECT max(mined_at) AS mined_at FROM raw_issues
    UNION ALL SELECT max(mined_at) FROM raw_issue_comments
    UNION ALL SELECT max(mined_at) FROM raw_issue_events)
"""


def _embedded(path: str, title: str) -> dg.MetadataValue:
    image = base64.b64encode(Path(path).read_bytes()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{image})")


@dg.asset(
    group_name=GROUP,
    deps=["final_labels", "coded_labels", "validated_true_positives"],
    kinds={"polars", "duckdb"},
)
def category_summary(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The paper's Table I from the final labels: category, bots, libraries, issue count and
    proportion, beside the paper's own figures."""
    settings, db = study.get(), warehouse.get()
    codebook = load_codebook(settings.codebook_file)
    summary = summarize_categories(
        db.query("SELECT repo, number, category FROM final_labels"),
        db.query("SELECT repo, number, category, bot FROM coded_labels WHERE rater = ?", [AUTO]),
        db.query("SELECT repo, number, bots FROM validated_true_positives"),
        {category.name: category.label for category in codebook.categories},
    )
    db.replace_table("category_summary", summary)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": summary.height, "Table I": md(summary)}
    )


def _differences(db: Warehouse) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The coder-versus-rater confusion per category and the disagreeing threads."""
    labels = db.query("SELECT repo, number, category, rater FROM coded_labels")
    humans = codings_from(labels.filter(pl.col("rater") != AUTO), {})
    auto = codings_from(labels.filter(pl.col("rater") == AUTO), {}).get(AUTO, {})
    return confusion_by_category(auto, humans), db.query(
        "SELECT * FROM coder_disagreements ORDER BY rater, repo, number, category"
    )


@dg.asset(
    group_name=GROUP,
    deps=[
        "category_summary",
        "agreement_metrics",
        "bot_funnel",
        "candidate_decisions",
        "review_sheet",
        "coder_disagreements",
        *BEYOND,
    ],
    kinds={"matplotlib", "markdown"},
)
def study_report(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The study report (markdown) with the funnel, Table I, Figure 2 (PNG) and the agreement
    tables, written under data/reports; the table lists the files."""
    settings, db = study.get(), warehouse.get()
    version = DataVersion(
        code=code_version(),
        source=settings.source,
        mined=db.scalar(MINED_SQL) or "",
        until=settings.until_day,
    )
    report, figures, text = write_study_report(
        settings,
        funnel=db.query("SELECT * FROM bot_funnel"),
        summary=db.query("SELECT * FROM category_summary"),
        by_library=study_query(db, settings, BY_LIBRARY_SQL),
        agreement=db.query("SELECT * FROM agreement_metrics"),
        decisions=db.query("SELECT basis, is_true_positive FROM candidate_decisions"),
        beyond={name: db.query(f"SELECT * FROM {name}") for name in BEYOND},
        differences=_differences(db),
        version=version,
    )
    files = [report, *map(Path, figures.values()), settings.reports_path / "review_sheet.csv"]
    table = pl.DataFrame(
        {
            "artifact": [path.name for path in files],
            "path": [str(path.resolve()) for path in files],
            "bytes": [path.stat().st_size if path.exists() else 0 for path in files],
        }
    )
    db.replace_table("study_report", table)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.height,
            "Report": dg.MetadataValue.path(str(report.resolve())),
            "Data version": version.text(),
            # Figures under the names the report gives them ("Figure 2", "Beyond: …").
            "Figure 2": _embedded(figures[FIGURE_CATEGORIES], "Figure 2"),
            FIGURE_BY_LIBRARY: _embedded(figures[FIGURE_BY_LIBRARY], FIGURE_BY_LIBRARY),
            **{
                name: _embedded(figures[name], name)
                for name in figures
                if name.startswith("Beyond")
            },
            "Report preview": dg.MetadataValue.md(text[:20000]),
        }
    )
