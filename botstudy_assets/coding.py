"""Stage 3, coding: the nine categories of bot work, per true positive and per rater.

The automatic coder (rater `auto`) reads each true positive's posts: a bot's own posts are coded
by the codebook's phrase patterns (falling back to the registry's single typical task of that bot
when no pattern fires), and posts in which people invoke or discuss a bot are coded by the same
patterns, because the codebook codes what people say a bot does too. Every label carries the post
and the rule that produced it. Human raters' CSV files join as further raters; `final_labels`
settles each issue (adjudication, then the human majority, then `auto` as tie-breaker) and
`agreement_metrics` measures every pair of raters.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from . import stats
from .config import StudyConfig
from .detection import UNNAMED_BOT, LabelFileError, bot_accounts, load_posts, validated_true_positives
from .quality import Expectation, run_expectations
from .reference_data import CATEGORIES, Codebook, Registry, load_codebook, load_keywords, load_registry
from .storage import Warehouse
from .textmatch import KeywordMatcher, NameMatcher, snippet, strip_code

GROUP = "coding"
AUTO = "auto"
IssueKey = tuple[str, int]

LABEL_SCHEMA = {
    "repo": pl.String, "number": pl.Int64, "category": pl.String, "rater": pl.String,
    "bot": pl.String, "rule": pl.String, "post_location": pl.String, "post_id": pl.Int64,
    "evidence": pl.String, "source": pl.String,
}


# ------------------------------------------------------------------------------ automatic coder


@dataclass(frozen=True)
class Label:
    category: str
    bot: str | None
    rule: str
    location: str
    post_id: int
    evidence: str


def code_post(text: str, codebook: Codebook) -> dict[str, str]:
    """Categories whose patterns fire on one post (code removed), with the firing pattern, after
    the codebook's suppressions (e.g. `stale` suppresses `issue_management`)."""
    clean = strip_code(text)
    fired: dict[str, str] = {}
    for category in codebook.categories:
        for pattern in category.compiled:
            if pattern.search(clean):
                fired[category.name] = pattern.pattern
                break
    suppressed = {name for fired_name in fired for name in codebook.by_name[fired_name].suppresses}
    return {name: rule for name, rule in fired.items() if name not in suppressed}


def _first_match_span(text: str, rule: str, codebook: Codebook) -> tuple[int, int]:
    for category in codebook.categories:
        for pattern in category.compiled:
            if pattern.pattern == rule:
                match = pattern.search(text)
                if match:
                    return match.span()
    return 0, 0


class AutoCoder:
    def __init__(self, codebook: Codebook, registry: Registry, keywords: KeywordMatcher,
                 bot_logins: set[str]) -> None:
        self.codebook, self.registry, self.keywords = codebook, registry, keywords
        self.names = NameMatcher(registry)
        self.bot_logins = bot_logins

    def _bot_name(self, login: str | None) -> str | None:
        entry = self.registry.entry_for_login(login)
        return entry.name if entry else login

    def _mentioned(self, text: str) -> list[str]:
        """Bots or services a person's post invokes or talks about (in prose)."""
        found = [name for hit, name in self.names.names(text) if hit.in_prose]
        for hit in self.keywords.hits(text):
            if hit.in_prose and not self.keywords.context(text, hit)[0]:
                token = hit.token.lstrip("@")
                entry = self.registry.entry_for_login(token)
                # "the bot" names no bot; "@somebot" or "foo-bot" names one we do not know.
                found.append(entry.name if entry else
                             token if len(token) > 4 and not token.lower().startswith("bot") else UNNAMED_BOT)
        return found

    def code_thread(self, posts: list[dict]) -> list[Label]:
        labels: list[Label] = []
        for post in posts:
            text, login = post["text"] or "", post["author_login"]
            is_bot = bool(login) and login.lower() in self.bot_logins
            if is_bot and post["location"] != "title":
                bot = self._bot_name(login)
                labels += self._labels(text, post, bot, fallback=self.registry.entry_for_login(login))
            elif not is_bot:
                mentioned = self._mentioned(text)
                if mentioned:
                    entry = self.registry.by_name.get(mentioned[0])
                    labels += self._labels(text, post, mentioned[0], fallback=entry, discussed=True)
        return labels

    def _labels(self, text: str, post: dict, bot: str | None, fallback, discussed: bool = False) -> list[Label]:
        fired = code_post(text, self.codebook)
        prefix = "discussed: " if discussed else ""
        if fired:
            return [Label(name, bot, prefix + rule, post["location"], post["post_id"],
                          snippet(text, *_first_match_span(strip_code(text), rule, self.codebook)))
                    for name, rule in fired.items()]
        if fallback is not None and len(fallback.tasks) == 1:
            return [Label(fallback.tasks[0], bot, f"{prefix}registry: {fallback.name} does "
                          f"{fallback.tasks[0]}", post["location"], post["post_id"],
                          snippet(text, 0, 0, 120))]
        return []


def auto_labels(tps: pl.DataFrame, posts: pl.DataFrame, coder: AutoCoder) -> pl.DataFrame:
    """One row per (issue, category) for rater `auto`, with the first post that evidences it."""
    keys = tps.select("repo", "number")
    thread_posts = posts.join(keys, on=["repo", "number"], how="semi").sort("repo", "number", "location", "post_id")
    rows = []
    for (repo, number), group in thread_posts.group_by(["repo", "number"], maintain_order=True):
        seen = set()
        for label in coder.code_thread(group.to_dicts()):
            if label.category in seen:
                continue
            seen.add(label.category)
            rows.append({"repo": repo, "number": number, "category": label.category, "rater": AUTO,
                         "bot": label.bot, "rule": label.rule, "post_location": label.location,
                         "post_id": label.post_id, "evidence": label.evidence, "source": "auto"})
    return pl.DataFrame(rows, schema=LABEL_SCHEMA)


# --------------------------------------------------------------------------------- rater files

REQUIRED_COLUMNS = ("repo", "number", "categories")


def _split_categories(value: str) -> list[str]:
    return [part.strip() for part in value.replace("|", ";").replace(",", ";").split(";") if part.strip()]


@dataclass(frozen=True)
class StudyScope:
    """The issues label files may name: those mined for the studied repositories."""

    known: frozenset[IssueKey]
    repos: frozenset[str]
    snapshot: bool = False  # BOTSTUDY_UNTIL is set, so issues created later were not mined

    def outside(self, key: IssueKey) -> str | None:
        """Why a labelled issue lies outside this study (to be skipped, with a note), or None."""
        if key[0] not in self.repos:
            return f"{key[0]} is not among BOTSTUDY_REPOS"
        if self.snapshot and key not in self.known:
            return "not in the BOTSTUDY_UNTIL snapshot"
        return None


def read_label_csv(path: Path, scope: StudyScope,
                   skipped: list[str] | None = None) -> dict[IssueKey, frozenset[str]]:
    """A rater or adjudication file: repo, number, categories (`;`-separated). Every problem is
    reported with its line; the file is refused as a whole rather than partly used. Rows about
    issues outside the study (another repository, after the snapshot day) are listed in
    `skipped` rather than refused, so one rater file serves several study configurations."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate the BOM spreadsheet programs add
    except UnicodeDecodeError as error:
        raise LabelFileError(f"{path}: not UTF-8 text ({error}); save it as UTF-8 CSV") from None
    lines = text.splitlines()
    if not lines:
        raise LabelFileError(f"{path}: empty file; expected a header repo,number,categories")
    header = [name.strip().lower() for name in next(csv.reader([lines[0]]))]
    if set(REQUIRED_COLUMNS) - set(header):
        hint = ""
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in lines[0]:
                hint = f" (the header is separated by {name}; use commas)"
        raise LabelFileError(f"{path}: line 1: header {lines[0]!r} must name the columns "
                             f"repo,number,categories{hint}")
    labels: dict[IssueKey, frozenset[str]] = {}
    problems = []
    for line, row in enumerate(csv.DictReader(lines), start=2):
        row = {(key or "").strip().lower(): (value or "").strip() if isinstance(value, str) else value
               for key, value in row.items()}
        if not any(row.get(column) for column in REQUIRED_COLUMNS):
            continue  # blank line
        repo, number = row.get("repo", ""), row.get("number", "")
        if not str(number).isdigit():
            problems.append(f"line {line}: number {number!r} is not an integer")
            continue
        key = (repo, int(number))
        categories = _split_categories(row.get("categories") or "")
        reason = scope.outside(key)
        if reason and skipped is not None:
            skipped.append(f"{path.name}: line {line}: {repo}#{number} skipped ({reason})")
            continue
        unknown = sorted(set(categories) - set(CATEGORIES))
        if unknown:
            problems.append(f"line {line}: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                            f"{', '.join(unknown)} (known: {', '.join(CATEGORIES)})")
        if key not in scope.known:
            problems.append(f"line {line}: {repo}#{number} is not an issue of the studied repositories")
        if key in labels:
            same = labels[key] == frozenset(categories)
            problems.append(f"line {line}: {repo}#{number} appears again "
                            + ("(duplicate row)" if same else "with different categories (contradiction)"))
        if not unknown and key in scope.known and key not in labels:
            labels[key] = frozenset(categories)
    if problems:
        raise LabelFileError(f"{path}: " + "; ".join(problems))
    return labels


def read_raters(labels_dir: Path, scope: StudyScope,
                skipped: list[str] | None = None) -> dict[str, dict[IssueKey, frozenset[str]]]:
    raters = {}
    for path in sorted((labels_dir / "coding").glob("*.csv")):
        if path.stem == AUTO:
            raise LabelFileError(f"{path}: the rater name '{AUTO}' is reserved for the automatic coder")
        raters[path.stem] = read_label_csv(path, scope, skipped)
    return raters


def human_rows(raters: dict[str, dict[IssueKey, frozenset[str]]]) -> pl.DataFrame:
    rows = [
        {"repo": repo, "number": number, "category": category, "rater": rater, "bot": None,
         "rule": None, "post_location": None, "post_id": None, "evidence": None,
         "source": f"coding/{rater}.csv"}
        for rater, coding in raters.items() for (repo, number), categories in coding.items()
        for category in sorted(categories)
    ]
    return pl.DataFrame(rows, schema=LABEL_SCHEMA)


# ------------------------------------------------------------------------------- final labels


def settle(key: IssueKey, adjudicated: dict, humans: dict[str, dict], auto: frozenset[str]) -> tuple[frozenset[str], str]:
    """Final categories of one issue and how they were settled."""
    if key in adjudicated:
        return adjudicated[key], "adjudication"
    votes = [coding[key] for coding in humans.values() if key in coding]
    if not votes:
        return auto, "auto"
    final, tie_broken = set(), False
    for category in CATEGORIES:
        yes = sum(category in vote for vote in votes)
        if 2 * yes > len(votes):
            final.add(category)
        elif 2 * yes == len(votes) and yes:
            tie_broken = True
            if category in auto:
                final.add(category)
    return frozenset(final), "raters+auto" if tie_broken else "raters"


def codings_from(labels: pl.DataFrame, universe: dict[str, set[IssueKey]]) -> dict[str, dict[IssueKey, frozenset[str]]]:
    """Rater -> issue -> categories, including issues a rater coded with no category."""
    codings: dict[str, dict[IssueKey, set[str]]] = {rater: {key: set() for key in keys}
                                                    for rater, keys in universe.items()}
    for row in labels.iter_rows(named=True):
        codings.setdefault(row["rater"], {}).setdefault((row["repo"], row["number"]), set()).add(row["category"])
    return {rater: {key: frozenset(value) for key, value in coding.items()} for rater, coding in codings.items()}


# -------------------------------------------------------------------------------------- assets


def study_scope(warehouse: Warehouse, study: StudyConfig) -> StudyScope:
    frame = warehouse.query("SELECT repo, number FROM raw_issues WHERE list_contains(?, repo)",
                            [study.repo_list()])
    return StudyScope(frozenset(frame.iter_rows()), frozenset(study.repo_list()),
                      snapshot=study.until_datetime() is not None)


def _report_skipped(context: dg.AssetExecutionContext, skipped: list[str]) -> None:
    for note in skipped[:50]:
        context.log.warning(note)
    if len(skipped) > 50:
        context.log.warning(f"... and {len(skipped) - 50} more label rows outside the study")


def _md(frame: pl.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_pandas().to_markdown(index=False))


@dg.asset(group_name=GROUP, deps=[validated_true_positives, bot_accounts], compute_kind="polars",
          description="One row per (repo, number, category, rater): the automatic coder `auto` "
                      "with its evidence, and each human rater's CSV file.")
def coded_labels(context: dg.AssetExecutionContext, study: StudyConfig,
                 warehouse: Warehouse) -> dg.MaterializeResult:
    registry = load_registry(study.registry_file)
    codebook = load_codebook(study.codebook_file, registry)
    skipped: list[str] = []
    raters = read_raters(study.labels_path, study_scope(warehouse, study), skipped)  # fail fast
    _report_skipped(context, skipped)
    tps = warehouse.query("SELECT repo, number FROM validated_true_positives")
    bot_logins = {login.lower() for login in
                  warehouse.query("SELECT login FROM bot_accounts WHERE is_bot")["login"].to_list()}
    coder = AutoCoder(codebook, registry, KeywordMatcher(load_keywords(study.keywords_file)), bot_logins)
    auto = auto_labels(tps, load_posts(warehouse, study.repo_list()), coder)
    labels = pl.concat([auto, human_rows(raters)])
    warehouse.replace_table("coded_labels", labels)
    uncoded = tps.join(auto.select("repo", "number"), on=["repo", "number"], how="anti").height
    context.log.info(f"coded {tps.height - uncoded} of {tps.height} true positives automatically; "
                     f"human raters: {', '.join(raters) or 'none'}")
    counts = labels.group_by("rater", "category").len().pivot("rater", index="category", values="len")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": labels.height, "codebook_version": codebook.version,
        "raters": ", ".join([AUTO, *raters]), "true_positives_without_auto_label": uncoded,
        "label_rows_outside_study": len(skipped),
        "labels_per_category": _md(counts.sort("category")),
    })


FINAL_SCHEMA = {"repo": pl.String, "number": pl.Int64, "category": pl.String,
                "settled_by": pl.String}


@dg.asset(group_name=GROUP, deps=[coded_labels], compute_kind="polars",
          description="The categories each true positive ends with: the adjudication file, else "
                      "the human raters' majority (auto breaks ties), else the automatic coder. "
                      "category is NULL for an issue with no category.")
def final_labels(context: dg.AssetExecutionContext, study: StudyConfig,
                 warehouse: Warehouse) -> dg.MaterializeResult:
    adjudication_file = study.labels_path / "adjudication.csv"
    skipped: list[str] = []
    adjudicated = (read_label_csv(adjudication_file, study_scope(warehouse, study), skipped)
                   if adjudication_file.exists() else {})
    _report_skipped(context, skipped)
    labels = warehouse.query("SELECT repo, number, category, rater FROM coded_labels")
    tps = set(warehouse.query("SELECT repo, number FROM validated_true_positives").iter_rows())
    humans = codings_from(labels.filter(pl.col("rater") != AUTO), {})
    auto = codings_from(labels.filter(pl.col("rater") == AUTO), {}).get(AUTO, {})
    issues = tps | set(adjudicated) | {key for coding in humans.values() for key in coding}
    rows = []
    for key in sorted(issues):
        categories, how = settle(key, adjudicated, humans, auto.get(key, frozenset()))
        rows += [{"repo": key[0], "number": key[1], "category": c, "settled_by": how}
                 for c in sorted(categories)] or [{"repo": key[0], "number": key[1], "category": None,
                                                   "settled_by": how}]
    frame = pl.DataFrame(rows, schema=FINAL_SCHEMA)
    warehouse.replace_table("final_labels", frame)
    settled = frame.unique(["repo", "number"]).group_by("settled_by").len()
    return dg.MaterializeResult(metadata={"dagster/row_count": frame.height,
                                          "issues": len(issues), "settled_by": _md(settled)})


AGREEMENT_SCHEMA = {
    "rater_a": pl.String, "rater_b": pl.String, "category": pl.String, "metric": pl.String,
    "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "n": pl.Int64,
    "n_decisions": pl.Int64, "interpretation": pl.String,
}


@dg.asset(group_name=GROUP, deps=[coded_labels], compute_kind="numpy",
          description="Cohen's kappa (per category and pooled), percent agreement and "
                      "Krippendorff's alpha, with bootstrap 95% CIs and the Landis & Koch reading; "
                      "category NULL means all categories pooled.")
def agreement_metrics(warehouse: Warehouse) -> dg.MaterializeResult:
    labels = warehouse.query("SELECT repo, number, category, rater FROM coded_labels")
    tps = set(warehouse.query("SELECT repo, number FROM validated_true_positives").iter_rows())
    # auto codes every true positive (some with no category); humans code what their files list.
    universe = {AUTO: tps} if tps else {}
    codings = codings_from(labels, universe)
    rows = stats.agreement_rows(codings, list(CATEGORIES), n_boot=1000, seed=0)
    frame = pl.DataFrame(rows, schema=AGREEMENT_SCHEMA)
    warehouse.replace_table("agreement_metrics", frame)
    pooled = frame.filter(pl.col("category").is_null() & pl.col("metric").is_in(["cohen_kappa", "krippendorff_alpha"]))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": frame.height,
        "pooled": _md(pooled.select("rater_a", "rater_b", "metric", "value", "ci_low", "ci_high",
                                    "n", "interpretation")),
    })


# -------------------------------------------------------------------------------------- checks


@dg.asset_check(asset=coded_labels, blocking=True,
                description="Known categories, one row per (issue, category, rater), every label "
                            "on a mined issue, auto labels carry evidence.")
def coded_labels_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query("SELECT repo, number, category, rater, rule FROM coded_labels")
    orphans = warehouse.query("SELECT DISTINCT repo, number, rater FROM coded_labels ANTI JOIN "
                              "raw_issues USING (repo, number) LIMIT 5")
    auto_without_rule = frame.filter((pl.col("rater") == AUTO) & pl.col("rule").is_null()).height
    extra = [f"labels on issues that were not mined, e.g. {orphans.rows()}"] if orphans.height else []
    if auto_without_rule:
        extra.append(f"{auto_without_rule} auto labels without evidence")
    return run_expectations("coded_labels", frame, [
        Expectation("ExpectColumnValuesToBeInSet", column="category", value_set=list(CATEGORIES)),
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["repo", "number", "category", "rater"]),
        Expectation("ExpectColumnValuesToNotBeNull", column="rater"),
    ], extra_failures=extra)


@dg.asset_check(asset=agreement_metrics, blocking=True,
                description="Kappa and alpha within [-1, 1], agreement within [0, 1], n positive, "
                            "every rater pair has a pooled kappa.")
def agreement_metrics_valid(warehouse: Warehouse) -> dg.AssetCheckResult:
    frame = warehouse.query("SELECT * FROM agreement_metrics")
    raters = warehouse.scalar("SELECT count(DISTINCT rater) FROM coded_labels")
    if frame.is_empty() and raters < 2:
        return dg.AssetCheckResult(passed=True, description=f"{raters} rater(s): nothing to compare "
                                   "(add human rater files under labels/coding/)")
    bounded = frame.filter(pl.col("metric") != "percent_agreement")
    percent = frame.filter(pl.col("metric") == "percent_agreement")
    problems = []
    for name, part, low in (("kappa/alpha", bounded, -1.0), ("percent_agreement", percent, 0.0)):
        bad = part.filter(pl.col("value").is_not_null() & ~pl.col("value").is_between(low, 1.0))
        if bad.height:
            problems.append(f"{bad.height} {name} values outside [{low:g}, 1], e.g. {bad.head(3).rows()}")
    result = run_expectations("agreement_metrics", frame.select("rater_a", "rater_b", "metric", "n"), [
        Expectation("ExpectColumnValuesToBeBetween", column="n", min_value=1),
        Expectation("ExpectColumnValuesToBeInSet", column="metric",
                    value_set=["cohen_kappa", "percent_agreement", "krippendorff_alpha"]),
    ], extra_failures=problems)
    return result
