"""Stage 2, detection: which threads involve a software-development bot (see
`lib/detection.py` for the channels and the decision rules)."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md, written
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.accounts import build_bot_accounts
from botstudy_assets.lib.detection import (
    FUNNEL_SQL,
    REVIEW_BELOW,
    bot_event_hits,
    candidate_rows,
    collect_evidence,
    decision_rows,
    evidence_from_candidates,
    funnel_params,
)
from botstudy_assets.lib.labelfiles import read_validation_overrides
from botstudy_assets.lib.posts import load_events, load_posts, load_thread_meta
from botstudy_assets.lib.reference_data import load_codebook, load_keywords, load_registry
from botstudy_assets.lib.scope import study_query
from botstudy_assets.lib.textmatch import KeywordMatcher, NameMatcher
from botstudy_assets.lib.traces import TraceMatcher

GROUP = "detection"
# The raw tables, as `raw_snapshot` published them to the DuckDB file.
RAW = ["raw_snapshot"]


@dg.asset(group_name=GROUP, deps=RAW, kinds={"polars", "duckdb"})
def bot_accounts(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every author, classified bot or human with a confidence and the reasons."""
    settings, db = study.get(), warehouse.get()
    registry = load_registry(settings.registry_file)
    accounts = build_bot_accounts(load_posts(db, settings), registry, load_events(db, settings))
    kinds = accounts.filter(pl.col("is_bot"))["kind"].value_counts().sort("count", descending=True)
    return written(
        db, "bot_accounts", accounts, bots=int(accounts["is_bot"].sum()), bot_kinds=md(kinds)
    )


@dg.asset(group_name=GROUP, deps=[*RAW, "bot_accounts"], kinds={"polars", "duckdb"})
def keyword_candidates(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Candidate threads, one row per (repo, number, channel) with evidence: channel =
    'keyword' is the paper's funnel."""
    settings, db = study.get(), warehouse.get()
    registry = load_registry(settings.registry_file)
    matcher = KeywordMatcher(load_keywords(settings.keywords_file))
    tracer = TraceMatcher(load_codebook(settings.codebook_file, registry))
    posts = load_posts(db, settings)
    labels = {key: meta.labels for key, meta in load_thread_meta(db, settings).items()}
    accounts = db.query("SELECT login, is_bot, bot_score FROM bot_accounts")
    bot_logins = {login.lower() for login in accounts.filter(pl.col("is_bot"))["login"].to_list()}
    events = bot_event_hits(load_events(db, settings), bot_logins, tracer, registry)
    evidence = collect_evidence(
        posts, accounts, matcher, NameMatcher(registry), tracer, labels, events
    )
    candidates = candidate_rows(evidence)
    per_channel = candidates["channel"].value_counts().sort("channel")
    return written(
        db,
        "keyword_candidates",
        candidates,
        threads=candidates.select("repo", "number").n_unique(),
        per_channel=md(per_channel),
    )


@dg.asset(group_name=GROUP, deps=["keyword_candidates"], kinds={"polars", "duckdb"})
def candidate_decisions(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """A decision for every candidate thread: true positive or not, the basis, a reason, a
    confidence, and who decided (auto or a person)."""
    settings, db = study.get(), warehouse.get()
    registry = load_registry(settings.registry_file)
    threads = evidence_from_candidates(db.query("SELECT * FROM keyword_candidates"))
    accounts = db.query("SELECT login, is_bot FROM bot_accounts")
    issues = study_query(db, settings, "SELECT repo, number, title, html_url FROM study_issues")
    known = set(issues.select("repo", "number").iter_rows())
    overrides = read_validation_overrides(settings.labels_path / "validation.csv", known)
    bot_logins = {login.lower() for login in accounts.filter(pl.col("is_bot"))["login"].to_list()}
    decisions = decision_rows(threads, issues, registry, bot_logins, overrides)
    basis = decisions.group_by("basis", "is_true_positive").len().sort("len", descending=True)
    return written(
        db, "candidate_decisions", decisions, human_decisions=len(overrides), by_basis=md(basis)
    )


@dg.asset(group_name=GROUP, deps=["candidate_decisions"], kinds={"duckdb"})
def validated_true_positives(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Threads in which a software-development bot is really involved."""
    db = warehouse.get()
    frame = db.query(
        "SELECT repo, number, library, title, html_url, bots, basis, reason, confidence, "
        "decided_by, channels FROM candidate_decisions WHERE is_true_positive "
        "ORDER BY repo, number"
    )
    per_library = frame.group_by("library").len().sort("library")
    return written(db, "validated_true_positives", frame, per_library=md(per_library))


@dg.asset(group_name=GROUP, deps=["candidate_decisions"], kinds={"duckdb", "csv"})
def review_sheet(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Undecided or low-confidence candidates for people to decide; also exported as
    review_sheet.csv beside the report (copy decided rows to validation.csv)."""
    settings, db = study.get(), warehouse.get()
    sheet = db.query(
        "SELECT d.repo, d.number, d.html_url AS link, d.title, d.channels, "
        "coalesce(k.snippet, '') AS evidence, "
        "CASE WHEN d.is_true_positive THEN 'true' ELSE 'false' END AS suggestion, d.reason, "
        "d.confidence, '' AS decision, '' AS decided_by "
        "FROM candidate_decisions d LEFT JOIN (SELECT repo, number, first(snippet ORDER BY "
        "channel) AS snippet FROM keyword_candidates GROUP BY ALL) k USING (repo, number) "
        "WHERE d.decided_by = 'auto' AND d.confidence < ? ORDER BY d.confidence, d.repo, d.number",
        [REVIEW_BELOW],
    )
    path = settings.reports_path / "review_sheet.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.with_columns(pl.col("channels").list.join(";")).write_csv(path)
    return written(db, "review_sheet", sheet, csv=dg.MetadataValue.path(str(path)))


@dg.asset(
    group_name=GROUP, deps=["keyword_candidates", "validated_true_positives"], kinds={"duckdb"}
)
def bot_funnel(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Issues → candidates → true positives per library and channel, beside the paper's
    68,400 → 254 → 135 (keyword channel, all libraries)."""
    db = warehouse.get()
    frame = study_query(db, study.get(), FUNNEL_SQL, funnel_params())
    return written(db, "bot_funnel", frame)
