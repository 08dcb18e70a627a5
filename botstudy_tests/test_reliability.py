"""Reliability: killed runs, SQL readers during runs, bad input, and the token kept secret.

These run `python -m botstudy_assets.run` (what `make run` runs) as a real process."""

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_dev.corpora import devset_corpus
from botstudy_dev.fake_github import FakeGitHub, bulk_corpus, minimum_requests
from botstudy_tests.harness import load_devset

VOLATILE = {"mined_at", "path", "bytes", "html_url"}  # differ between runs by design
TOKEN = "ghp_" + "T0kenForTests" * 3


def run_env(tmp: Path, db: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BOTSTUDY_") and key != "GITHUB_TOKEN"
    }
    env.update(
        {
            "BOTSTUDY_SOURCE": "sample",
            "BOTSTUDY_DB": str(db),
            "BOTSTUDY_REPORTS_DIR": str(tmp / "reports"),
            "DAGSTER_HOME": str(tmp / "home"),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "GX_ANALYTICS_ENABLED": "false",
            **extra,
        }
    )
    (tmp / "home").mkdir(exist_ok=True)
    return env


RUN = [sys.executable, "-m", "botstudy_assets.run"]
MAKE_RUN = ["make", "--no-print-directory", "run"]  # the venv is installed: it only materializes


def start_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        RUN,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish_run(
    env: dict[str, str], timeout: float = 300, command: list[str] = RUN
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def fingerprints(db: Path) -> dict[str, tuple]:
    """Order-independent content hash of every table, ignoring columns that differ by design."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        result = {}
        for table in tables:
            columns = [
                f'"{name}"'
                for (name,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                    [table],
                ).fetchall()
                if name not in VOLATILE
            ]
            result[table] = con.execute(
                f'SELECT count(*), sum(hash(x)) FROM (SELECT {", ".join(columns)} FROM "{table}") x'
            ).fetchone()
    return result


def kill_at_step(env: dict[str, str], step: str) -> str:
    """Start a run and SIGKILL it the moment Dagster starts `step`."""
    process = start_run(env)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if f'Started execution of step "{step}"' in line:
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-30:])
    return "".join(seen)


def test_sigkill_at_any_stage_leaves_each_table_old_or_new_and_a_rerun_completes(tmp_path):
    old_db, new_db = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    # Two complete runs that differ in every table: a 2019 snapshot and the whole sample.
    assert finish_run(run_env(tmp_path, old_db, BOTSTUDY_UNTIL="2019-06-01")).returncode == 0
    assert finish_run(run_env(tmp_path, new_db)).returncode == 0
    old, new = fingerprints(old_db), fingerprints(new_db)
    assert all(
        old[table] != new[table] for table in ("raw_issues", "coded_labels", "category_summary")
    )
    victim = tmp_path / "victim.duckdb"
    shutil.copy(old_db, victim)
    env = run_env(tmp_path, victim)
    for step in ("raw_issue_comments", "keyword_candidates", "coded_labels", "category_summary"):
        kill_at_step(env, step)
        now = fingerprints(victim)
        torn = {
            table: value for table, value in now.items() if value not in (old[table], new[table])
        }
        assert not torn, f"killed at {step}: tables neither old nor new: {sorted(torn)}"
    rerun = finish_run(env)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert fingerprints(victim) == new


# What a SQL user sees: Table I and when the issues were mined (a sample run reloads them).
VIEW_SQL = (
    "SELECT (SELECT sum(hash(category, issue_count)) FROM category_summary), "
    "(SELECT max(mined_at)::VARCHAR FROM raw_issues)"
)
# A notebook that keeps its connection open: it reads, waits for a line on stdin, reads again.
HOLDING_READER = f"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(con.execute({VIEW_SQL!r}).fetchone()), flush=True)
sys.stdin.readline()
print(json.dumps(con.execute({VIEW_SQL!r}).fetchone()), flush=True)
"""


def test_readers_of_the_published_file_and_a_run_never_wait_for_each_other(tmp_path):
    """A second `make run` while one reader keeps BOTSTUDY_DB open for the whole run and another
    opens, queries and closes it every 0.3 s (plain duckdb connections, no retrying helper):
    the run finishes in about its usual time with exit 0 and no reader query fails."""
    db = tmp_path / "busy.duckdb"
    env = run_env(tmp_path, db)
    started = time.monotonic()
    first = finish_run(env, command=MAKE_RUN)
    usual = time.monotonic() - started
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDING_READER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    held_view = tuple(json.loads(holder.stdout.readline()))
    views, failures, stop = [], [], threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                con = duckdb.connect(str(db), read_only=True)
                try:
                    views.append(con.execute(VIEW_SQL).fetchone())
                finally:
                    con.close()
            except duckdb.Error as error:
                failures.append(str(error))
            time.sleep(0.3)

    thread = threading.Thread(target=reader)
    thread.start()
    started = time.monotonic()
    run = subprocess.Popen(
        MAKE_RUN,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # Were the run to wait for the reader that holds the file, it would never end here.
        output, _ = run.communicate(timeout=3 * usual + 60)
    finally:
        stop.set()
        thread.join(timeout=60)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    second = time.monotonic() - started
    holder.stdin.write("\n")
    holder.stdin.flush()
    held_again = tuple(json.loads(holder.stdout.readline()))
    holder.wait(timeout=60)
    print(
        f"\nfirst make run {usual:.1f} s, second beside the readers {second:.1f} s; "
        f"{len(views)} reads, {len(set(views))} versions seen"
    )
    assert run.returncode == 0, output[-3000:]
    assert not failures, failures[:3]
    assert held_again == held_view  # a consistent view for as long as it stays open
    assert len(views) >= 10 and len(set(views)) >= 2  # later opens see what the run published
    assert views[-1][1] > held_view[1]  # the newest publication is the second run's


REPOS = ["keras-team/keras", "pytorch/pytorch", "tensorflow/tensorflow"]


def test_repository_partitions_mined_in_parallel_processes_share_the_file(tmp_path):
    """One run per repository partition, all at once in separate processes, each step in its own
    process (the multiprocess executor): lock waits instead of lock failures. Then the whole
    graph, two steps at a time, over every partition."""
    import dagster as dg

    from botstudy_assets.defs.mining.partitions import sync_repositories

    env = run_env(tmp_path, tmp_path / "mp.duckdb")
    sync_repositories(dg.DagsterInstance.from_config(env["DAGSTER_HOME"]), REPOS)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", f"{HELPERS}; run_mining_partition({repo!r})"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for repo in REPOS
    ]
    for repo, run in zip(REPOS, runs, strict=True):
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, (repo, output[-3000:])
    whole = subprocess.run(
        [sys.executable, "-c", f"{HELPERS}; run_whole_graph()"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert whole.returncode == 0, whole.stdout[-3000:] + whole.stderr[-3000:]
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    assert instance.get_materialized_partitions(dg.AssetKey("raw_issue_comments")) == set(REPOS)
    with duckdb.connect(env["BOTSTUDY_DB"], read_only=True) as con:
        assert (
            sorted(
                repo for (repo,) in con.execute("SELECT DISTINCT repo FROM raw_issues").fetchall()
            )
            == REPOS
        )
        assert con.execute("SELECT count(*) FROM category_summary").fetchone()[0] == 9


HELPERS = "from botstudy_tests.test_reliability import run_mining_partition, run_whole_graph"
MULTIPROCESS = {"execution": {"config": {"max_concurrent": 2, "start_method": {"forkserver": {}}}}}


def run_mining_partition(repo: str) -> None:
    """In a child process: mine one repository partition with the multiprocess executor."""
    import dagster as dg

    result = dg.execute_job(
        dg.reconstructable(_multiprocess_mining_job),
        instance=dg.DagsterInstance.get(),
        run_config=MULTIPROCESS,
        tags={"dagster/partition": repo},
    )
    sys.exit(0 if result.success else "\n".join(_step_failures(result)))


def run_whole_graph() -> None:
    """In a child process: the whole graph over every partition with the multiprocess executor."""
    import dagster as dg

    from botstudy_assets.defs.mining.partitions import all_repositories_tags

    instance = dg.DagsterInstance.get()
    result = dg.execute_job(
        dg.reconstructable(_multiprocess_graph_job),
        instance=instance,
        run_config=MULTIPROCESS,
        tags=all_repositories_tags(instance, REPOS),
    )
    sys.exit(0 if result.success else "\n".join(_step_failures(result)))


def _step_failures(result) -> list[str]:
    return [str(event.step_failure_data.error) for event in result.get_step_failure_events()]


def _multiprocess_job(name: str, selection):
    import dagster as dg

    from botstudy_assets.definitions import defs as load_definitions

    defs = load_definitions()
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        resources=defs.resources,
        jobs=[
            dg.define_asset_job(name, selection=selection, executor_def=dg.multiprocess_executor)
        ],
    ).resolve_job_def(name)


def _multiprocess_mining_job():
    import dagster as dg

    return _multiprocess_job("mine_repository", dg.AssetSelection.groups("mining"))


def _multiprocess_graph_job():
    import dagster as dg

    return _multiprocess_job("botstudy_parallel", dg.AssetSelection.all())


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("BOTSTUDY_SOURCE", "gihub", "BOTSTUDY_SOURCE='gihub' is not one of sample, github"),
        (
            "BOTSTUDY_REPOS",
            "pytorch,keras-team/keras",
            "BOTSTUDY_REPOS: 'pytorch' is not in owner/name form",
        ),
        ("BOTSTUDY_UNTIL", "last tuesday", "BOTSTUDY_UNTIL='last tuesday' is not an ISO date"),
    ],
)
def test_misspelt_settings_stop_before_any_work(tmp_path, variable, value, message):
    result = finish_run(run_env(tmp_path, tmp_path / "never.duckdb", **{variable: value}))
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "never.duckdb").exists()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A copy of data/ and the database of one complete run on it, shared by the bad-input tests."""
    tmp = tmp_path_factory.mktemp("baseline")
    shutil.copytree(
        PROJECT_ROOT / "data", tmp / "data", ignore=shutil.ignore_patterns("*.duckdb*", "reports")
    )
    assert (
        finish_run(
            run_env(tmp, tmp / "kept.duckdb", BOTSTUDY_DATA_DIR=str(tmp / "data"))
        ).returncode
        == 0
    )
    return tmp


def _first_rated_issue(data: Path) -> str:
    repo, number = (
        (data / "labels" / "sample" / "coding" / "rater1.csv")
        .read_text()
        .splitlines()[1]
        .split(",")[:2]
    )
    return f"{repo},{number}"


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda data: (data / "sample" / "pytorch__pytorch" / "comments.json.gz").write_bytes(
                (data / "sample" / "pytorch__pytorch" / "comments.json.gz").read_bytes()[:5000]
            ),
            "pytorch__pytorch/comments.json.gz: cannot read the sample",
        ),
        (
            lambda data: (data / "sample" / "keras-team__keras" / "issues.json.gz").write_bytes(
                gzip.compress(b'{"not": "a list"}')
            ),
            "expected a JSON array of GitHub items",
        ),
        (
            lambda data: (data / "bot_registry.yaml").write_text(
                (data / "bot_registry.yaml")
                .read_text()
                .replace("kind: machine_user", "kind: robot", 1)
            ),
            "bot_registry.yaml: entries[0] (name=tensorflowbutler).kind",
        ),
        (
            lambda data: (data / "codebook.yaml").write_text("version: 1\ncategories: [\n"),
            "codebook.yaml: not valid YAML",
        ),
        (
            lambda data: (data / "labels" / "sample" / "coding" / "rater2.csv").write_text(
                f"\ufeffrepo,number,categories\n{_first_rated_issue(data)},stale;astrology\n"
            ),
            "rater2.csv: line 2: unknown category astrology",
        ),
        (
            lambda data: (data / "labels" / "sample" / "adjudication.csv").write_text(
                f"repo,number,categories\n{_first_rated_issue(data)},stale\n{_first_rated_issue(data)},license\n"
            ),
            "adjudication.csv: line 3: ",
        ),
    ],
    ids=[
        "truncated-sample",
        "sample-not-a-list",
        "registry-schema",
        "codebook-syntax",
        "rater-unknown-category",
        "adjudication-contradiction",
    ],
)
def test_bad_input_names_the_file_and_keeps_what_was_stored(tmp_path, baseline, damage, message):
    shutil.copytree(baseline / "data", tmp_path / "data")
    shutil.copy(baseline / "kept.duckdb", tmp_path / "kept.duckdb")
    db, data = tmp_path / "kept.duckdb", tmp_path / "data"
    before = fingerprints(db)
    damage(data)
    result = finish_run(run_env(tmp_path, db, BOTSTUDY_DATA_DIR=str(data)))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-3000:]
    assert (
        "appears again with different categories" in result.stderr or "adjudication" not in message
    )
    assert fingerprints(db) == before


def test_the_token_never_reaches_anything_a_run_writes(tmp_path):
    corpus = devset_corpus(load_devset())
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = run_env(
            tmp_path,
            tmp_path / "secret.duckdb",
            BOTSTUDY_SOURCE="github",
            GITHUB_TOKEN=TOKEN,
            BOTSTUDY_GITHUB_API_URL=server.url,
            BOTSTUDY_REPOS=",".join(sorted(corpus)),
            BOTSTUDY_LABELS_DIR=str(tmp_path / "labels"),
        )
        result = finish_run(env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert TOKEN not in result.stdout + result.stderr
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.suffix == ".duckdb" for path in written) and any(
        "home" in path.parts for path in written
    )
    leaks = [path for path in written if TOKEN.encode() in path.read_bytes()]
    assert not leaks


def mine_twice_with_make_run(tmp_path: Path, corpus: dict, fault_rate: float) -> tuple[int, dict]:
    """`make run` configured only by a token and the API URL (source, repositories and label
    folder at their defaults), twice, the second time without faults and without changes,
    behind GitHub's real caps (issues page offset 1,000, comments offset 40,000).
    Returns the first run's counted requests and the second run's stats."""
    with FakeGitHub(
        corpus,
        token=TOKEN,
        issues_offset_cap=1000,
        comments_offset_cap=40_000,
        fault_rate=fault_rate,
        retry_after=0,
        seed=5,
    ) as server:
        env = run_env(
            tmp_path,
            tmp_path / "gh.duckdb",
            GITHUB_TOKEN=TOKEN,
            BOTSTUDY_GITHUB_API_URL=server.url,
            BOTSTUDY_HTTP_BACKOFF_S="0.01",
        )
        del env["BOTSTUDY_SOURCE"]  # a token makes github the default
        first = finish_run(env, timeout=1800, command=MAKE_RUN)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert fault_rate == 0 or server.stats["faults"] > 0
        served = server.stats["counted"]  # faults are not counted: they cost no quota
        server.reset_stats()
        server.fault_rate = 0.0
        second = finish_run(env, timeout=1800, command=MAKE_RUN)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        return served, dict(server.stats)


def assert_mined_exactly_once(db: Path, corpus: dict) -> None:
    issue_keys = {
        (repo, issue["number"]) for repo, data in corpus.items() for issue in data["issues"]
    }
    comment_keys = {
        (repo, comment["id"]) for repo, data in corpus.items() for comment in data["comments"]
    }
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_issues").fetchone()[0] == len(issue_keys)
        assert set(con.execute("SELECT repo, number FROM raw_issues").fetchall()) == issue_keys
        assert con.execute("SELECT count(*) FROM raw_issue_comments").fetchone()[0] == len(
            comment_keys
        )
        assert (
            set(con.execute("SELECT repo, comment_id FROM raw_issue_comments").fetchall())
            == comment_keys
        )
        assert (
            con.execute("SELECT count(*) FROM raw_issues WHERE source <> 'github'").fetchone()[0]
            == 0
        )


REPOS = ["keras-team/keras", "pytorch/pytorch", "tensorflow/tensorflow"]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 4 min each here; two runs of the whole graph
@pytest.mark.parametrize("fault_rate", [0.0, 0.05], ids=["no-faults", "5pct-faults"])
def test_make_run_mines_20000_issues_once_within_the_request_budget_and_refreshes_for_free(
    tmp_path, fault_rate
):
    """The acceptance scale: 20,000 issues and 120,000 comments in three repositories behind
    GitHub's real caps, with and without 5% of requests answered by 502s or secondary-limit
    403s."""
    corpus = bulk_corpus(REPOS, issues_per_repo=6_667, comments_per_issue=6.0, seed=21)
    served, refresh = mine_twice_with_make_run(tmp_path, corpus, fault_rate=fault_rate)
    assert served <= minimum_requests(corpus) * 1.10
    # One free 304 per repository and endpoint: issues and comments probes, events' first page.
    assert refresh["counted"] <= 2 * len(REPOS) and refresh["not_modified"] == 3 * len(REPOS)
    assert_mined_exactly_once(tmp_path / "gh.duckdb", corpus)
