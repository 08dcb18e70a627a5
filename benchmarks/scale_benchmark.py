"""Parallel repository partitions: N repositories mined with 1, 2 and 4 partition runs at once.

    .venv/bin/python -m benchmarks.scale_benchmark [--repos 24] [--comments 2000000]
        [--latency 0.1] [--parallel 1 2 4] [--workdir DIR]

The loopback fake GitHub serves N repositories (about `--comments` comments in all, six per
issue) with an artificial latency per answer, so that mining is bound by waiting for the API as
it is against GitHub (~0.1-0.5 s per page there) rather than by this machine's two cores. Each
repository is mined by its own partition run (`benchmarks/_miner_child.py`: the real
`raw_issues` and `raw_issue_comments` assets, in-process, in a child process of its own, as a
`botstudy_mine` run does), into its own Delta tables of one lake; a scheduler keeps K such
processes running until every repository is mined. For each K: wall time, throughput (items
and requests per second), each process' peak RSS (os.wait4 through `_measure.py`), and the mean
time a partition took, which stays flat while partitions do not wait for each other.
Results go to benchmarks/RESULTS_scale.md.
"""

from __future__ import annotations

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

from benchmarks.pipeline_benchmark import commit
from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_dev.fake_github import FakeGitHub, bulk_corpus
from botstudy_dev.runner import SETTINGS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS_scale.md"
TOKEN = "scale-benchmark-token-not-real"
COMMENTS_PER_ISSUE = 6.0
PER_RUN_TIMEOUT_S = 4 * 3600
# The target: 4 partition runs at once mine at least this many times as fast as 1.
TARGET_SPEEDUP_AT_4 = 2.5


def child_env(api_url: str, repo: str, workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    env.update(
        {
            "BOTSTUDY_SOURCE": "github",
            "BOTSTUDY_GITHUB_API_URL": api_url,
            "GITHUB_TOKEN": TOKEN,
            "BOTSTUDY_REPOS": repo,
            "BOTSTUDY_DB": str(workdir / "botstudy.duckdb"),
            "BOTSTUDY_LAKE": str(workdir / "lake"),
            "BOTSTUDY_LABELS_DIR": str(workdir / "labels"),
            "BOTSTUDY_REPORTS_DIR": str(workdir / "reports"),
            "PYTHONPATH": str(PROJECT_ROOT),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "GX_ANALYTICS_ENABLED": "false",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return env


def start_partition(api_url: str, repo: str, workdir: Path) -> dict:
    """One partition run in its own process, measured by the `_measure.py` launcher."""
    label = repo.replace("/", "__")
    out, usage = workdir / f"{label}.json", workdir / f"{label}.usage.json"
    command = [sys.executable, str(HERE / "_measure.py"), str(usage), "--"]
    command += [sys.executable, str(HERE / "_miner_child.py"), str(out)]
    log = (workdir / f"{label}.log").open("wb")
    process = subprocess.Popen(
        command,
        env=child_env(api_url, repo, workdir),
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return {"repo": repo, "process": process, "out": out, "usage": usage, "started": time.time()}


def finish_partition(run: dict) -> dict:
    child = json.loads(run["out"].read_text()) if run["out"].exists() else {}
    usage = json.loads(run["usage"].read_text()) if run["usage"].exists() else {}
    if not child.get("success"):
        raise RuntimeError(f"{run['repo']}: the partition run failed: {child.get('failures')}")
    return {
        "repo": run["repo"],
        "wall_s": usage.get("wall_s", 0.0),
        "maxrss_bytes": usage.get("maxrss_bytes", 0),
        "cpu_s": usage.get("user_s", 0.0) + usage.get("sys_s", 0.0),
        "import_s": child.get("import_s", 0.0),
        "mining_s": child.get("materialize_s", 0.0),
    }


def mine_all(server: FakeGitHub, repos: list[str], parallel: int, workdir: Path) -> dict:
    """Every repository once, `parallel` partition runs at a time."""
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "labels").mkdir(parents=True)
    server.reset_stats()
    pending, running, done = list(repos), [], []
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < parallel:
            running.append(start_partition(server.url, pending.pop(0), workdir))
        for run in list(running):
            if run["process"].poll() is not None:
                running.remove(run)
                done.append(finish_partition(run))
        time.sleep(0.1)
    wall = time.monotonic() - started
    stats = server.stats
    return {
        "parallel": parallel,
        "wall_s": wall,
        "requests": stats["requests"],
        "counted": stats["counted"],
        "partitions": done,
        "lake_bytes": sum(p.stat().st_size for p in (workdir / "lake").rglob("*") if p.is_file()),
    }


def lake_rows(workdir: Path, repos: list[str]) -> tuple[int, int]:
    from botstudy_assets.lib.lake import Lake
    from botstudy_assets.lib.raw_store import RawStore

    store = RawStore(Lake(str(workdir / "lake")))
    return (
        store.scalar("SELECT count(*) FROM raw_issues", repos=repos),
        store.scalar("SELECT count(*) FROM raw_issue_comments", repos=repos),
    )


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def verdict(results: list[dict]) -> str:
    """Met / not met for the 4-run target (when both 1 and 4 runs were measured)."""
    by_runs = {result["parallel"]: result["wall_s"] for result in results}
    if 1 not in by_runs or 4 not in by_runs:
        return f"Target: 4 runs at least {TARGET_SPEEDUP_AT_4}× the throughput of 1: not measured."
    speedup = by_runs[1] / by_runs[4]
    met = "met" if speedup >= TARGET_SPEEDUP_AT_4 else "**not met**"
    target = f"4 runs at least {TARGET_SPEEDUP_AT_4}× the throughput of 1"
    return f"Target: {target}: {speedup:.2f}×, {met}."


def report(args, counts: dict, results: list[dict], started_at: str, measured: str) -> str:
    items = counts["issues"] + counts["comments"]
    base = results[0]
    mean_import = sum(p["import_s"] for p in base["partitions"]) / len(base["partitions"])
    mean_cpu = sum(p["cpu_s"] for p in base["partitions"]) / len(base["partitions"])
    mean_wall = sum(p["wall_s"] for p in base["partitions"]) / len(base["partitions"])
    lines = [
        "# Scale benchmark: parallel repository partitions",
        "",
        f"Command: `python -m benchmarks.scale_benchmark --repos {args.repos} --comments "
        f"{args.comments} --latency {args.latency} --parallel {' '.join(map(str, args.parallel))}`",
        "",
        f"Run {started_at} on {platform.node() or 'this machine'}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}. "
        f"Commit measured: {measured}.",
        "",
        f"Corpus: {args.repos} repositories served by the loopback fake GitHub, "
        f"{counts['issues']:,} issues and {counts['comments']:,} comments ({items:,} items), "
        f"{args.latency * 1000:.0f} ms added to every answer (GitHub takes ~100-500 ms a page). "
        "Each repository is one partition run in its own process (the real `raw_issues` and "
        "`raw_issue_comments` assets, in-process executor), writing its own Delta tables of one "
        "lake; K runs at a time until all are mined. Throughput is items stored per second of "
        "wall time over the whole corpus.",
        "",
        "| parallel runs | wall time | throughput (items/s) | vs 1 run | requests/s | mean "
        "partition time | peak RSS per process (max / mean) | lake on disk |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        parts = result["partitions"]
        throughput = items / result["wall_s"]
        speedup = base["wall_s"] / result["wall_s"]
        rss = [p["maxrss_bytes"] for p in parts]
        mean_partition = sum(p["wall_s"] for p in parts) / len(parts)
        lines.append(
            f"| {result['parallel']} | {result['wall_s']:,.0f} s | {throughput:,.0f} | "
            f"{speedup:.2f}× | {result['requests'] / result['wall_s']:,.1f} | "
            f"{mean_partition:,.1f} s | {mib(max(rss))} / {mib(sum(rss) / len(rss))} MiB | "
            f"{mib(result['lake_bytes'])} MiB |"
        )
    lines += [
        "",
        verdict(results),
        "",
        "Each configuration stored every item exactly once (rows read back through the lake "
        "equal the corpus) and sent the same requests "
        f"({', '.join(str(r['counted']) for r in results)} counted requests). Partitions never "
        "wait for each other: each writes only its own tables (no file lock is taken), so the "
        "mean time a partition takes grows only as the two cores fill.",
        "",
        f"Per process, at 1 run: {mean_cpu:.0f} s of CPU in a {mean_wall:.0f} s partition run "
        f"(importing Dagster and botstudy {mean_import:.1f} s, the rest parsing pages and writing "
        "one Delta commit per page); the rest of its wall time is waiting for answers. On "
        f"{os.cpu_count()} cores K runs at once can therefore go at most "
        f"{os.cpu_count()} × {mean_wall:.0f} / {mean_cpu:.0f} = "
        f"{(os.cpu_count() or 1) * mean_wall / mean_cpu:.1f}× as fast as one.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=24)
    parser.add_argument("--comments", type=int, default=2_000_000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workdir", type=Path, default=HERE / ".work" / "scale")
    args = parser.parse_args(argv)
    started_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    measured = commit()  # before the runs: what the children import
    repos = [f"scale/repo{index:03d}" for index in range(1, args.repos + 1)]
    issues_per_repo = max(1, round(args.comments / args.repos / COMMENTS_PER_ISSUE))
    print(f"generating {args.repos} repositories of {issues_per_repo} issues", flush=True)
    corpus = bulk_corpus(repos, issues_per_repo, COMMENTS_PER_ISSUE, seed=15)
    counts = {
        "issues": sum(len(d["issues"]) for d in corpus.values()),
        "comments": sum(len(d["comments"]) for d in corpus.values()),
    }
    results = []
    with FakeGitHub(corpus, token=TOKEN, rate_limit=10**9, latency=args.latency) as server:
        for parallel in args.parallel:
            print(f"mining with {parallel} partition runs at a time", flush=True)
            workdir = args.workdir / f"parallel_{parallel}"
            result = mine_all(server, repos, parallel, workdir)
            stored = lake_rows(workdir, repos)
            if stored != (counts["issues"], counts["comments"]):
                raise RuntimeError(f"{parallel} runs stored {stored}, expected {counts}")
            print(f"  {result['wall_s']:.0f} s", flush=True)
            results.append(result)
    RESULTS.write_text(report(args, counts, results, started_at, measured), encoding="utf-8")
    print(RESULTS.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
