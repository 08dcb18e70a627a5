"""Stage 3, coding: the nine categories of bot work per true positive and per rater, the final
labels and the agreement between raters (see `lib/coding.py`)."""

from dataclasses import replace

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.coding import (
    AutoCoder,
    agreement_frame,
    auto_labels,
    codings_from,
    confusion_by_category,
    disagreement_rows,
    final_label_rows,
    human_rows,
)
from botstudy_assets.lib.detection import bot_event_hits
from botstudy_assets.lib.labelfiles import AUTO, read_label_csv, read_raters, study_scope
from botstudy_assets.lib.markdown import thread_link
from botstudy_assets.lib.posts import load_events, load_posts, load_thread_meta
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
    events = bot_event_hits(load_events(db, settings), bot_logins, coder.tracer, registry)
    meta = {
        key: replace(about, bot_events=events.get(key, []))
        for key, about in load_thread_meta(db, settings).items()
    }
    auto = auto_labels(tps, load_posts(db, settings), coder, meta)
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


DISAGREEMENTS_SHOWN = 25


@dg.asset(group_name=GROUP, deps=["coded_labels"], kinds={"polars", "duckdb"})
def coder_disagreements(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Where the automatic coder and each human rater differ: one row per (rater, issue,
    category) with a link to the thread and the coder's rule and evidence; the metadata holds
    the confusion per category, so a researcher knows where to look before publishing."""
    db = warehouse.get()
    labels = db.query("SELECT * FROM coded_labels")
    found = set(db.query("SELECT repo, number FROM validated_true_positives").iter_rows())
    humans = codings_from(labels.filter(pl.col("rater") != AUTO), {})
    auto = codings_from(labels.filter(pl.col("rater") == AUTO), {}).get(AUTO, {})
    threads = db.query("SELECT repo, number, title, html_url FROM raw_issues")
    frame = disagreement_rows(auto, humans, found, labels.filter(pl.col("rater") == AUTO), threads)
    db.replace_table("coder_disagreements", frame)
    shown = (
        frame.head(DISAGREEMENTS_SHOWN)
        .with_columns(thread_link())
        .select("rater", "thread", "category", "auto", "human", "auto_rule")
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "confusion": md(confusion_by_category(auto, humans)),
            "disagreements": md(shown, max_text=90),
        }
    )
