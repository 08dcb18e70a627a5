"""Paper-scale benchmark of the graph after mining: wall time and peak memory per stage.

    .venv/bin/python -m benchmarks.pipeline_benchmark [--multipliers 1 2 4] [--workdir DIR]

For each multiplier m it generates the synthetic corpus at m × the paper's size (68,400 issues,
~385,000 comments at 1×) with `botstudy_dev.synthetic`, loads it as the sample (the mining
stage, reported apart), then materializes every later stage one at a time in one child process
and records each stage's wall time and peak RSS. Results go to benchmarks/RESULTS_pipeline.md.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_dev.synthetic import generate_corpus, write_rater_files, write_sample

PAPER_SCALE = 22.8  # synthetic scale 1.0 is 3,000 threads; 22.8 gives the paper's 68,400
MINING = ["raw_issues", "raw_issue_comments"]
AFTER_MINING = [
    "bot_accounts",
    "keyword_candidates",
    "candidate_decisions",
    "validated_true_positives",
    "review_sheet",
    "bot_funnel",
    "coded_labels",
    "final_labels",
    "agreement_metrics",
    "category_summary",
    "study_report",
]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS_pipeline.md"
# Targets at 1× (the paper's scale); growth: time at m× within 1.2 × m × the time at 1×.
TARGET_AFTER_MINING_S = 60.0
TARGET_PEAK_RSS_BYTES = 2 * 10**9
TARGET_GROWTH = 1.2


def commit() -> str:
    """The commit measured, and whether the code differed from it."""

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), *argv], capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("log", "-1", "--format=%H (%s)")
    dirty = git("status", "--porcelain", "--", "botstudy_assets", "botstudy_dev", "benchmarks")
    return head + (" + uncommitted changes" if dirty else "")


def verdict(ok: bool) -> str:
    return "✅ met" if ok else "❌ not met"


def prepare(workdir: Path, multiplier: int) -> tuple[Path, dict]:
    data = workdir / f"data_{multiplier}x"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    for name in ("bot_registry.yaml", "codebook.yaml", "keywords.yaml"):
        shutil.copy(PROJECT_ROOT / "data" / name, data / name)
    started = time.monotonic()
    corpus = generate_corpus(scale=PAPER_SCALE * multiplier)
    write_sample(corpus, data / "sample")
    write_rater_files(corpus, data / "labels" / "sample" / "coding")
    counts = {
        "issues": sum(len(r["issues"]) for r in corpus.repos.values()),
        "comments": sum(len(r["comments"]) for r in corpus.repos.values()),
        "generate_s": time.monotonic() - started,
    }
    return data, counts


def run_stages(
    workdir: Path, data: Path, multiplier: int, assets: list[str]
) -> tuple[list[dict], dict]:
    env = {
        **os.environ,
        "BOTSTUDY_SOURCE": "sample",
        "BOTSTUDY_DATA_DIR": str(data),
        "BOTSTUDY_DB": str(workdir / f"bench_{multiplier}x.duckdb"),
        "BOTSTUDY_REPORTS_DIR": str(workdir / f"reports_{multiplier}x"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "GX_ANALYTICS_ENABLED": "false",
    }
    env.pop("GITHUB_TOKEN", None)
    stages_json, usage_json = workdir / "stages.json", workdir / "usage.json"
    command = [
        sys.executable,
        str(HERE / "_measure.py"),
        str(usage_json),
        "--",
        sys.executable,
        "-m",
        "benchmarks._stages_child",
        str(stages_json),
        *assets,
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(stages_json.read_text()), json.loads(usage_json.read_text())


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def render(results: dict[int, dict], command: str, measured: str) -> str:
    multipliers = sorted(results)
    lines = [
        "# Pipeline benchmark: the graph after mining at 1×, 2× and 4× the paper's scale",
        "",
        f"Produced by `{command}` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        f"Commit measured: {measured}.",
        f"Machine: {os.cpu_count()} CPUs, "
        f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB, "
        f"Python {platform.python_version()}.",
        "",
        "Corpus: `botstudy_dev.synthetic` at 22.8 × m (1× = 68,400 issues as in the paper), "
        "loaded as the sample. Each stage is materialized alone (with its checks) in one child "
        "process, in graph order; peak RSS is the process's highest resident size during the "
        "stage, sampled every 50 ms. Targets at 1×: all stages after mining under 60 s, peak RSS "
        "under 2 GB, growth close to linear.",
        "",
        "| | " + " | ".join(f"{m}×" for m in multipliers) + " |",
        "|---|" + "---:|" * len(multipliers),
        "| issues | "
        + " | ".join(f"{results[m]['counts']['issues']:,}" for m in multipliers)
        + " |",
        "| comments | "
        + " | ".join(f"{results[m]['counts']['comments']:,}" for m in multipliers)
        + " |",
        "| mining (sample load) time | "
        + " | ".join(
            f"{sum(s['seconds'] for s in results[m]['mining']):.1f} s" for m in multipliers
        )
        + " |",
        "| mining peak RSS | "
        + " | ".join(mib(results[m]["mining_usage"]["maxrss_bytes"]) for m in multipliers)
        + " |",
    ]
    for stage in AFTER_MINING:
        cells = []
        for m in multipliers:
            found = [s for s in results[m]["stages"] if s["stage"] == stage]
            cells.append(
                f"{found[0]['seconds']:.1f} s / {mib(found[0]['peak_rss_bytes'])}" if found else "–"
            )
        lines.append(f"| `{stage}` (time / peak RSS) | " + " | ".join(cells) + " |")
    totals = {m: sum(s["seconds"] for s in results[m]["stages"]) for m in multipliers}
    lines += [
        "| **all stages after mining** | "
        + " | ".join(f"**{totals[m]:.1f} s**" for m in multipliers)
        + " |",
        "| peak RSS after mining (whole child) | "
        + " | ".join(mib(results[m]["usage"]["maxrss_bytes"]) for m in multipliers)
        + " |",
        "| time relative to 1× | "
        + " | ".join(f"{totals[m] / totals[multipliers[0]]:.2f}" for m in multipliers)
        + " |",
        "",
        *render_targets(results, totals),
    ]
    return "\n".join(lines)


def render_targets(results: dict[int, dict], totals: dict[int, float]) -> list[str]:
    if 1 not in results:
        return ["(No 1× run: the targets are stated at 1×.)", ""]
    one = results[1]
    load_peak = one["mining_usage"]["maxrss_bytes"]
    stage_peak = one["usage"]["maxrss_bytes"]
    lines = [
        "| target (at 1× unless said) | measured | target | |",
        "|---|---:|---:|---|",
        f"| all stages after mining | {totals[1]:.1f} s | < {TARGET_AFTER_MINING_S:.0f} s | "
        f"{verdict(totals[1] < TARGET_AFTER_MINING_S)} |",
        f"| peak RSS, stages after mining | {mib(stage_peak)} | < 2 GB | "
        f"{verdict(stage_peak < TARGET_PEAK_RSS_BYTES)} |",
        f"| peak RSS, mining (sample load) | {mib(load_peak)} | < 2 GB | "
        f"{verdict(load_peak < TARGET_PEAK_RSS_BYTES)} |",
    ]
    for m in sorted(results):
        if m != 1:
            ratio = totals[m] / totals[1]
            lines.append(
                f"| growth: time at {m}× / 1× | {ratio:.2f} | ≤ {TARGET_GROWTH * m:.1f} "
                f"({TARGET_GROWTH} × {m}) | {verdict(ratio <= TARGET_GROWTH * m)} |"
            )
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--multipliers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workdir", type=Path, default=HERE / ".work" / "pipeline")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    measured = commit()  # before the runs: what the children import
    results = {}
    for multiplier in args.multipliers:
        data, counts = prepare(args.workdir, multiplier)
        print(
            f"{multiplier}×: {counts['issues']:,} issues, {counts['comments']:,} comments "
            f"generated in {counts['generate_s']:.0f} s",
            flush=True,
        )
        (args.workdir / f"bench_{multiplier}x.duckdb").unlink(missing_ok=True)
        mining, mining_usage = run_stages(args.workdir, data, multiplier, MINING)
        stages, usage = run_stages(args.workdir, data, multiplier, AFTER_MINING)
        results[multiplier] = {
            "counts": counts,
            "mining": mining,
            "mining_usage": mining_usage,
            "stages": stages,
            "usage": usage,
        }
        print(
            f"  after mining: {sum(s['seconds'] for s in stages):.1f} s, peak "
            f"{mib(usage['maxrss_bytes'])}",
            flush=True,
        )
        shutil.rmtree(data)
    command = "python -m benchmarks.pipeline_benchmark " + " ".join(
        ["--multipliers", *map(str, args.multipliers)]
    )
    text = render(results, command, measured)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
