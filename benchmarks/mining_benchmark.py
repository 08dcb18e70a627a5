"""Mining benchmark: botstudy's miner at paper scale, and side by side with Perceval.

    .venv/bin/python -m benchmarks.mining_benchmark [--issues 68400] [--comments-per-issue 6]
                                                    [--perceval-issues 300]

Part 1 (scale). A loopback `FakeGitHub` (in this process, on threads) serves a paper-scale corpus
-- 68,400 issues over keras-team/keras, pytorch/pytorch and tensorflow/tensorflow, ~6 comments
per issue -- with GitHub's real pagination caps (page-based issue paging refused past offset
1,000, repository comments refused past offset 40,000). botstudy's real Dagster assets
`raw_issues` + `raw_issue_comments`, configured only through the environment, run in a
*subprocess* (`benchmarks._miner_child`) so that its wall time and peak RSS are measured in
isolation: the RSS comes from `os.wait4`'s rusage for that one child (stdlib, no psutil). Then
the same graph runs twice more with nothing changed on the server (a refresh, then a steady-state
refresh). Every issue and comment must be in DuckDB exactly once (count, distinct count and the
exact key set, read with a read-only connection).

Part 2 (Perceval). Perceval (`perceval github ... --enterprise-url`, from its own venv at
benchmarks/.venv-perceval, created on first use) and botstudy each mine the same small
one-repository corpus from a fresh fake server; the counted requests and wall times are compared.

Results go to benchmarks/RESULTS_mining.md (and stdout). Scratch files (the DuckDB warehouses,
logs, Perceval's output) live in a temporary directory removed at the end unless --keep.
All traffic stays on 127.0.0.1: proxy variables are removed from the children's environment.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
RESULTS_FILE = BENCH_DIR / "RESULTS_mining.md"
PERCEVAL_VENV = BENCH_DIR / ".venv-perceval"
PERCEVAL_SPEC = "perceval==1.6.1"  # the newest release; installs on Python 3.11

TOKEN = "bench-token-not-real-0123456789"
# The paper's 68,400 issues, split roughly like the three trackers' sizes.
PAPER_SPLIT = (
    ("keras-team/keras", 9_000),
    ("pytorch/pytorch", 30_000),
    ("tensorflow/tensorflow", 29_400),
)
PAPER_ISSUES = sum(n for _, n in PAPER_SPLIT)
ISSUES_OFFSET_CAP = 1_000
COMMENTS_OFFSET_CAP = 40_000
GB = 1024**3
MB = 1024**2

# Targets (see the brief): requests vs. the minimum, refresh cost, memory, and vs. Perceval.
TARGET_REQUEST_RATIO = 1.05
TARGET_REFRESH_PER_ENDPOINT_REPO = 1
TARGET_PEAK_RSS = 1 * GB
TARGET_PERCEVAL_RATIO = 20.0

EXTRA_MINER_ENV: dict[str, str] = {}  # --miner-env
CODE_ROOT = [ROOT]  # --code-root: where botstudy_assets and botstudy_dev are imported from
PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "ftp_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "FTP_PROXY",
)


# --------------------------------------------------------------------------------------------
# Corpus


def split_issues(total: int) -> list[tuple[str, int]]:
    """`total` issues over the three repositories in the paper-scale proportions."""
    split, left = [], total
    for index, (repo, share) in enumerate(PAPER_SPLIT):
        n = left if index == len(PAPER_SPLIT) - 1 else round(total * share / PAPER_ISSUES)
        split.append((repo, n))
        left -= n
    return split


def build_corpus(split: list[tuple[str, int]], comments_per_issue: float, seed: int) -> dict:
    """`bulk_corpus` per repository (so each gets its own size), ids made unique across repos."""
    from botstudy_dev.fake_github import bulk_corpus

    api = "https://api.github.com"
    corpus = {}
    for index, (repo, n) in enumerate(split):
        data = bulk_corpus(
            [repo], issues_per_repo=n, comments_per_issue=comments_per_issue, seed=seed + index
        )[repo]
        shift = index * 10**7  # bulk_corpus' own scheme for repo #index
        if shift:
            for issue in data["issues"]:
                issue["id"] += shift
                issue["node_id"] = f"I_{index}_{issue['number']}"
            for comment in data["comments"]:
                cid = comment["id"] + shift
                number = comment["issue_url"].rsplit("/", 1)[1]
                comment.update(
                    id=cid,
                    node_id=f"IC_{cid}",
                    url=f"{api}/repos/{repo}/issues/comments/{cid}",
                    html_url=f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}",
                )
        corpus[repo] = data
    return corpus


def watermark_ties(corpus: dict) -> list[tuple[str, str, str, int]]:
    """Per repo and endpoint: the newest updated_at and how many items share that second.

    GitHub's `since` is inclusive and has 1 s resolution, so a refresh that starts at the
    watermark re-reads all of these (ceil(n/100) pages) unless its ETag answers 304.
    """
    ties = []
    for repo, data in corpus.items():
        for endpoint in ("issues", "comments"):
            stamps = [item.get("updated_at") or "" for item in data[endpoint]]
            newest = max(stamps, default="")
            ties.append((repo, endpoint, newest, stamps.count(newest)))
    return ties


def corpus_size(corpus: dict) -> tuple[int, int]:
    return (
        sum(len(d["issues"]) for d in corpus.values()),
        sum(len(d["comments"]) for d in corpus.values()),
    )


# --------------------------------------------------------------------------------------------
# Measured subprocesses


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process' environment without proxies or botstudy settings, plus `extra`."""
    from botstudy_dev.runner import SETTINGS

    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and k not in SETTINGS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout_s: float,
    stdout_path: Path,
    stderr_path: Path,
) -> dict:
    """Run `cmd` in its own session; wall time, exit code and peak RSS of that command alone.

    The command is started by the small `_measure.py` launcher, which reaps it with os.wait4:
    that rusage covers exactly this command (and whatever descendants it waited for), unlike
    RUSAGE_CHILDREN, a max over all children so far, and unlike a child forked straight from
    this big process, whose ru_maxrss would start at this process' RSS (see _measure.py).
    On timeout the whole process group is terminated, then killed.
    """
    measure_json = stdout_path.with_suffix(".rusage.json")
    measure_json.unlink(missing_ok=True)
    launcher = [sys.executable, str(BENCH_DIR / "_measure.py"), str(measure_json), "--"]
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            launcher + cmd,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        timed_out = False
        try:
            while True:
                pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - started > timeout_s:
                    timed_out = True
                    pid, status, _usage = stop_group(proc)
                    break
                time.sleep(0.05)
        except BaseException:
            stop_group(proc)
            raise
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen.wait
    result = {
        "wall_s": wall,
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "maxrss_bytes": 0,
        "user_s": 0.0,
        "sys_s": 0.0,
        "rusage_source": "none (killed)",
    }
    if measure_json.exists():  # the launcher's figures for the command itself
        result.update(
            json.loads(measure_json.read_text(encoding="utf-8")),
            timed_out=timed_out,
            rusage_source="wait4 in launcher",
        )
    return result


def stop_group(proc: subprocess.Popen):
    """SIGTERM the child's process group, SIGKILL after 10 s; returns wait4's answer."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:
                return proc.pid, 0, _zero_rusage()
            if pid:
                return pid, status, usage
            time.sleep(0.05)
    pid, status, usage = os.wait4(proc.pid, 0)
    return pid, status, usage


def _zero_rusage():
    import resource

    return resource.struct_rusage((0,) * 16)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# botstudy's miner in a subprocess


def miner_env(api_url: str, repos: list[str], workdir: Path) -> dict[str, str]:
    labels = workdir / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    return clean_env(
        {
            "BOTSTUDY_SOURCE": "github",
            "BOTSTUDY_GITHUB_API_URL": api_url,
            "GITHUB_TOKEN": TOKEN,
            "BOTSTUDY_REPOS": ",".join(repos),
            "BOTSTUDY_DB": str(workdir / "botstudy.duckdb"),
            "BOTSTUDY_LABELS_DIR": str(labels),
            "BOTSTUDY_REPORTS_DIR": str(workdir / "reports"),
            "DAGSTER_HOME": str(workdir / "dagster_home"),
            "PYTHONPATH": str(CODE_ROOT[0]),
            **EXTRA_MINER_ENV,
        }
    )


def run_miner(server, env: dict[str, str], workdir: Path, label: str, timeout_s: float) -> dict:
    """Materialize raw_issues + raw_issue_comments once in a child; server stats for that run."""
    (workdir / "dagster_home").mkdir(parents=True, exist_ok=True)
    out_json = workdir / f"{label}.json"
    server.reset_stats()
    measured = run_measured(
        [sys.executable, str(BENCH_DIR / "_miner_child.py"), str(out_json)],
        env=env,
        cwd=CODE_ROOT[0],
        timeout_s=timeout_s,
        stdout_path=workdir / f"{label}.stdout.log",
        stderr_path=workdir / f"{label}.stderr.log",
    )
    stats = server.stats
    child = {}
    if out_json.exists():
        child = json.loads(out_json.read_text(encoding="utf-8"))
    run = {
        "label": label,
        **measured,
        "server": stats,
        "child": child,
        "success": measured["returncode"] == 0 and bool(child.get("success")),
    }
    if not run["success"]:
        run["stderr_tail"] = tail(workdir / f"{label}.stderr.log", 60)
    return run


def db_verification(db: Path, corpus: dict) -> dict:
    """Counts, distinct counts and exact key sets of both tables vs. the corpus (read-only)."""
    import duckdb

    expected_issues = {
        (repo, issue["number"]) for repo, d in corpus.items() for issue in d["issues"]
    }
    expected_comments = {(repo, c["id"]) for repo, d in corpus.items() for c in d["comments"]}
    with duckdb.connect(str(db), read_only=True) as con:
        issues, distinct_issues = con.execute(
            "SELECT count(*), count(DISTINCT (repo, number)) FROM raw_issues"
        ).fetchone()
        comments, distinct_comments = con.execute(
            "SELECT count(*), count(DISTINCT (repo, comment_id)) FROM raw_issue_comments"
        ).fetchone()
        issue_keys = set(con.execute("SELECT repo, number FROM raw_issues").fetchall())
        comment_keys = set(
            con.execute("SELECT repo, comment_id FROM raw_issue_comments").fetchall()
        )
        per_repo = con.execute(
            "SELECT repo, (SELECT count(*) FROM raw_issues i WHERE i.repo = r.repo), "
            "(SELECT count(*) FROM raw_issue_comments c WHERE c.repo = r.repo) "
            "FROM (SELECT DISTINCT repo FROM raw_issues) r ORDER BY repo"
        ).fetchall()
    db_bytes = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob(db.name + ".wal"))
    result = {
        "issues": issues,
        "distinct_issues": distinct_issues,
        "comments": comments,
        "distinct_comments": distinct_comments,
        "expected_issues": len(expected_issues),
        "expected_comments": len(expected_comments),
        "missing_issues": len(expected_issues - issue_keys),
        "extra_issues": len(issue_keys - expected_issues),
        "missing_comments": len(expected_comments - comment_keys),
        "extra_comments": len(comment_keys - expected_comments),
        "per_repo": per_repo,
        "db_bytes": db_bytes,
    }
    result["exactly_once"] = (
        issues == distinct_issues == len(expected_issues)
        and comments == distinct_comments == len(expected_comments)
        and result["missing_issues"] == result["extra_issues"] == 0
        and result["missing_comments"] == result["extra_comments"] == 0
    )
    return result


# --------------------------------------------------------------------------------------------
# Part 1: scale


def scale_benchmark(args, workdir: Path) -> dict:
    from botstudy_dev.fake_github import FakeGitHub, minimum_requests

    split = split_issues(args.issues)
    started = time.monotonic()
    corpus = build_corpus(split, args.comments_per_issue, args.seed)
    build_s = time.monotonic() - started
    n_issues, n_comments = corpus_size(corpus)
    log(f"scale corpus: {n_issues:,} issues, {n_comments:,} comments in {build_s:.0f} s")
    result = {
        "split": [
            (repo, len(corpus[repo]["issues"]), len(corpus[repo]["comments"])) for repo, _ in split
        ],
        "issues": n_issues,
        "comments": n_comments,
        "minimum": minimum_requests(corpus),
        "build_s": build_s,
        "runs": [],
        "ties": watermark_ties(corpus),
    }
    scale_dir = workdir / "scale"
    scale_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with FakeGitHub(
        corpus,
        token=TOKEN,
        issues_offset_cap=ISSUES_OFFSET_CAP,
        comments_offset_cap=COMMENTS_OFFSET_CAP,
        rate_limit=args.rate_limit,
        rate_reset_seconds=3600,
    ) as server:
        log(f"fake GitHub at {server.url} (started in {time.monotonic() - started:.0f} s)")
        env = miner_env(server.url, [repo for repo, _ in split], scale_dir)
        for label in ("full", "refresh", "steady"):
            log(f"botstudy miner, {label} run ...")
            run = run_miner(server, env, scale_dir, f"scale-{label}", args.miner_timeout)
            log(
                f"  {label}: rc={run['returncode']} wall={run['wall_s']:.1f}s "
                f"counted={run['server']['counted']} 304={run['server']['not_modified']} "
                f"maxrss={run['maxrss_bytes'] / MB:.0f} MiB"
            )
            result["runs"].append(run)
            if not run["success"]:
                log(run.get("stderr_tail", "") + "\n" + str(run["child"].get("exception", "")))
                break
            if label in ("full", "steady"):
                run["verification"] = db_verification(scale_dir / "botstudy.duckdb", corpus)
                log(f"  verification: exactly once = {run['verification']['exactly_once']}")
    return result


# --------------------------------------------------------------------------------------------
# Part 2: Perceval side by side


def ensure_perceval(log_path: Path) -> dict:
    """benchmarks/.venv-perceval with Perceval installed (created on first use)."""
    perceval = PERCEVAL_VENV / "bin" / "perceval"
    python = PERCEVAL_VENV / "bin" / "python"
    if not perceval.exists():
        base = shutil.which("python3") or sys.executable
        log(
            f"creating {PERCEVAL_VENV.relative_to(ROOT)} with {base} and installing "
            f"{PERCEVAL_SPEC} ..."
        )
        with open(log_path, "wb") as handle:
            subprocess.run(
                [base, "-m", "venv", str(PERCEVAL_VENV)],
                check=True,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-q",
                    PERCEVAL_SPEC,
                ],
                check=True,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
    version = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, sys; "
            "print(m.version('perceval'), sys.version.split()[0])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {"perceval": perceval, "version": version[0], "python": version[1]}


PERCEVAL_VARIANTS = {
    "with look-ups (as shipped)": [],
    "without look-ups (--filter-classified)": ["--filter-classified"],
}


def run_perceval(
    args, setup: dict, corpus: dict, pdir: Path, flags: list[str], n_issues: int
) -> dict:
    """One Perceval run on its own fresh server over the corpus."""
    from botstudy_dev.fake_github import FakeGitHub

    (repo,) = corpus
    owner, name = repo.split("/")
    pdir.mkdir(parents=True, exist_ok=True)
    with FakeGitHub(
        corpus,
        token=TOKEN,
        issues_offset_cap=ISSUES_OFFSET_CAP,
        comments_offset_cap=COMMENTS_OFFSET_CAP,
        rate_limit=args.rate_limit,
    ) as server:
        home = pdir / "home"
        home.mkdir(exist_ok=True)
        output = pdir / "perceval-items.jsonl"
        cmd = [
            str(setup["perceval"]),
            "github",
            owner,
            name,
            "--enterprise-url",
            server.url,
            "-t",
            TOKEN,
            "--category",
            "issue",
            "--sleep-for-rate",
            "--no-archive",
            *flags,
            "--json-line",
            "-o",
            str(output),
        ]
        shown = shlex.join(
            [
                str(Path(cmd[0]).relative_to(ROOT)),
                *cmd[1:5],
                "http://127.0.0.1:PORT",
                "-t",
                "TOKEN",
                *cmd[8:-1],
                "items.jsonl",
            ]
        )
        log(f"perceval: {shown}")
        server.reset_stats()
        measured = run_measured(
            cmd,
            env=clean_env({"HOME": str(home)}),
            cwd=pdir,
            timeout_s=args.perceval_timeout,
            stdout_path=pdir / "perceval.stdout.log",
            stderr_path=pdir / "perceval.stderr.log",
        )
        items = 0
        if output.exists():
            with open(output, "rb") as handle:
                items = sum(1 for line in handle if line.strip())
        run = {
            **measured,
            "cmd": shown,
            "server": server.stats,
            "items": items,
            "success": measured["returncode"] == 0 and items == n_issues,
        }
        if not run["success"]:
            run["stderr_tail"] = tail(pdir / "perceval.stderr.log", 40)
        log(
            f"  perceval: rc={measured['returncode']} timed_out={measured['timed_out']} "
            f"wall={measured['wall_s']:.1f}s counted={server.stats['counted']} items={items}"
        )
    return run


def perceval_benchmark(args, workdir: Path) -> dict:
    from botstudy_dev.fake_github import FakeGitHub, make_user, minimum_requests

    repo = PAPER_SPLIT[0][0]
    corpus = build_corpus(
        [(repo, args.perceval_issues)], args.perceval_comments_per_issue, args.seed + 100
    )
    # Perceval 1.6.1 crashes ("'NoneType' object has no attribute 'get'") on a null `user`, which
    # bulk_corpus puts on ~1% of items. GitHub's REST API shows deleted accounts as the `ghost`
    # user, so both tools get that here.
    ghosts = 0
    for item in (*corpus[repo]["issues"], *corpus[repo]["comments"]):
        if item.get("user") is None:
            item["user"] = make_user("ghost", "User")
            ghosts += 1
    n_issues, n_comments = corpus_size(corpus)
    issues = corpus[repo]["issues"]
    result = {
        "repo": repo,
        "issues": n_issues,
        "comments": n_comments,
        "minimum": minimum_requests(corpus),
        "ghost_users": ghosts,
        "issues_with_comments": sum(1 for issue in issues if issue["comments"]),
        "distinct_logins": len(
            {
                item["user"]["login"]
                for d in corpus.values()
                for item in (*d["issues"], *d["comments"])
                if item.get("user")
            }
        ),
    }
    pdir = workdir / "perceval"
    pdir.mkdir(parents=True, exist_ok=True)
    setup = ensure_perceval(pdir / "install.log")
    result["perceval_version"], result["perceval_python"] = setup["version"], setup["python"]
    # As shipped, Perceval looks up every author (`/users/X` and `/users/X/orgs`);
    # `--filter-classified` leaves those look-ups out, which is what botstudy does too.
    result["perceval_runs"] = {
        variant: run_perceval(args, setup, corpus, pdir / variant.split()[0], flags, n_issues)
        for variant, flags in PERCEVAL_VARIANTS.items()
    }
    result["perceval_cmd"] = result["perceval_runs"][next(iter(PERCEVAL_VARIANTS))]["cmd"]

    # botstudy on a fresh server with the same corpus.
    with FakeGitHub(
        corpus,
        token=TOKEN,
        issues_offset_cap=ISSUES_OFFSET_CAP,
        comments_offset_cap=COMMENTS_OFFSET_CAP,
        rate_limit=args.rate_limit,
    ) as server:
        bdir = workdir / "perceval-botstudy"
        bdir.mkdir(parents=True, exist_ok=True)
        run = run_miner(
            server, miner_env(server.url, [repo], bdir), bdir, "small-full", args.miner_timeout
        )
        if run["success"]:
            run["verification"] = db_verification(bdir / "botstudy.duckdb", corpus)
        result["botstudy_run"] = run
        log(
            f"  botstudy: rc={run['returncode']} wall={run['wall_s']:.1f}s "
            f"counted={run['server']['counted']}"
        )
    return result


# --------------------------------------------------------------------------------------------
# Report


def machine_facts() -> dict:
    meminfo = (
        Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    )
    mem_kib = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:")), 0)
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    versions = {}
    for package in ("dagster", "duckdb", "polars", "httpx"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:
            versions[package] = "?"
    return {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "mem_gib": mem_kib / 1024**2,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def code_version(code_root: Path) -> str:
    """Which botstudy code ran: the work tree's HEAD and its uncommitted changes, or a snapshot."""

    def git(*argv: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), *argv], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    if code_root != ROOT:
        marker = code_root / "SNAPSHOT_OF"
        origin = marker.read_text().strip() if marker.exists() else "unknown commit"
        return f"snapshot at {code_root} ({origin}); work tree HEAD {head}"
    dirty = git("status", "--porcelain", "--", "botstudy_assets", "botstudy_dev").splitlines()
    changed = ", ".join(line[3:] for line in dirty)
    return f"work tree {ROOT}, HEAD {head}" + (
        f" + uncommitted changes in {changed}" if changed else ""
    )


def fmt_int(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _exactly_once(v: dict, what: str) -> bool:
    """Every served item of `what` (issues or comments) stored once, none missing or extra."""
    return (
        v[what] == v[f"distinct_{what}"] == v[f"expected_{what}"]
        and not v[f"missing_{what}"]
        and not v[f"extra_{what}"]
    )


def verdict(ok: bool) -> str:
    return "✅ yes" if ok else "❌ **no**"


def render(results: dict) -> str:
    facts = results["machine"]
    lines = [
        "# Mining benchmark: botstudy at paper scale, and vs. Perceval",
        "",
        f"Produced by `{results['command']}` on {results['date']} "
        f"(total {results['total_s'] / 60:.1f} min).",
        "",
        f"Code: {results.get('code', '?')}.",
        "",
        f"Machine: {facts['nproc']} CPUs ({facts['cpu'] or 'unknown model'}), "
        f"{facts['mem_gib']:.1f} GiB memory, Python {facts['python']} on {facts['platform']}; "
        + ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
        + ".",
        "",
        "The fake GitHub (`botstudy_dev/fake_github.py`) runs on loopback threads inside the "
        "benchmark process; each miner runs in its own subprocess, so the wall times and peak RSS "
        "below are the miner's alone (peak RSS from `os.wait4`'s rusage for that child). "
        f"Pagination caps as on GitHub: issues page offset {ISSUES_OFFSET_CAP:,}, repository "
        f"comments offset {COMMENTS_OFFSET_CAP:,}. Primary rate limit set to "
        f"{results['rate_limit']:,} requests/hour so that no run waits for a reset "
        '(GitHub\'s is 5,000). "Counted" = requests that cost rate limit (all but 304s, faults, '
        "401s and rate-limited answers), as counted by the server.",
        "",
    ]
    if results.get("miner_env"):
        lines += [
            "Extra environment for the miner: "
            + ", ".join(f"`{k}={v}`" for k, v in results["miner_env"].items())
            + ".",
            "",
        ]
    if "scale" in results:
        lines += render_scale(results["scale"])
    if "perceval" in results:
        lines += render_perceval(results["perceval"])
    for section, error in results.get("errors", {}).items():
        lines += [
            f"## {section}: the benchmark itself failed",
            "",
            "```",
            error.rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines) + "\n"


def render_scale(scale: dict) -> list[str]:
    lines = ["## 1. Paper-scale mining (raw_issues + raw_issue_comments)", ""]
    lines += ["| repository | issues | comments | minimum requests |", "|---|---:|---:|---:|"]
    for repo, n_issues, n_comments in scale["split"]:
        lines.append(
            f"| {repo} | {n_issues:,} | {n_comments:,} | "
            f"{math.ceil(n_issues / 100) + math.ceil(n_comments / 100):,} |"
        )
    lines += [
        f"| **total** | **{scale['issues']:,}** | **{scale['comments']:,}** | "
        f"**{scale['minimum']:,}** |",
        "",
    ]
    runs = {run["label"].removeprefix("scale-"): run for run in scale["runs"]}
    full = runs.get("full")
    if full is None:
        return [*lines, "No run completed.", ""]
    n_repos = len(scale["split"])
    counted = full["server"]["counted"]
    ratio = counted / scale["minimum"]
    child = full["child"]
    lines += ["| metric | value | target | met |", "|---|---:|---|---|"]
    lines.append(
        f"| first run: finished | {'yes' if full['success'] else '**no**'} "
        f"(exit {full['returncode']}{', timed out' if full['timed_out'] else ''}) | | "
        f"{verdict(full['success'])} |"
    )
    lines.append(
        f"| first run: counted requests | {counted:,} | ≤ {TARGET_REQUEST_RATIO} × "
        f"{scale['minimum']:,} = {math.floor(TARGET_REQUEST_RATIO * scale['minimum']):,} | "
        f"{verdict(ratio <= TARGET_REQUEST_RATIO)} |"
    )
    lines.append(
        f"| first run: counted / minimum | {ratio:.4f} | ≤ {TARGET_REQUEST_RATIO} | "
        f"{verdict(ratio <= TARGET_REQUEST_RATIO)} |"
    )
    lines.append(
        f"| first run: all requests (incl. 304/faults/errors) | {full['server']['requests']:,} | "
        "| |"
    )
    lines.append(f"| first run: wall time (process) | {full['wall_s']:.1f} s | | |")
    if "materialize_s" in child:
        lines.append(
            f"| first run: of which Dagster + botstudy import / materialize | "
            f"{child['import_s']:.1f} s / {child['materialize_s']:.1f} s | | |"
        )
    lines.append(
        f"| first run: CPU user + sys (child) | {full['user_s']:.0f} s + {full['sys_s']:.0f} s | "
        "| |"
    )
    lines.append(
        f"| first run: peak RSS (wait4 ru_maxrss) | {full['maxrss_bytes'] / MB:,.0f} MiB | "
        f"< 1 GiB | {verdict(full['maxrss_bytes'] < TARGET_PEAK_RSS)} |"
    )
    verification = full.get("verification")
    if verification:
        v = verification
        lines.append(
            f"| rows stored: issues (distinct) / expected | {v['issues']:,} "
            f"({v['distinct_issues']:,}) / "
            f"{v['expected_issues']:,} | exactly once | {verdict(_exactly_once(v, 'issues'))} |"
        )
        lines.append(
            f"| rows stored: comments (distinct) / expected | {v['comments']:,} "
            f"({v['distinct_comments']:,}) / "
            f"{v['expected_comments']:,} | exactly once | {verdict(_exactly_once(v, 'comments'))} |"
        )
        lines.append(
            f"| key sets vs. corpus: missing / extra | issues {v['missing_issues']} / "
            f"{v['extra_issues']}, "
            f"comments {v['missing_comments']} / {v['extra_comments']} | 0 / 0 | "
            f"{verdict(v['exactly_once'])} |"
        )
        lines.append(f"| DuckDB file size | {v['db_bytes'] / MB:,.0f} MiB | | |")
    refresh = runs.get("refresh")
    if refresh is not None:
        limit = TARGET_REFRESH_PER_ENDPOINT_REPO * 2 * n_repos
        ok = refresh["success"] and refresh["server"]["counted"] <= limit
        lines.append(
            f"| refresh, nothing changed: counted requests | {refresh['server']['counted']:,} | "
            f"≤ 1 per endpoint per repo = {limit} | {verdict(ok)} |"
        )
        lines.append(
            f"| refresh: 304 Not Modified (free) | {refresh['server']['not_modified']:,} | | |"
        )
        lines.append(
            f"| refresh: wall time (process) / materialize | {refresh['wall_s']:.1f} s / "
            f"{refresh['child'].get('materialize_s', float('nan')):.1f} s | | |"
        )
        lines.append(
            f"| refresh: peak RSS | {refresh['maxrss_bytes'] / MB:,.0f} MiB | < 1 GiB | "
            f"{verdict(refresh['maxrss_bytes'] < TARGET_PEAK_RSS)} |"
        )
    steady = runs.get("steady")
    if steady is not None:
        lines.append(
            f"| second refresh (steady state): counted / 304 | {steady['server']['counted']:,} / "
            f"{steady['server']['not_modified']:,} | | |"
        )
        lines.append(
            f"| second refresh: wall time (process) / materialize | {steady['wall_s']:.1f} s / "
            f"{steady['child'].get('materialize_s', float('nan')):.1f} s | | |"
        )
        if steady.get("verification"):
            lines.append(
                f"| after all runs: still exactly once | "
                f"{'yes' if steady['verification']['exactly_once'] else '**no**'} | exactly once | "
                f"{verdict(steady['verification']['exactly_once'])} |"
            )
    lines.append("")
    ties = scale.get("ties") or []
    if ties:
        predicted = sum(math.ceil(n / 100) for *_, n in ties)
        lines += [
            "Items sharing the newest `updated_at` second (GitHub's `since` is inclusive with "
            "1 s resolution, so a refresh from the watermark re-reads them unless its ETag "
            f"answers 304; without any 304 that is Σ ceil(n/100) = {predicted} pages):",
            "",
            "| repository | endpoint | newest updated_at | items at that second | pages |",
            "|---|---|---|---:|---:|",
        ]
        lines += [
            f"| {repo} | {endpoint} | {newest} | {n:,} | {math.ceil(n / 100)} |"
            for repo, endpoint, newest, n in ties
        ]
        lines.append("")
    lines += render_run_details(scale["runs"])
    return lines


def render_run_details(runs: list[dict]) -> list[str]:
    stacks: list[tuple[str, list[str]]] = []
    lines = [
        "Requests by endpoint and status, per run (server's count):",
        "",
        "| run | by endpoint | by status | retries (client) | window restarts |",
        "|---|---|---|---:|---|",
    ]
    for run in runs:
        server = run["server"]
        meta = run["child"].get("metadata", {})
        retries = sum(int(m.get("retries") or 0) for m in meta.values())
        restarts = window_restarts(meta)
        lines.append(
            f"| {run['label']} | {fmt_counter(server['by_endpoint'])} | "
            f"{fmt_counter(server['by_status'])} | {retries} | {restarts} |"
        )
    lines.append("")
    steps_lines = []
    for run in runs:
        child = run["child"]
        for step, info in sorted(
            child.get("steps", {}).items(), key=lambda kv: kv[1].get("start", 0)
        ):
            duration = info.get("end", 0) - info.get("start", 0)
            peak = info.get("rss_peak", 0)
            steps_lines.append(
                f"| {run['label']} | `{step}` | {duration:.1f} s | "
                + (f"{peak / MB:,.0f} MiB |" if peak else "– (shorter than a sample) |")
            )
    if steps_lines:
        lines += [
            "Dagster steps: duration and peak RSS sampled inside the step (every 0.1 s):",
            "",
            "| run | step | duration | peak RSS in step |",
            "|---|---|---:|---:|",
            *steps_lines,
            "",
        ]
    for run in runs:
        child = run["child"]
        if child.get("rss_after_import"):
            lines.append(
                f"- {run['label']}: RSS after importing Dagster + botstudy "
                f"{child['rss_after_import'] / MB:,.0f} MiB; peak {run['maxrss_bytes'] / MB:,.0f} "
                "MiB "
                f"(wait4), VmHWM {child.get('vm_hwm', 0) / MB:,.0f} MiB, sampled "
                f"{child.get('rss_peak_sampled', 0) / MB:,.0f} MiB at "
                f"{child.get('rss_peak_at', 0) - child.get('started', 0):.1f} s; at exit "
                f"{child.get('rss_at_end', 0) / MB:,.0f} MiB."
            )
        if child.get("peak_stacks"):
            stacks.append((run["label"], child["peak_stacks"]))
        if not run["success"]:
            lines += [
                "",
                f"**{run['label']} failed** (exit {run['returncode']}"
                f"{', timed out' if run['timed_out'] else ''}). Failures:",
                "",
                "```",
            ]
            lines += [failure[-3000:] for failure in child.get("failures", [])]
            if child.get("exception"):
                lines.append(child["exception"][-3000:])
            lines += ["--- stderr tail ---", run.get("stderr_tail", "")[-4000:], "```"]
        failed_checks = [name for name, passed in child.get("checks", {}).items() if not passed]
        if failed_checks:
            lines.append(
                f"- {run['label']}: asset checks that did not pass: {', '.join(failed_checks)}"
            )
    lines.append("")
    for label, thread_stacks in stacks:
        lines += [
            "<details><summary>" + label + ": what each thread was running when the sampled "
            "RSS reached its peak (innermost frames)</summary>",
            "",
            "```",
        ]
        lines += [stack.rstrip() for stack in thread_stacks]
        lines += ["```", "", "</details>", ""]
    return lines


def window_restarts(meta: dict) -> str:
    """Sum the `window_restarts` column of the per-repo mining_report markdown tables."""
    total = 0
    for asset in meta.values():
        table = str(asset.get("mining_report") or "")
        rows = [
            row.strip().strip("|").split("|") for row in table.splitlines() if row.startswith("|")
        ]
        if len(rows) < 3:
            continue
        header = [cell.strip() for cell in rows[0]]
        if "window_restarts" not in header:
            continue
        column = header.index("window_restarts")
        total += sum(int(float(row[column])) for row in rows[2:] if row[column].strip())
    return str(total)


def fmt_counter(counter: dict) -> str:
    return ", ".join(
        f"{key} {value:,}" for key, value in sorted(counter.items(), key=lambda kv: -kv[1])
    )


def render_perceval(p: dict) -> list[str]:
    lines = [
        "## 2. Side by side with Perceval (one repository, same corpus, fresh server each)",
        "",
        f"Corpus: `{p['repo']}`, {p['issues']:,} issues ({p['issues_with_comments']:,} with "
        "comments), "
        f"{p['comments']:,} comments, {p['distinct_logins']:,} distinct authors "
        f"({p.get('ghost_users', 0)} null users replaced by GitHub's `ghost` user, as Perceval "
        "crashes on a null user); minimum "
        f"{p['minimum']:,} requests. Perceval {p.get('perceval_version', '?')} (Python "
        f"{p.get('perceval_python', '?')}, its own venv) ran as `{p.get('perceval_cmd', '?')}`.",
        "",
    ]
    runs, botstudy = p.get("perceval_runs") or {}, p.get("botstudy_run")
    if len(runs) < len(PERCEVAL_VARIANTS) or not botstudy:
        return [*lines, "Incomplete: see errors below.", ""]
    lines += [
        "| tool | finished | items out | counted requests | all requests | wall time | peak RSS | "
        "requests by endpoint |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for variant, run in runs.items():
        lines.append(
            f"| Perceval {variant} | {'yes' if run['success'] else '**no**'} (exit "
            f"{run['returncode']}{', timed out' if run['timed_out'] else ''}) | "
            f"{run['items']:,} issues | {run['server']['counted']:,} | "
            f"{run['server']['requests']:,} | {run['wall_s']:.1f} s | "
            f"{run['maxrss_bytes'] / MB:,.0f} MiB | {fmt_counter(run['server']['by_endpoint'])} |"
        )
    b_items = botstudy.get("verification", {})
    materialize_s = botstudy["child"].get("materialize_s") or float("nan")
    lines.append(
        f"| botstudy | {'yes' if botstudy['success'] else '**no**'} (exit "
        f"{botstudy['returncode']}) | "
        f"{b_items.get('issues', '?'):,} issues + {b_items.get('comments', '?'):,} comments | "
        f"{botstudy['server']['counted']:,} | {botstudy['server']['requests']:,} | "
        f"{botstudy['wall_s']:.1f} s (materialize {materialize_s:.1f} s) | "
        f"{botstudy['maxrss_bytes'] / MB:,.0f} MiB | "
        f"{fmt_counter(botstudy['server']['by_endpoint'])} |"
    )
    lines += [
        "",
        "Perceval writes issues with their comments (and, with look-ups, their authors' profiles) "
        "to a JSON-lines file; botstudy writes issues and comments to DuckDB through Dagster, "
        "whose import and run machinery take a few seconds and a few hundred MiB of the figures "
        "above (the materialize time leaves the import out).",
        "",
        "| Perceval / botstudy | counted requests | target ≥ "
        f"{TARGET_PERCEVAL_RATIO:.0f}× | wall time (process) | wall time vs. materialize | "
        "peak RSS |",
        "|---|---:|---|---:|---:|---:|",
    ]
    b_counted = max(botstudy["server"]["counted"], 1)
    for variant, run in runs.items():
        ratio = run["server"]["counted"] / b_counted
        lines.append(
            f"| {variant} | {ratio:.1f}× | "
            f"{verdict(ratio >= TARGET_PERCEVAL_RATIO and run['success'])} | "
            f"{run['wall_s'] / botstudy['wall_s']:.2f}× | {run['wall_s'] / materialize_s:.2f}× | "
            f"{run['maxrss_bytes'] / max(botstudy['maxrss_bytes'], 1):.2f}× |"
        )
    lines.append("")
    for variant, run in runs.items():
        if not run["success"]:
            lines += [
                f"Perceval {variant} did not finish cleanly; stderr tail:",
                "",
                "```",
                run.get("stderr_tail", "")[-4000:],
                "```",
                "",
            ]
    if not botstudy["success"]:
        lines += render_run_details([botstudy])
    return lines


# --------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mining_benchmark", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--issues",
        type=int,
        default=PAPER_ISSUES,
        help="issues in the scale corpus, split over the three repositories (68400)",
    )
    parser.add_argument("--comments-per-issue", type=float, default=6.0)
    parser.add_argument(
        "--perceval-issues",
        type=int,
        default=PAPER_SPLIT[0][1],
        help="issues of the one-repository corpus for the Perceval comparison (keras-sized)",
    )
    parser.add_argument("--perceval-comments-per-issue", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=1_000_000,
        help="the fake's primary rate limit per hour (GitHub: 5000)",
    )
    parser.add_argument(
        "--miner-timeout", type=float, default=3 * 3600, help="seconds per miner run"
    )
    parser.add_argument("--perceval-timeout", type=float, default=20 * 60)
    parser.add_argument(
        "--miner-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the miner child (experiments, e.g. "
        "MALLOC_ARENA_MAX=2); recorded in the results",
    )
    parser.add_argument(
        "--code-root",
        type=Path,
        default=ROOT,
        help="checkout whose botstudy_assets/botstudy_dev are benchmarked (e.g. a "
        "`git archive HEAD` snapshot, to measure a commit while the work tree "
        "is being edited); default: this work tree",
    )
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-perceval", action="store_true")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--results", type=Path, default=RESULTS_FILE)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    CODE_ROOT[0] = args.code_root.resolve()
    sys.path.insert(0, str(CODE_ROOT[0]))
    for assignment in args.miner_env:
        name, _, value = assignment.partition("=")
        EXTRA_MINER_ENV[name] = value
    started = time.monotonic()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="botstudy-mining-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"scratch directory: {workdir}")
    results: dict = {
        "command": ".venv/bin/python -m benchmarks.mining_benchmark"
        + (
            " " + shlex.join(sys.argv[1:] if argv is None else argv)
            if (sys.argv[1:] if argv is None else argv)
            else ""
        ),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "rate_limit": args.rate_limit,
        "errors": {},
        "miner_env": dict(EXTRA_MINER_ENV),
        "code": code_version(CODE_ROOT[0]),
    }
    try:
        for section, enabled, function in (
            ("scale", not args.skip_scale, scale_benchmark),
            ("perceval", not args.skip_perceval, perceval_benchmark),
        ):
            if not enabled:
                continue
            try:
                results[section] = function(args, workdir)
            except Exception:
                results["errors"][section] = traceback.format_exc()
                log(f"{section} failed:\n{results['errors'][section]}")
    finally:
        results["total_s"] = time.monotonic() - started
        text = render(results)
        args.results.write_text(text, encoding="utf-8")
        print(text)
        log(f"wrote {args.results}")
        if args.keep:
            (workdir / "results.json").write_text(
                json.dumps(results, default=str, indent=1), encoding="utf-8"
            )
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if not results["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
