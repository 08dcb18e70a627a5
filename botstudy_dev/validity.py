"""How well botstudy finds and codes bot work on real threads, against people's labels.

The labelled real threads (`data/realdev/`) are served by the fake GitHub on loopback and mined
and analysed by the real pipeline, exactly as a user's repositories would be; its tables are then
compared with the adjudicated labels. Used by `benchmarks/validity_benchmark.py` and the tests.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from botstudy_assets.lib.reference_data import CATEGORIES
from botstudy_assets.lib.stats import cohen_kappa
from botstudy_dev.corpora import REALDEV, load_jsonl, threads_corpus
from botstudy_dev.fake_github import FakeGitHub
from botstudy_dev.runner import run_graph

Key = tuple[str, int]
TOKEN = "validity-token-not-real"


@dataclass(frozen=True)
class Label:
    bot_related: bool
    categories: frozenset[str]


@dataclass
class DevSet:
    threads: list[dict]
    labels: dict[Key, Label]
    raters: dict[str, dict[Key, Label]]

    def keys(self) -> list[Key]:
        return [(t["repo"], t["number"]) for t in self.threads]


def _labels(rows: Iterable[dict]) -> dict[Key, Label]:
    return {
        (r["repo"], r["number"]): Label(
            bool(r["bot_related"]), frozenset(r.get("categories") or [])
        )
        for r in rows
    }


def load_devset(split: str | None = None, folder: Path = REALDEV) -> DevSet:
    """The labelled real threads, or one split of them (`tune`: what rules may be tuned on;
    `holdout`: kept for measuring only)."""
    threads = [
        t for t in load_jsonl(folder / "threads.jsonl") if split is None or t.get("split") == split
    ]
    keys = {(t["repo"], t["number"]) for t in threads}

    def subset(name: str) -> dict[Key, Label]:
        return {k: v for k, v in _labels(load_jsonl(folder / name)).items() if k in keys}

    raters = {path.stem: subset(path.name) for path in sorted(folder.glob("rater_*.jsonl"))}
    return DevSet(threads, subset("labels.jsonl"), raters)


@dataclass
class Prediction:
    labels: dict[Key, Label]
    channels: dict[Key, set[str]] = field(default_factory=dict)
    evidence: dict[Key, str] = field(default_factory=dict)


def predict(
    threads: list[dict],
    workdir: Path | None = None,
    keep: Path | None = None,
    selection: list[str] | None = None,
) -> Prediction:
    """Serve the threads from the loopback fake GitHub and run the whole graph (or a
    `selection` of assets) on them; `keep` names a folder to keep the run's files in."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        root = keep or Path(tmp)
        (root / "labels").mkdir(parents=True, exist_ok=True)
        corpus = threads_corpus(threads)
        with FakeGitHub(corpus, token=TOKEN) as server:
            env = {
                "BOTSTUDY_SOURCE": "github",
                "GITHUB_TOKEN": TOKEN,
                "BOTSTUDY_GITHUB_API_URL": server.url,
                "BOTSTUDY_REPOS": ",".join(sorted(corpus)),
                "BOTSTUDY_DB": str(root / "validity.duckdb"),
                "BOTSTUDY_REPORTS_DIR": str(root / "reports"),
                "BOTSTUDY_LABELS_DIR": str(root / "labels"),
                "BOTSTUDY_HTTP_BACKOFF_S": "0.01",
            }
            result = run_graph(env, selection)
        if not result.success:
            failures = [str(e.step_failure_data.error) for e in result.get_step_failure_events()]
            raise RuntimeError("the pipeline failed on the dev set: " + "; ".join(failures))
        if selection:
            return Prediction({})
        return _read_prediction(root / "validity.duckdb", threads)


def _read_prediction(db: Path, threads: list[dict]) -> Prediction:
    with duckdb.connect(str(db), read_only=True) as con:
        found = {
            (r, n)
            for r, n in con.execute("SELECT repo, number FROM validated_true_positives").fetchall()
        }
        coded: dict[Key, set[str]] = {}
        for repo, number, category in con.execute(
            "SELECT repo, number, category FROM coded_labels WHERE rater = 'auto' "
            "AND category IS NOT NULL"
        ).fetchall():
            coded.setdefault((repo, number), set()).add(category)
        channels: dict[Key, set[str]] = {}
        for repo, number, channel in con.execute(
            "SELECT repo, number, channel FROM keyword_candidates"
        ).fetchall():
            channels.setdefault((repo, number), set()).add(channel)
        reasons = {
            (r, n): reason
            for r, n, reason in con.execute(
                "SELECT repo, number, reason FROM candidate_decisions"
            ).fetchall()
        }
    labels = {}
    for thread in threads:
        key = (thread["repo"], thread["number"])
        related = key in found
        labels[key] = Label(related, frozenset(coded.get(key, set())) if related else frozenset())
    return Prediction(labels, channels, reasons)


# ---------------------------------------------------------------------------------- scores


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def detection_scores(gold: dict[Key, Label], pred: dict[Key, Label]) -> dict[str, float]:
    keys = list(gold)
    tp = sum(gold[k].bot_related and pred[k].bot_related for k in keys)
    fp = sum(not gold[k].bot_related and pred[k].bot_related for k in keys)
    fn = sum(gold[k].bot_related and not pred[k].bot_related for k in keys)
    return _prf(tp, fp, fn)


def category_decisions(labels: dict[Key, Label], keys: list[Key], category: str) -> list[int]:
    return [int(category in labels[k].categories) for k in keys]


def category_scores(
    gold: dict[Key, Label], pred: dict[Key, Label], keys: list[Key] | None = None
) -> dict:
    """Cohen's kappa per category and pooled over the nine, over every thread (a thread found
    or labelled not bot-related counts as coded with no category), plus exact set agreement."""
    keys = keys if keys is not None else list(gold)
    per_category, pooled_a, pooled_b = {}, [], []
    for category in CATEGORIES:
        a, b = category_decisions(gold, keys, category), category_decisions(pred, keys, category)
        pooled_a += a
        pooled_b += b
        per_category[category] = {
            "kappa": cohen_kappa(a, b),
            "gold": sum(a),
            "auto": sum(b),
            **_prf(
                sum(x and y for x, y in zip(a, b, strict=True)),
                sum(y and not x for x, y in zip(a, b, strict=True)),
                sum(x and not y for x, y in zip(a, b, strict=True)),
            ),
        }
    related = [k for k in keys if gold[k].bot_related]
    exact = sum(gold[k].categories == pred[k].categories for k in related) / max(len(related), 1)
    return {
        "pooled_kappa": cohen_kappa(pooled_a, pooled_b),
        "per_category": per_category,
        "exact_set": exact,
        "n_threads": len(keys),
        "n_bot_related": len(related),
    }


def confusion(gold: dict[Key, Label], pred: dict[Key, Label]) -> Counter:
    """(gold category or 'none', auto category or 'none') pairs over threads: what the coder
    gives where people gave something else."""
    pairs: Counter = Counter()
    for key, label in gold.items():
        got = pred[key].categories
        for category in label.categories | got:
            if category in label.categories and category in got:
                pairs[(category, category)] += 1
            elif category in label.categories:
                for other in (got - label.categories) or {"none"}:
                    pairs[(category, other)] += 1
            elif not label.categories:
                pairs[("none", category)] += 1
    return pairs


def errors(devset: DevSet, pred: Prediction) -> list[dict]:
    """Every thread where detection or the category set differs from the adjudicated labels."""
    rows = []
    for thread in devset.threads:
        key = (thread["repo"], thread["number"])
        gold, got = devset.labels[key], pred.labels[key]
        if gold == got:
            continue
        rows.append(
            {
                "thread": f"{key[0]}#{key[1]}",
                "url": thread.get("source_url"),
                "gold": sorted(gold.categories) if gold.bot_related else "not bot-related",
                "auto": sorted(got.categories) if got.bot_related else "not bot-related",
                "channels": sorted(pred.channels.get(key, set())),
                "reason": pred.evidence.get(key, ""),
            }
        )
    return rows


# ------------------------------------------------------------------- the keyword step

# A word, @-mention or login ending in "bot(s)" or "[bot]"; robot and cobot end so without being
# about bots (the paper's keyword step, written independently of botstudy's matcher).
SAYS_BOT = re.compile(r"(?<![\w.@-])@?[\w.-]*(bots?(\[bot\])?|\[bot\])(?![a-z0-9])", re.IGNORECASE)
NOT_BOT_WORDS = {"robot", "robots", "microrobot", "nanorobot", "cobot", "cobots"}


def says_bot(text: str | None) -> bool:
    return any(
        re.split(r"[-_.]", m.group(0).lower().lstrip("@"))[-1] not in NOT_BOT_WORDS
        for m in SAYS_BOT.finditer(text or "")
    )


def thread_says_bot(thread: dict) -> bool:
    return any(
        says_bot(text)
        for text in [thread.get("title")]
        + [post.get("body") for post in thread.get("posts") or []]
        + [post.get("author") for post in thread.get("posts") or []]
    )


def subset(devset: DevSet, split: str) -> DevSet:
    threads = [t for t in devset.threads if t.get("split") == split]
    keys = {(t["repo"], t["number"]) for t in threads}
    return DevSet(
        threads,
        {k: v for k, v in devset.labels.items() if k in keys},
        {r: {k: v for k, v in labels.items() if k in keys} for r, labels in devset.raters.items()},
    )


def keyword_channel_check(devset: DevSet, pred: Prediction) -> dict:
    """The keyword channel flags exactly the threads with a word or login ending in "bot"."""
    expected = {(t["repo"], t["number"]) for t in devset.threads if thread_says_bot(t)}
    flagged = {k for k in devset.labels if "keyword" in pred.channels.get(k, set())}
    return {
        "says_bot": len(expected),
        "flagged": len(flagged),
        "missed": sorted(f"{r}#{n}" for r, n in expected - flagged),
        "extra": sorted(f"{r}#{n}" for r, n in flagged - expected),
    }
