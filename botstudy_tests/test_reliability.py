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

from botstudy_assets.defs.resources import LAKE_ONLY_ASSETS
from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.raw_store import RawStore
from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_assets.lib.storage import Warehouse, WarehouseLockTimeout
from botstudy_dev.corpora import devset_corpus
from botstudy_dev.fake_github import FakeGitHub, bulk_corpus, minimum_requests
from botstudy_tests.harness import files_holding, load_devset, token_leaks
from botstudy_tests.killpoints import REACHED as KILLPOINT

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


def start_run(env: dict[str, str], command: list[str] = RUN) -> subprocess.Popen:
    return subprocess.Popen(
        command,
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


MARK = "written before the run under test"
STAMPS = {"raw_issues": "mined_at", "raw_issue_comments": "mined_at", "mining_state": "updated_at"}


def mark_tables(db: Path) -> dict[str, int | None]:
    """Tag every table so that a rewrite shows (replacing a table drops its comment; rewriting a
    raw row gives it a new mined_at); returns the raw tables' stamps."""
    with duckdb.connect(str(db)) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            con.execute(f"COMMENT ON TABLE \"{table}\" IS '{MARK}'")
        return _stamps(con)


def _stamps(con: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    return {
        table: con.execute(f'SELECT sum(hash("{column}")) FROM "{table}"').fetchone()[0]
        for table, column in STAMPS.items()
    }


def rewritten(db: Path, stamps: dict[str, int | None]) -> set[str]:
    """The tables written since `mark_tables` (even with the same content)."""
    with duckdb.connect(str(db), read_only=True) as con:
        replaced = {
            table
            for table, comment in con.execute(
                "SELECT table_name, comment FROM duckdb_tables()"
            ).fetchall()
            if comment != MARK
        }
        now = _stamps(con)
    return replaced | {table for table in STAMPS if now[table] != stamps[table]}


def from_asset_on(asset: str) -> set[str]:
    """The asset and every table downstream of it that `make run` writes (the export is not a
    table and has its own job)."""
    import dagster as dg

    from botstudy_assets.definitions import defs
    from botstudy_assets.defs.jobs import EXPORT_ASSET

    keys = dg.AssetSelection.assets(asset).downstream().resolve(defs().resolve_asset_graph())
    return {key.to_user_string() for key in keys} - {EXPORT_ASSET}


def kill_inside_transaction(env: dict[str, str], sql: str, count: int = 1) -> None:
    """Run `make run`'s main and SIGKILL it inside a DuckDB transaction: after the `count`-th
    statement matching `sql` has run and before the commit (see `killpoints`)."""
    _kill_at(env, {"KILLPOINT_SQL": sql, "KILLPOINT_COUNT": str(count)})


def kill_inside_lake_commit(env: dict[str, str], table: str, count: int = 1) -> None:
    """Run `make run`'s main and SIGKILL it inside the `count`-th Delta commit to the lake's
    `table`: its rows handed to the writer, the commit not made (see `killpoints`)."""
    _kill_at(env, {"KILLPOINT_LAKE": f"/{table}/", "KILLPOINT_COUNT": str(count)})


def _kill_at(env: dict[str, str], killpoint: dict[str, str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "botstudy_tests.killpoints"],
        cwd=PROJECT_ROOT,
        env={**env, **killpoint},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if KILLPOINT in line:
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-30:])


SNAPSHOT_DAY = "2019-06-01"


def sample_before(day: str, source: Path, target: Path) -> Path:
    """A copy of data/ whose sample holds only the issues and comments created before `day`."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.duckdb*", "reports"))
    for path in (target / "sample").glob("*/*.json.gz"):
        items = json.loads(gzip.decompress(path.read_bytes()))
        kept = [item for item in items if item["created_at"] < day]
        path.write_bytes(gzip.compress(json.dumps(kept).encode()))
    return target


# Inside the commits that write: the sample load (the lake commit of the second repository's
# issues, the first one's made), and tables of detection, coding and reporting (replaced in the
# DuckDB file, not yet committed).
KILL_POINTS = [
    ("raw_issues", "lake", "raw_issues", 2),
    ("keyword_candidates", "sql", 'CREATE OR REPLACE TABLE "keyword_candidates"', 1),
    ("coded_labels", "sql", 'CREATE OR REPLACE TABLE "coded_labels"', 1),
    ("category_summary", "sql", 'CREATE OR REPLACE TABLE "category_summary"', 1),
]


def lake_of(env: dict[str, str]) -> RawStore:
    return RawStore(Lake(env.get("BOTSTUDY_LAKE") or str(Path(env["BOTSTUDY_DB"]).parent / "lake")))


def lake_issues(store: RawStore) -> dict[str, tuple]:
    """Each repository's raw issues in the lake, as (rows, content hash)."""
    sql = "SELECT count(*), sum(hash(number, title, updated_at, raw_json)) FROM raw_issues"
    return {repo: store.query(sql, repos=[repo]).row(0) for repo in REPOS}


@pytest.mark.timeout(1800)  # seven runs of the sample: about 8 min on two shared CPUs
def test_sigkill_inside_a_transaction_leaves_each_table_old_or_new_and_a_rerun_completes(
    tmp_path,
):
    old_db, new_db = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    # Two complete runs that differ in every table: a 2019 snapshot of a 2019 sample, and the
    # whole sample; each DuckDB file with its own lake.
    old_data = sample_before(SNAPSHOT_DAY, PROJECT_ROOT / "data", tmp_path / "old_data")
    old_env = run_env(
        tmp_path,
        old_db,
        BOTSTUDY_DATA_DIR=str(old_data),
        BOTSTUDY_UNTIL=SNAPSHOT_DAY,
        BOTSTUDY_LAKE=str(tmp_path / "old.lake"),
    )
    old_run = finish_run(old_env)
    assert old_run.returncode == 0, old_run.stdout[-3000:] + old_run.stderr[-3000:]
    new_env = run_env(tmp_path, new_db, BOTSTUDY_LAKE=str(tmp_path / "new.lake"))
    assert finish_run(new_env).returncode == 0
    old, new = fingerprints(old_db), fingerprints(new_db)
    assert all(old[table] != new[table] for table, _, _, _ in KILL_POINTS)
    old_lake, new_lake = lake_issues(lake_of(old_env)), lake_issues(lake_of(new_env))
    assert all(old_lake[repo] != new_lake[repo] for repo in REPOS)
    victim = tmp_path / "victim.duckdb"
    shutil.copy(old_db, victim)
    shutil.copytree(tmp_path / "old.lake", tmp_path / "victim.lake")
    env = run_env(tmp_path, victim, BOTSTUDY_LAKE=str(tmp_path / "victim.lake"))
    for table, kind, point, count in KILL_POINTS:
        if kind == "lake":
            kill_inside_lake_commit(env, point, count)
            # The first repository's commit was made, the second's was not.
            expected = {repo: (new_lake if repo == REPOS[0] else old_lake)[repo] for repo in REPOS}
            assert lake_issues(lake_of(env)) == expected
        else:
            kill_inside_transaction(env, point, count)
        now = fingerprints(victim)
        assert now[table] == old[table], f"killed inside the write of {table}"
        torn = {name: value for name, value in now.items() if value not in (old[name], new[name])}
        assert not torn, f"killed writing {table}: tables neither old nor new: {sorted(torn)}"
    rerun = finish_run(env)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert fingerprints(victim) == new
    assert lake_issues(lake_of(env)) == new_lake


def issue_pages(paths: list[str]) -> list[str]:
    """The issue pages among requests (not the one-item probes)."""
    return [path for path in paths if "/issues?" in path and "per_page=100" in path]


@pytest.mark.parametrize("moment", ["request_in_flight", "storing_the_page"])
def test_a_walk_killed_mid_page_resumes_at_that_page_and_stores_each_issue_once(tmp_path, moment):
    """SIGKILL while page 5's request is unanswered, or inside the lake commit that stores page 3
    with the walk's state: the next run starts at that page, refetches only it, stores each issue
    once."""
    corpus = bulk_corpus(["acme/alpha"], issues_per_repo=1000, comments_per_issue=1.0, seed=7)
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = github_run_env(tmp_path, server, BOTSTUDY_REPOS="acme/alpha")
        if moment == "request_in_flight":
            arrived = server.hold_request(6)  # the probe, pages 1 to 4, then page 5
            process = start_run(env)
            assert arrived.wait(300), "page 5 was never asked for"
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            server.release()  # now answered into a closed connection, and logged
            deadline = time.monotonic() + 30
            while len(issue_pages(server.request_paths())) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            stored, page = 400, 5
        else:
            kill_inside_lake_commit(env, "raw_issues", 3)
            stored, page = 200, 3
        first = issue_pages(server.request_paths())
        repo = ["acme/alpha"]
        assert lake_of(env).scalar("SELECT count(*) FROM raw_issues", repos=repo) == stored
        server.reset_stats()
        rerun = finish_run(env)
        assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
        again = issue_pages(server.request_paths())
    assert first[page - 1] == again[0]  # resumed at the page in flight, without a probe first
    assert len(first[: page - 1]) + len(again) == 10  # every other page fetched once
    with duckdb.connect(env["BOTSTUDY_DB"], read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT number) FROM raw_issues").fetchone()
    assert rows == (1000, 1000)


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
    run = start_run(env, command=MAKE_RUN)
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


def test_a_working_copy_locked_too_long_by_another_process_says_what_to_do(tmp_path):
    """Another botstudy process keeps its turn on the working copy (a stuck run): this one gives
    up after lock_timeout_s with the README's message, then works once the turn is free."""
    db = tmp_path / "held.duckdb"
    lock_file = f"{Warehouse(db).working_file}.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import filelock, sys, time; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
            "print('held', flush=True); time.sleep(120)",
            lock_file,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLockTimeout) as error:
            Warehouse(db, lock_timeout_s=1).query("SELECT 1")
    finally:
        holder.kill()
        holder.wait()
    assert str(error.value) == (
        f"{Warehouse(db).working_file} stayed locked by another botstudy process for 1 s; "
        "is another run stuck?"
    )
    assert Warehouse(db, lock_timeout_s=1).scalar("SELECT 42") == 42  # free again


REPOS = ["keras-team/keras", "pytorch/pytorch", "tensorflow/tensorflow"]


def test_repository_partitions_mined_in_parallel_processes_share_the_lake(tmp_path):
    """One run per repository partition, all at once in separate processes, each writing its own
    files in the lake (none touches the DuckDB file). Then raw_snapshot and the detection stage
    over every partition with the multiprocess executor, two steps at a time, each in its own
    process (the whole graph this way takes ten minutes on two CPUs: every step process loads
    the code location)."""
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
    detection = subprocess.run(
        [sys.executable, "-c", f"{HELPERS}; run_detection()"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert detection.returncode == 0, detection.stdout[-3000:] + detection.stderr[-3000:]
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    assert instance.get_materialized_partitions(dg.AssetKey("raw_issue_comments")) == set(REPOS)
    with duckdb.connect(env["BOTSTUDY_DB"], read_only=True) as con:
        assert (
            sorted(
                repo for (repo,) in con.execute("SELECT DISTINCT repo FROM raw_issues").fetchall()
            )
            == REPOS
        )
        detected = con.execute("SELECT DISTINCT repo FROM keyword_candidates").fetchall()
        assert sorted(repo for (repo,) in detected) == REPOS


HELPERS = "from botstudy_tests.test_reliability import run_mining_partition, run_detection"
MULTIPROCESS = {"execution": {"config": {"max_concurrent": 2, "start_method": {"forkserver": {}}}}}


def run_mining_partition(repo: str) -> None:
    """In a child process: mine one repository partition (its steps in this process)."""
    import dagster as dg

    result = dg.execute_job(
        dg.reconstructable(_mining_job),
        instance=dg.DagsterInstance.get(),
        tags={"dagster/partition": repo},
    )
    sys.exit(0 if result.success else "\n".join(_step_failures(result)))


def run_detection() -> None:
    """In a child process: detection over every partition with the multiprocess executor."""
    import dagster as dg

    from botstudy_assets.defs.mining.partitions import all_repositories_tags

    instance = dg.DagsterInstance.get()
    result = dg.execute_job(
        dg.reconstructable(_multiprocess_detection_job),
        instance=instance,
        run_config=MULTIPROCESS,
        tags=all_repositories_tags(instance, REPOS),
    )
    sys.exit(0 if result.success else "\n".join(_step_failures(result)))


def _step_failures(result) -> list[str]:
    return [str(event.step_failure_data.error) for event in result.get_step_failure_events()]


def _job(name: str, selection, executor):
    import dagster as dg

    from botstudy_assets.definitions import defs as load_definitions

    defs = load_definitions()
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        resources=defs.resources,
        jobs=[dg.define_asset_job(name, selection=selection, executor_def=executor)],
    ).resolve_job_def(name)


def _mining_job():
    import dagster as dg

    # In process: each partition run is its own process already; its steps need no more.
    selection = dg.AssetSelection.assets(*LAKE_ONLY_ASSETS)
    return _job("mine_repository", selection, dg.in_process_executor)


def _multiprocess_detection_job():
    """`raw_snapshot` (the lake, published once every partition is mined), then detection."""
    import dagster as dg

    selection = dg.AssetSelection.assets("raw_snapshot") | dg.AssetSelection.groups("detection")
    return _job("detect_in_parallel", selection, dg.multiprocess_executor)


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
    "damage, message, fails_at",
    [
        (
            lambda data: (data / "sample" / "pytorch__pytorch" / "comments.json.gz").write_bytes(
                (data / "sample" / "pytorch__pytorch" / "comments.json.gz").read_bytes()[:5000]
            ),
            "pytorch__pytorch/comments.json.gz: cannot read the sample",
            "raw_issue_comments",
        ),
        (
            lambda data: (data / "sample" / "keras-team__keras" / "issues.json.gz").write_bytes(
                gzip.compress(b'{"not": "a list"}')
            ),
            "expected a JSON array of GitHub items",
            "raw_issues",
        ),
        (
            lambda data: (data / "bot_registry.yaml").write_text(
                (data / "bot_registry.yaml")
                .read_text()
                .replace("kind: machine_user", "kind: robot", 1)
            ),
            "bot_registry.yaml: entries[0] (name=tensorflowbutler).kind",
            "bot_accounts",
        ),
        (
            lambda data: (data / "codebook.yaml").write_text("version: 1\ncategories: [\n"),
            "codebook.yaml: not valid YAML",
            "coded_labels",
        ),
        (
            lambda data: (data / "labels" / "sample" / "coding" / "rater2.csv").write_text(
                f"\ufeffrepo,number,categories\n{_first_rated_issue(data)},stale;astrology\n"
            ),
            "rater2.csv: line 2: unknown category astrology",
            "coded_labels",
        ),
        (
            lambda data: (data / "labels" / "sample" / "adjudication.csv").write_text(
                f"repo,number,categories\n{_first_rated_issue(data)},stale\n{_first_rated_issue(data)},license\n"
            ),
            "adjudication.csv: line 3: ",
            "final_labels",
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
def test_bad_input_names_the_file_and_keeps_what_was_stored(
    tmp_path, baseline, damage, message, fails_at
):
    """The step that reads the bad input fails, and neither its table nor any table after it is
    written at all (not even with the same content); what came before is rewritten unchanged."""
    shutil.copytree(baseline / "data", tmp_path / "data")
    shutil.copy(baseline / "kept.duckdb", tmp_path / "kept.duckdb")
    db, data = tmp_path / "kept.duckdb", tmp_path / "data"
    before, stamps = fingerprints(db), mark_tables(db)
    damage(data)
    env = run_env(tmp_path, db, BOTSTUDY_DATA_DIR=str(data))
    result = finish_run(env)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-3000:]
    assert (
        "appears again with different categories" in result.stderr or "adjudication" not in message
    )
    assert fingerprints(db) == before
    written = rewritten(db, stamps)
    assert not written & from_asset_on(fails_at), sorted(written)
    if fails_at in LAKE_ONLY_ASSETS:
        # Mining writes the lake: the issues were reloaded there; the DuckDB file is written
        # from `raw_snapshot` on, which comes after every mining asset.
        reloaded = lake_of(env).scalar("SELECT count(*) FROM raw_issues", repos=REPOS)
        assert fails_at == "raw_issues" or reloaded
    else:
        assert "raw_issues" in written  # a rewrite is seen


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
    assert any("home" in path.parts for path in written)
    assert any(path.suffix == ".png" for path in written)
    assert token_leaks(tmp_path / "secret.duckdb", TOKEN) == []
    assert files_holding(tmp_path, TOKEN) == []


def test_the_token_search_reads_every_column_of_every_table(tmp_path):
    """One row of 20,000 holding the token, in a text column and in a list column, is found."""
    db = tmp_path / "planted.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT i, 'row ' || i AS text, ['a', 'b'] AS tags "
            "FROM range(20000) r(i)"
        )
        con.execute("UPDATE t SET text = 'Bearer ' || ? WHERE i = 12345", [TOKEN])
        con.execute("CREATE TABLE u AS SELECT [?, 'x'] AS tags", [TOKEN])
    assert token_leaks(db, TOKEN) == ["t.text", "u.tags"]
    (tmp_path / "log.txt").write_text(f"header {TOKEN}")
    assert files_holding(tmp_path, TOKEN) == [tmp_path / "log.txt"]


def github_run_env(tmp_path: Path, server: FakeGitHub, **extra: str) -> dict[str, str]:
    return run_env(
        tmp_path,
        tmp_path / "gh.duckdb",
        BOTSTUDY_SOURCE="github",
        GITHUB_TOKEN=TOKEN,
        BOTSTUDY_GITHUB_API_URL=server.url,
        BOTSTUDY_LABELS_DIR=str(tmp_path / "labels"),
        BOTSTUDY_HTTP_BACKOFF_S="0.01",
        **extra,
    )


def test_a_failed_warning_check_is_printed_and_the_run_exits_0(tmp_path):
    """A comment whose issue the issues walk did not see (on a live repository: an issue opened
    during the walk) fails the WARN check `raw_issue_comments_reference_issues`, nothing else."""
    corpus = devset_corpus(load_devset())
    repo = sorted(corpus)[0]
    stray = dict(corpus[repo]["comments"][0], id=99_999_999)
    stray["issue_url"] = stray["issue_url"].rsplit("/", 1)[0] + "/999999"
    corpus[repo]["comments"].append(stray)
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = github_run_env(tmp_path, server, BOTSTUDY_REPOS=",".join(sorted(corpus)))
        result = finish_run(env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "did not complete" not in result.stdout + result.stderr
    assert "Table I" in result.stdout  # the summary is printed
    assert (
        "warning check raw_issue_comments_reference_issues on raw_issue_comments failed: "
        "1 comments of issues that were not mined" in result.stdout
    ), result.stdout[-3000:]


def test_a_failed_blocking_check_stops_every_asset_after_it(tmp_path):
    """A refresh mines an issue whose author type GitHub does not have: `raw_issues_valid`
    (blocking) fails, the run exits non-zero naming it, and no table after raw_issues is
    written; the next good refresh completes the study."""
    corpus = devset_corpus(load_devset())
    repo = sorted(corpus)[0]
    number = corpus[repo]["issues"][0]["number"]
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = github_run_env(tmp_path, server, BOTSTUDY_REPOS=",".join(sorted(corpus)))
        first = finish_run(env)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        db = Path(env["BOTSTUDY_DB"])
        before, stamps = fingerprints(db), mark_tables(db)
        server.update_issue(repo, number, user={"login": "r2d2", "type": "Robot"})
        bad = finish_run(env)
        assert bad.returncode != 0
        assert (
            "check raw_issues_valid on raw_issues failed: ExpectColumnValuesToBeInSet("
            "column='author_type'" in bad.stderr
        ), bad.stderr[-3000:]
        written = rewritten(db, stamps)
        # The refresh stored the page in the lake, then the check stopped everything after it,
        # `raw_snapshot` (which publishes the lake to the DuckDB file) included.
        stored = lake_of(env).scalar(
            "SELECT author_type FROM raw_issues WHERE number = ?", [number], repos=[repo]
        )
        assert stored == "Robot"
        assert not written & (from_asset_on("raw_issues") - {"raw_issues"}), sorted(written)
        after = fingerprints(db)
        assert {t for t in before if after[t] != before[t]} <= {"raw_issues", "mining_state"}
        server.update_issue(repo, number, user={"login": "r2d2", "type": "User"})
        good = finish_run(env)
        assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
        # `make run` does not export (dataset_export is `make export`'s, and writes no table).
        assert from_asset_on("bot_accounts") - {"dataset_export"} <= rewritten(db, stamps)


def test_a_bad_token_or_an_unknown_repository_stops_the_run_and_keeps_every_table(tmp_path):
    corpus = devset_corpus(load_devset())
    repos = ",".join(sorted(corpus))
    wrong = "ghp_" + "NotTheToken" * 3
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = github_run_env(tmp_path, server, BOTSTUDY_REPOS=repos)
        assert finish_run(env).returncode == 0
        db = Path(env["BOTSTUDY_DB"])
        before, stamps = fingerprints(db), mark_tables(db)
        bad_token = finish_run({**env, "GITHUB_TOKEN": wrong})
        unknown = finish_run({**env, "BOTSTUDY_REPOS": f"{repos},acme/nope"})
    assert bad_token.returncode != 0
    assert (
        "GitHub answered 401 (Bad credentials) for /repos/" in bad_token.stderr
        and "GITHUB_TOKEN is missing, expired or revoked" in bad_token.stderr
    ), bad_token.stderr[-3000:]
    assert wrong not in bad_token.stdout + bad_token.stderr
    assert unknown.returncode != 0
    assert (
        "acme/nope: GitHub answered 404 for /repos/acme/nope/issues" in unknown.stderr
        and "(check BOTSTUDY_REPOS and BOTSTUDY_GITHUB_API_URL)" in unknown.stderr
    ), unknown.stderr[-3000:]
    assert fingerprints(db) == before
    assert rewritten(db, stamps) == set()


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
