"""Stage 2, detection: which threads involve a software-development bot.

Three channels propose candidates, one row per (repo, number, channel) in `keyword_candidates`:
- `keyword`: the paper's step, `bot`/`bots`, tokens ending in `bot` and `[bot]` in titles, bodies
  and comments;
- `bot_activity`: threads opened or commented on by an account `bot_accounts` classifies as a bot
  (most bots of these libraries are machine users of type `User` and never write "bot");
- `named_service`: prose naming a registry bot or automation service (codecov, Dr. CI, …).
`candidate_decisions` then decides each candidate thread with a reason and a confidence, human
decisions in `validation.csv` overriding, and `validated_true_positives` keeps the accepted ones.
"""


import csv
import dataclasses
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from .config import StudyConfig, library_name
from .mining import raw_issue_comments, raw_issues
from .quality import Expectation, run_expectations
from .reference_data import Registry, load_keywords, load_registry
from .storage import Warehouse
from .textmatch import KeywordMatcher, NameMatcher, snippet

GROUP = "detection"
CHANNELS = ("keyword", "bot_activity", "named_service")
REVIEW_BELOW = 0.75  # auto decisions less sure than this go to the review sheet
UNNAMED_BOT = "unnamed bot"  # "the bot" in prose names no particular bot

# -------------------------------------------------------------------------------------- posts

POSTS_SQL = """
WITH issues AS (SELECT * FROM raw_issues WHERE list_contains($repos, repo))
SELECT repo, number, 0::BIGINT AS post_id, 'title' AS location, author_login, author_type,
       via_app, title AS text FROM issues
UNION ALL
SELECT repo, number, 0::BIGINT, 'body', author_login, author_type, via_app, body FROM issues
UNION ALL
SELECT c.repo, c.issue_number, c.comment_id, 'comment', c.author_login, c.author_type, c.via_app,
       c.body
FROM raw_issue_comments c SEMI JOIN issues i ON i.repo = c.repo AND i.number = c.issue_number
ORDER BY repo, number, CASE location WHEN 'title' THEN 0 WHEN 'body' THEN 1 ELSE 2 END, post_id
"""


def load_posts(warehouse: Warehouse, repos: list[str]) -> pl.DataFrame:
    """Every title, body and comment of the studied repositories, one row each, in thread order
    (so that evidence, and everything derived from it, is the same on every run)."""
    return warehouse.query(POSTS_SQL, {"repos": repos})


# ------------------------------------------------------------------------------- bot accounts

_URL = r"https?://\S+"
_MENTION = r"@[A-Za-z0-9_-]+"
_HEX = r"\b[0-9a-f]{7,40}\b"
_BOT_LOGIN = re.compile(r"(?:[-_]bot|\[bot\])$", re.IGNORECASE)
_BOT_SUFFIX = re.compile(r"[a-z]bot$", re.IGNORECASE)  # pytorchbot, but also the surname Abbot
_AUTOMATION_LOGIN = re.compile(
    r"(butler|jenkins|(^|[-_])ci($|[-_])|automation|autobuild|gardener|copybara|kokoro|mergebot)",
    re.IGNORECASE,
)
ACCOUNT_SCHEMA = {
    "login": pl.String, "is_bot": pl.Boolean, "confidence": pl.Float64, "bot_score": pl.Float64,
    "kind": pl.String, "registry_name": pl.String, "reasons": pl.List(pl.String),
    "n_posts": pl.Int64, "n_threads": pl.Int64, "template_diversity": pl.Float64,
    "github_type": pl.String, "via_app": pl.String, "libraries": pl.List(pl.String),
}


def account_features(posts: pl.DataFrame) -> pl.DataFrame:
    """Per author: activity and how templated their posts are (BoDeGHa's intuition: bots repeat
    near-identical messages across many threads, people do not)."""
    authored = posts.filter(pl.col("location") != "title")
    template = (
        pl.col("text").fill_null("").str.slice(0, 400).str.to_lowercase()
        .str.replace_all(_URL, "<url>").str.replace_all(_MENTION, "@u")
        .str.replace_all(_HEX, "<h>").str.replace_all(r"\d+", "<n>")
        .str.replace_all(r"\s+", " ")
    )
    return (
        authored.with_columns(template.alias("template"),
                              (pl.col("repo") + "#" + pl.col("number").cast(pl.String)).alias("thread"))
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
    if _BOT_LOGIN.search(login):
        signals.append((0.55, "login ends in '-bot'"))
    elif _BOT_SUFFIX.search(login):
        signals.append((0.4, "login ends in 'bot'"))
    elif _AUTOMATION_LOGIN.search(login):
        signals.append((0.45, "login names automation (butler, jenkins, ci, …)"))
    diversity, posts, threads = features["template_diversity"], features["n_posts"], features["n_threads"]
    if posts >= 5 and threads >= 3 and diversity <= 0.3:
        signals.append((0.45, f"templated: {posts} posts in {threads} threads with only "
                              f"{features['n_templates']} distinct texts"))
    score = 1.0
    for weight, _ in signals:
        score *= 1.0 - weight
    score = 1.0 - score
    hard = entry is not None or features["typed_bot"] or (features["app_share"] or 0) >= 0.5
    if not hard and posts >= 5 and diversity >= 0.8 and score > 0:
        score *= 0.5
        signals.append((0.0, f"varied, human-like texts ({diversity:.0%} distinct) halve the score"))
    is_bot = score >= 0.5 and login.lower() != "ghost"
    if entry:
        kind = entry.kind
    elif features["typed_bot"] or login.lower().endswith("[bot]"):
        kind = "github_app"
    else:
        kind = "machine_user" if is_bot else "human"
    reasons = [reason for _, reason in signals] or ["no bot signal"]
    return AccountVerdict(is_bot, round(score, 4), kind, entry.name if entry else None, reasons)


def build_bot_accounts(posts: pl.DataFrame, registry: Registry) -> pl.DataFrame:
    rows = []
    for features in account_features(posts).iter_rows(named=True):
        verdict = classify_account(features, registry)
        rows.append({
            "login": features["login"], "is_bot": verdict.is_bot,
            "confidence": round(verdict.bot_score if verdict.is_bot else 1 - verdict.bot_score, 4),
            "bot_score": verdict.bot_score, "kind": verdict.kind,
            "registry_name": verdict.registry_name, "reasons": verdict.reasons,
            "n_posts": features["n_posts"], "n_threads": features["n_threads"],
            "template_diversity": round(features["template_diversity"], 4),
            "github_type": features["github_type"], "via_app": features["via_app"],
            "libraries": sorted({library_name(repo) for repo in features["repos"]}),
        })
    return pl.DataFrame(rows, schema=ACCOUNT_SCHEMA).sort(["is_bot", "n_posts"], descending=True)


# --------------------------------------------------------------------------------- candidates

SUSPECT_SCORE = 0.35  # accounts this bot-like propose candidates, even if not classified bots
CANDIDATE_SCHEMA = {
    "repo": pl.String, "number": pl.Int64, "channel": pl.String, "library": pl.String,
    "n_evidence": pl.Int64, "matched": pl.List(pl.String), "first_location": pl.String,
    "first_post_id": pl.Int64, "snippet": pl.String, "evidence": pl.String,
}


@dataclass
class Evidence:
    channel: str
    location: str
    post_id: int
    author: str | None
    author_is_bot: bool
    matched: str
    snippet: str
    in_code: bool = False
    in_quote: bool = False
    negative: bool = False
    development: bool = False
    score: float = 0.0
    service: str | None = None

    @property
    def in_prose(self) -> bool:
        return not (self.in_code or self.in_quote)


@dataclass
class ThreadEvidence:
    items: list[Evidence] = field(default_factory=list)

    def of(self, channel: str) -> list[Evidence]:
        return [item for item in self.items if item.channel == channel]


def collect_evidence(posts: pl.DataFrame, accounts: pl.DataFrame, matcher: KeywordMatcher,
                     names: NameMatcher) -> dict[tuple[str, int], ThreadEvidence]:
    """Every keyword hit, bot post and service mention, grouped by thread."""
    scores = dict(zip(accounts["login"].to_list(), accounts["bot_score"].to_list(), strict=True))
    bots = set(accounts.filter(pl.col("is_bot"))["login"].to_list())
    threads: dict[tuple[str, int], ThreadEvidence] = defaultdict(ThreadEvidence)
    terms = list(names.terms)
    flagged = posts.with_columns(
        pl.col("text").fill_null("").str.contains("(?i)" + matcher.prefilter).alias("_kw"),
        pl.col("text").fill_null("").str.contains_any(terms, ascii_case_insensitive=True).alias("_name")
        if terms else pl.lit(False).alias("_name"),
        pl.col("author_login").is_in(list(k for k, v in scores.items() if v >= SUSPECT_SCORE))
        .alias("_bot"),
    ).filter(pl.col("_kw") | pl.col("_name") | (pl.col("_bot") & (pl.col("location") != "title")))
    for post in flagged.iter_rows(named=True):
        key, text, author = (post["repo"], post["number"]), post["text"] or "", post["author_login"]
        common = dict(location=post["location"], post_id=post["post_id"], author=author,
                      author_is_bot=author in bots)
        if post["_bot"] and post["location"] != "title":
            threads[key].items.append(Evidence(
                channel="bot_activity", matched=author, snippet=snippet(text, 0, 0, 160),
                score=scores[author], **common))
        if post["_kw"]:
            for hit in matcher.hits(text):
                negative, development = matcher.context(text, hit)
                threads[key].items.append(Evidence(
                    channel="keyword", matched=hit.token, snippet=snippet(text, hit.start, hit.end),
                    in_code=hit.in_code, in_quote=hit.in_quote, negative=negative,
                    development=development, **common))
        if post["_name"]:
            for hit, service in names.names(text):
                threads[key].items.append(Evidence(
                    channel="named_service", matched=hit.token, service=service,
                    snippet=snippet(text, hit.start, hit.end), in_code=hit.in_code,
                    in_quote=hit.in_quote, **common))
    return threads


def candidate_rows(threads: dict[tuple[str, int], ThreadEvidence]) -> pl.DataFrame:
    rows = []
    for (repo, number), evidence in threads.items():
        for channel in CHANNELS:
            items = evidence.of(channel)
            if not items:
                continue
            first = items[0]
            rows.append({
                "repo": repo, "number": number, "channel": channel, "library": library_name(repo),
                "n_evidence": len(items),
                "matched": sorted({item.service or item.matched for item in items}),
                "first_location": first.location, "first_post_id": first.post_id,
                "snippet": first.snippet,
                "evidence": json.dumps([_evidence_json(item) for item in items], ensure_ascii=False),
            })
    return pl.DataFrame(rows, schema=CANDIDATE_SCHEMA).sort(["repo", "number", "channel"])


def _evidence_json(item: Evidence) -> dict:
    """Lossless, so that decisions are made from the stored evidence alone; flags that are off
    and empty fields are left out to keep the column readable."""
    return {key: value for key, value in dataclasses.asdict(item).items()
            if key != "channel" and value not in (False, None, 0.0)}


def evidence_from_candidates(candidates: pl.DataFrame) -> dict[tuple[str, int], ThreadEvidence]:
    """The evidence `keyword_candidates` stored, grouped by thread again."""
    threads: dict[tuple[str, int], ThreadEvidence] = defaultdict(ThreadEvidence)
    for repo, number, channel, evidence in candidates.select("repo", "number", "channel", "evidence").iter_rows():
        for item in json.loads(evidence):
            item.setdefault("post_id", 0)
            item.setdefault("author", None)
            item.setdefault("author_is_bot", False)
            threads[(repo, number)].items.append(Evidence(channel=channel, **item))
    return threads


# ---------------------------------------------------------------------------------- decisions


@dataclass
class Decision:
    accepted: bool
    confidence: float
    basis: str
    reason: str
    bots: list[str]


def _display(item: Evidence, registry: Registry) -> str:
    entry = registry.entry_for_login(item.author if item.channel == "bot_activity" else item.matched.lstrip("@"))
    if item.service:
        return item.service
    return entry.name if entry else (item.author if item.channel == "bot_activity" else item.matched.lstrip("@"))


def decide(evidence: ThreadEvidence, registry: Registry, bot_logins: set[str]) -> Decision:
    """The paper's manual inspection as explicit rules, strongest evidence first."""
    posting = [item for item in evidence.of("bot_activity") if item.author_is_bot]
    if posting:
        names = sorted({_display(item, registry) for item in posting})
        best = max(item.score for item in posting)
        return Decision(True, round(best, 3), "bot_posts",
                        f"{', '.join(names)} posted {len(posting)} time(s) in the thread", names)
    human_prose = [item for item in evidence.of("keyword") if item.in_prose and not item.author_is_bot]
    invoked = [item for item in human_prose
               if item.matched.startswith("@") and not item.negative
               and (item.matched[1:].lower() in bot_logins or registry.entry_for_login(item.matched[1:])
                    or item.matched.lower().endswith("bot"))]
    if invoked:
        names = sorted({_display(item, registry) for item in invoked})
        return Decision(True, 0.9, "bot_invoked", f"a person invokes {', '.join(names)}", names)
    known = [item for item in human_prose
             if not item.negative and (registry.entry_for_login(item.matched.lstrip("@"))
                                       or item.matched.lower().endswith("[bot]")
                                       or item.matched.lstrip("@").lower() in bot_logins)]
    developmental = [item for item in human_prose if item.development and not item.negative]
    if known or developmental:
        chosen = known or developmental
        names = sorted({_display(item, registry) for item in known}) or [UNNAMED_BOT]
        return Decision(True, 0.85 if known else 0.8, "bot_discussed",
                        f"people discuss a development bot: “{chosen[0].snippet[:120]}”", names)
    services = [item for item in evidence.of("named_service") if item.in_prose]
    if services:
        names = sorted({item.service for item in services if item.service})
        return Decision(True, 0.75, "service_discussed", f"names {', '.join(names)}", names)
    generic = [item for item in human_prose if not item.negative]
    if generic:
        return Decision(True, 0.6, "bot_mentioned",
                        f"mentions a bot without clear context: “{generic[0].snippet[:120]}”",
                        [UNNAMED_BOT])
    keyword = evidence.of("keyword")
    if any(item.in_prose and item.negative for item in keyword):
        hit = next(item for item in keyword if item.in_prose and item.negative)
        return Decision(False, 0.85, "not_a_development_bot",
                        f"'{hit.matched}' is a chatbot, game bot or robot: “{hit.snippet[:120]}”", [])
    if keyword:
        return Decision(False, 0.75, "only_in_code_or_quotes",
                        "'bot' appears only in code, logs or quoted text", [])
    suspects = evidence.of("bot_activity")
    if suspects:
        item = max(suspects, key=lambda entry: entry.score)
        return Decision(False, 0.5, "suspected_account",
                        f"{item.author} looks somewhat bot-like (score {item.score:.2f}) but is "
                        "not classified as a bot", [])
    return Decision(False, 0.6, "no_evidence", "no evidence of a development bot", [])


# ----------------------------------------------------------------------- human decisions (CSV)

TRUE_WORDS = {"true", "yes", "y", "1", "accept", "accepted", "tp", "bot"}
FALSE_WORDS = {"false", "no", "n", "0", "reject", "rejected", "fp", "not_bot"}


class LabelFileError(ValueError):
    """A human label file has rows botstudy cannot use; every bad row is listed."""


def read_validation_overrides(path: Path, known: set[tuple[str, int]]) -> dict[tuple[str, int], dict]:
    """`validation.csv`: repo, number, decision, decided_by, reason. Problems are reported row by
    row; nothing is silently dropped."""
    if not path.exists():
        return {}
    overrides: dict[tuple[str, int], dict] = {}
    problems = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"repo", "number", "decision"} - set(reader.fieldnames or [])
        if missing:
            raise LabelFileError(f"{path}: header must have repo, number, decision "
                                 f"(and decided_by, reason); missing {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            repo, number, decision = ((row.get(k) or "").strip() for k in ("repo", "number", "decision"))
            if not decision:
                continue  # an exported review-sheet row nobody has decided yet
            if not number.isdigit():
                problems.append(f"line {line}: number {number!r} is not an integer")
                continue
            key = (repo, int(number))
            if decision.lower() not in TRUE_WORDS | FALSE_WORDS:
                problems.append(f"line {line}: decision {decision!r} is not one of true/false")
            elif key not in known:
                problems.append(f"line {line}: {repo}#{number} is not a mined issue")
            elif key in overrides:
                problems.append(f"line {line}: {repo}#{number} is decided twice")
            else:
                overrides[key] = {"accepted": decision.lower() in TRUE_WORDS,
                                  "decided_by": (row.get("decided_by") or "").strip() or "reviewer",
                                  "reason": (row.get("reason") or "").strip() or "human decision"}
    if problems:
        raise LabelFileError(f"{path}: " + "; ".join(problems))
    return overrides


DECISION_SCHEMA = {
    "repo": pl.String, "number": pl.Int64, "library": pl.String, "title": pl.String,
    "html_url": pl.String, "channels": pl.List(pl.String), "is_true_positive": pl.Boolean,
    "basis": pl.String, "reason": pl.String, "confidence": pl.Float64, "decided_by": pl.String,
    "bots": pl.List(pl.String), "auto_is_true_positive": pl.Boolean,
}


def decision_rows(threads: dict[tuple[str, int], ThreadEvidence], issues: pl.DataFrame,
                  registry: Registry, bot_logins: set[str],
                  overrides: dict[tuple[str, int], dict]) -> pl.DataFrame:
    meta = {(row["repo"], row["number"]): row for row in issues.iter_rows(named=True)}
    rows = []
    for key in sorted(set(threads) | set(overrides)):
        evidence = threads.get(key, ThreadEvidence())
        auto = decide(evidence, registry, bot_logins)
        human = overrides.get(key)
        issue = meta.get(key, {})
        rows.append({
            "repo": key[0], "number": key[1], "library": library_name(key[0]),
            "title": issue.get("title"), "html_url": issue.get("html_url"),
            "channels": [channel for channel in CHANNELS if evidence.of(channel)],
            "is_true_positive": human["accepted"] if human else auto.accepted,
            "basis": "human" if human else auto.basis,
            "reason": human["reason"] if human else auto.reason,
            "confidence": 1.0 if human else auto.confidence,
            "decided_by": human["decided_by"] if human else "auto",
            "bots": auto.bots, "auto_is_true_positive": auto.accepted,
        })
    return pl.DataFrame(rows, schema=DECISION_SCHEMA)


# -------------------------------------------------------------------------------------- assets


def _reference(study: StudyConfig) -> tuple[Registry, KeywordMatcher, NameMatcher]:
    registry = load_registry(study.registry_file)
    return registry, KeywordMatcher(load_keywords(study.keywords_file)), NameMatcher(registry)


def _preview(frame: pl.DataFrame, rows: int = 10) -> dg.MetadataValue:
    shown = frame.head(rows).with_columns(
        [pl.col(name).cast(pl.String).str.slice(0, 80) for name, dtype in frame.schema.items()
         if dtype == pl.String]
    )
    return dg.MetadataValue.md(shown.to_pandas().to_markdown(index=False))


def _written(warehouse: Warehouse, name: str, frame: pl.DataFrame, **extra) -> dg.MaterializeResult:
    warehouse.replace_table(name, frame)
    return dg.MaterializeResult(metadata={"dagster/row_count": frame.height,
                                          "preview": _preview(frame), **extra})


@dg.asset(group_name=GROUP, deps=[raw_issues, raw_issue_comments], compute_kind="polars",
          description="Every author, classified bot or human with a confidence and the reasons.")
def bot_accounts(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    registry = load_registry(study.registry_file)
    accounts = build_bot_accounts(load_posts(warehouse, study.repo_list()), registry)
    kinds = accounts.filter(pl.col("is_bot"))["kind"].value_counts().sort("count", descending=True)
    return _written(warehouse, "bot_accounts", accounts,
                    bots=int(accounts["is_bot"].sum()),
                    bot_kinds=dg.MetadataValue.md(kinds.to_pandas().to_markdown(index=False)))


@dg.asset(group_name=GROUP, deps=[raw_issues, raw_issue_comments, bot_accounts],
          compute_kind="polars",
          description="Candidate threads, one row per (repo, number, channel) with evidence: "
                      "channel = 'keyword' is the paper's funnel.")
def keyword_candidates(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    _, matcher, names = _reference(study)
    posts = load_posts(warehouse, study.repo_list())
    accounts = warehouse.query("SELECT login, is_bot, bot_score FROM bot_accounts")
    candidates = candidate_rows(collect_evidence(posts, accounts, matcher, names))
    per_channel = candidates["channel"].value_counts().sort("channel")
    return _written(warehouse, "keyword_candidates", candidates,
                    threads=candidates.select("repo", "number").n_unique(),
                    per_channel=dg.MetadataValue.md(per_channel.to_pandas().to_markdown(index=False)))


@dg.asset(group_name=GROUP, deps=[keyword_candidates], compute_kind="polars",
          description="A decision for every candidate thread: true positive or not, the basis, "
                      "a reason, a confidence, and who decided (auto or a person).")
def candidate_decisions(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    registry = load_registry(study.registry_file)
    threads = evidence_from_candidates(warehouse.query("SELECT * FROM keyword_candidates"))
    accounts = warehouse.query("SELECT login, is_bot FROM bot_accounts")
    issues = warehouse.query("SELECT repo, number, title, html_url FROM raw_issues "
                             "WHERE list_contains(?, repo)", [study.repo_list()])
    known = {(row[0], row[1]) for row in issues.select("repo", "number").iter_rows()}
    overrides = read_validation_overrides(study.labels_path / "validation.csv", known)
    bot_logins = {login.lower() for login in accounts.filter(pl.col("is_bot"))["login"].to_list()}
    decisions = decision_rows(threads, issues, registry, bot_logins, overrides)
    basis = decisions.group_by("basis", "is_true_positive").len().sort("len", descending=True)
    return _written(warehouse, "candidate_decisions", decisions,
                    human_decisions=len(overrides),
                    by_basis=dg.MetadataValue.md(basis.to_pandas().to_markdown(index=False)))


@dg.asset(group_name=GROUP, deps=[candidate_decisions], compute_kind="duckdb",
          description="Threads in which a software-development bot is really involved.")
def validated_true_positives(warehouse: Warehouse) -> dg.MaterializeResult:
    frame = warehouse.query(
        "SELECT repo, number, library, title, html_url, bots, basis, reason, confidence, "
        "decided_by, channels FROM candidate_decisions WHERE is_true_positive ORDER BY repo, number")
    per_library = frame.group_by("library").len().sort("library")
    return _written(warehouse, "validated_true_positives", frame,
                    per_library=dg.MetadataValue.md(per_library.to_pandas().to_markdown(index=False)))


@dg.asset(group_name=GROUP, deps=[candidate_decisions], compute_kind="duckdb",
          description="Undecided or low-confidence candidates for people to decide; also exported "
                      "as review_sheet.csv beside the report (copy decided rows to validation.csv).")
def review_sheet(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    sheet = warehouse.query(
        "SELECT d.repo, d.number, d.html_url AS link, d.title, d.channels, "
        "coalesce(k.snippet, '') AS evidence, "
        "CASE WHEN d.is_true_positive THEN 'true' ELSE 'false' END AS suggestion, d.reason, "
        "d.confidence, '' AS decision, '' AS decided_by "
        "FROM candidate_decisions d LEFT JOIN (SELECT repo, number, first(snippet ORDER BY channel) "
        "AS snippet FROM keyword_candidates GROUP BY ALL) k USING (repo, number) "
        "WHERE d.decided_by = 'auto' AND d.confidence < ? ORDER BY d.confidence, d.repo, d.number",
        [REVIEW_BELOW])
    path = study.reports_path / "review_sheet.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.with_columns(pl.col("channels").list.join(";")).write_csv(path)
    return _written(warehouse, "review_sheet", sheet, csv=dg.MetadataValue.path(str(path)))


PAPER_FUNNEL = {"issues": 68_400, "candidates": 254, "true_positives": 135}


@dg.asset(group_name=GROUP, deps=[keyword_candidates, validated_true_positives],
          compute_kind="duckdb",
          description="Issues → candidates → true positives per library and channel, beside the "
                      "paper's 68,400 → 254 → 135 (keyword channel, all libraries).")
def bot_funnel(study: StudyConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    frame = warehouse.query(FUNNEL_SQL, {"repos": study.repo_list()})
    return _written(warehouse, "bot_funnel", frame)


FUNNEL_SQL = """
WITH issues AS (SELECT repo, number, library FROM raw_issues WHERE list_contains($repos, repo)),
channels AS (SELECT unnest(['keyword', 'bot_activity', 'named_service', 'any']) AS channel),
libraries AS (SELECT DISTINCT library FROM issues UNION ALL SELECT 'All'),
cand AS (
    SELECT repo, number, channel FROM keyword_candidates
    UNION ALL SELECT DISTINCT repo, number, 'any' FROM keyword_candidates),
tp AS (SELECT repo, number FROM validated_true_positives),
grid AS (SELECT l.library, c.channel FROM libraries l CROSS JOIN channels c)
SELECT g.library, g.channel,
    (SELECT count(*) FROM issues i WHERE g.library IN (i.library, 'All')) AS issues,
    (SELECT count(*) FROM cand c JOIN issues i USING (repo, number)
        WHERE c.channel = g.channel AND g.library IN (i.library, 'All')) AS candidates,
    (SELECT count(*) FROM cand c JOIN issues i USING (repo, number) JOIN tp USING (repo, number)
        WHERE c.channel = g.channel AND g.library IN (i.library, 'All')) AS true_positives,
    CASE WHEN g.library = 'All' AND g.channel = 'keyword' THEN 68400 END AS paper_issues,
    CASE WHEN g.library = 'All' AND g.channel = 'keyword' THEN 254 END AS paper_candidates,
    CASE WHEN g.library = 'All' AND g.channel = 'keyword' THEN 135 END AS paper_true_positives
FROM grid g
ORDER BY g.library = 'All', g.library, list_position(['keyword', 'bot_activity', 'named_service', 'any'], g.channel)
"""

# -------------------------------------------------------------------------------------- checks


@dg.asset_check(asset=bot_accounts, blocking=True,
                description="One row per login; confidence and score within [0, 1].")
def bot_accounts_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query("SELECT login, is_bot, confidence, bot_score, kind FROM bot_accounts")
    return run_expectations("bot_accounts", frame, [
        Expectation("ExpectColumnValuesToBeUnique", column="login"),
        Expectation("ExpectColumnValuesToNotBeNull", column="is_bot"),
        Expectation("ExpectColumnValuesToBeBetween", column="confidence", min_value=0, max_value=1),
        Expectation("ExpectColumnValuesToBeBetween", column="bot_score", min_value=0, max_value=1),
        Expectation("ExpectColumnValuesToBeInSet", column="kind",
                    value_set=["github_app", "machine_user", "external_service", "human"]),
    ])


@dg.asset_check(asset=keyword_candidates, blocking=True,
                description="One row per (repo, number, channel), known channels, evidence "
                            "present, every candidate a mined issue.")
def keyword_candidates_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query("SELECT repo, number, channel, evidence, n_evidence FROM keyword_candidates")
    orphans = warehouse.scalar("SELECT count(*) FROM keyword_candidates k ANTI JOIN raw_issues i "
                               "USING (repo, number)")
    return run_expectations("keyword_candidates", frame, [
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number", "channel"]),
        Expectation("ExpectColumnValuesToBeInSet", column="channel", value_set=list(CHANNELS)),
        Expectation("ExpectColumnValuesToNotBeNull", column="evidence"),
        Expectation("ExpectColumnValuesToBeBetween", column="n_evidence", min_value=1),
    ], extra_failures=[f"{orphans} candidates are not mined issues"] if orphans else None)


@dg.asset_check(asset=validated_true_positives, blocking=True,
                description="One row per thread, who decided and why recorded, confidence in [0, 1].")
def validated_true_positives_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query("SELECT repo, number, basis, reason, decided_by, confidence "
                            "FROM validated_true_positives")
    return run_expectations("validated_true_positives", frame, [
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number"]),
        *[Expectation("ExpectColumnValuesToNotBeNull", column=column)
          for column in ("basis", "reason", "decided_by")],
        Expectation("ExpectColumnValuesToBeBetween", column="confidence", min_value=0, max_value=1),
    ])


@dg.asset_check(asset=bot_funnel, description="Each funnel narrows: issues ≥ candidates ≥ true positives.")
def bot_funnel_narrows(warehouse: Warehouse) -> dg.AssetCheckResult:
    wide = warehouse.query("SELECT * FROM bot_funnel WHERE candidates > issues "
                           "OR true_positives > candidates")
    return dg.AssetCheckResult(passed=wide.is_empty(),
                               metadata={"violations": wide.height, "examples": _preview(wide)})
