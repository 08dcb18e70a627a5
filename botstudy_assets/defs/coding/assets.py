"""Stage 3, coding: the nine categories of bot work per true positive and per rater, the final
labels and the agreement between raters (see `lib/coding.py`)."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.coding import (
    AutoCoder,
    agreement_frame,
    auto_labels,
    codings_from,
    final_label_rows,
    human_rows,
)
from botstudy_assets.lib.labelfiles import AUTO, read_label_csv, read_raters, study_scope
from botstudy_assets.lib.posts import load_posts, load_thread_meta
from botstudy_assets.lib.reference_data import load_codebook, load_keywords, load_registry
from botstudy_assets.lib.textmatch import KeywordMatcher

GROUP = "coding"
SKIPPED_SHOWN = 50


def _report_skipped(context: dg.AssetExecutionContext, skipped: list[str]) -> None:
    for note in skipped[:SKIPPED_SHOWN]:
        context.log.warning(note)
    if len(skipped) > SKIPPED_SHOWN:
        context.log.warning(
            f"... and {len(skipped) - SKIPPED_SHOWN} more label rows outside the study"
        )


@dg.asset(
    group_name=GROUP, deps=["validated_true_positives", "bot_accounts"], kinds={"polars", "duckdb"}
)
def coded_labels(
    context: dg.AssetExecutionContext, study: StudyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """One row per (repo, number, category, rater): the automatic coder `auto` with its
    evidence, and each human rater's CSV file."""
    settings, db = study.get(), warehouse.get()
    registry = load_registry(settings.registry_file)
    codebook = load_codebook(settings.codebook_file, registry)
    skipped: list[str] = []
    raters = read_raters(settings.labels_path, study_scope(db, settings), skipped)  # fail fast
    _report_skipped(context, skipped)
    tps = db.query("SELECT repo, number FROM validated_true_positives")
    bot_logins = {
        login.lower()
        for login in db.query("SELECT login FROM bot_accounts WHERE is_bot")["login"].to_list()
    }
    coder = AutoCoder(
        codebook, registry, KeywordMatcher(load_keywords(settings.keywords_file)), bot_logins
    )
    repos = settings.repo_list()
    auto = auto_labels(tps, load_posts(db, repos), coder, load_thread_meta(db, repos))
    labels = pl.concat([auto, human_rows(raters)])
    db.replace_table("coded_labels", labels)
    uncoded = tps.join(auto.select("repo", "number"), on=["repo", "number"], how="anti").height
    context.log.info(
        f"coded {tps.height - uncoded} of {tps.height} true positives "
        f"automatically; human raters: {', '.join(raters) or 'none'}"
    )
    counts = (
        labels.group_by("rater", "category").len().pivot("rater", index="category", values="len")
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": labels.height,
            "codebook_version": codebook.version,
            "raters": ", ".join([AUTO, *raters]),
            "true_positives_without_auto_label": uncoded,
            "label_rows_outside_study": len(skipped),
            "labels_per_category": md(counts.sort("category")),
        }
    )


@dg.asset(group_name=GROUP, deps=["coded_labels"], kinds={"polars", "duckdb"})
def final_labels(
    context: dg.AssetExecutionContext, study: StudyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The categories each true positive ends with: the adjudication file, else the human
    raters' majority (auto breaks ties), else the automatic coder. category is NULL for an
    issue with no category."""
    settings, db = study.get(), warehouse.get()
    adjudication_file = settings.labels_path / "adjudication.csv"
    skipped: list[str] = []
    adjudicated = (
        read_label_csv(adjudication_file, study_scope(db, settings), skipped)
        if adjudication_file.exists()
        else {}
    )
    _report_skipped(context, skipped)
    labels = db.query("SELECT repo, number, category, rater FROM coded_labels")
    tps = set(db.query("SELECT repo, number FROM validated_true_positives").iter_rows())
    humans = codings_from(labels.filter(pl.col("rater") != AUTO), {})
    auto = codings_from(labels.filter(pl.col("rater") == AUTO), {}).get(AUTO, {})
    issues = tps | set(adjudicated) | {key for coding in humans.values() for key in coding}
    frame = final_label_rows(issues, adjudicated, humans, auto)
    db.replace_table("final_labels", frame)
    settled = frame.unique(["repo", "number"]).group_by("settled_by").len().sort("settled_by")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "issues": len(issues),
            "settled_by": md(settled),
        }
    )


@dg.asset(group_name=GROUP, deps=["coded_labels"], kinds={"numpy", "duckdb"})
def agreement_metrics(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Cohen's kappa (per category and pooled), percent agreement and Krippendorff's alpha, with
    bootstrap 95% CIs and a reading (Landis & Koch for kappa, Krippendorff's for alpha); category
    NULL means all categories pooled."""
    db = warehouse.get()
    labels = db.query("SELECT repo, number, category, rater FROM coded_labels")
    tps = set(db.query("SELECT repo, number FROM validated_true_positives").iter_rows())
    # auto codes every true positive (some with no category); humans code what their files list.
    universe = {AUTO: tps} if tps else {}
    frame = agreement_frame(codings_from(labels, universe))
    db.replace_table("agreement_metrics", frame)
    pooled = frame.filter(
        pl.col("category").is_null() & pl.col("metric").is_in(["cohen_kappa", "krippendorff_alpha"])
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "pooled": md(
                pooled.select(
                    "rater_a",
                    "rater_b",
                    "metric",
                    "value",
                    "ci_low",
                    "ci_high",
                    "n",
                    "interpretation",
                )
            ),
        }
    )
