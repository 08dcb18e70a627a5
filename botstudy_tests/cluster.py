"""`make test-cluster`: the whole graph on Celery workers with a real broker and a PostgreSQL
instance, against the loopback fake GitHub with three tokens.

    .venv/bin/python -m botstudy_tests.cluster

1. Installs redis-server and postgresql from the distribution's packages if missing, starts
   both on 127.0.0.1 (free ports, temporary directories) and two Celery workers
   (`celery -A botstudy_assets.celery_worker worker`), with Dagster's instance on PostgreSQL
   (`deploy/dagster.yaml`).
2. Mines six repository partitions at once, one `botstudy_mine` run each (BOTSTUDY_EXECUTOR=
   celery, GITHUB_TOKENS with three tokens of a small budget each), and SIGKILLs the worker
   that executes one comments walk while that walk is in flight. Runs whose steps died with it
   are stopped and retried; then one `botstudy_analyze` run does everything after mining.
3. Checks every table of the DuckDB file (and so every raw table of the lake, published as
   views) equals an in-process run (`make run`'s executor) over the same corpus, that no token
   sent more requests than its budget nor was ever refused for it, that no token was written
   anywhere (files, the DuckDB file, PostgreSQL, the runs' output), and that nothing was lost
   or duplicated by the kill.

Everything is stopped at the end; the last line printed is the summary.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_dev.fake_github import (
    FakeGitHub,
    add_bulk_events,
    bulk_corpus,
    minimum_event_requests,
    minimum_requests,
)
from botstudy_dev.services import Postgres, Redis, ensure_packages
from botstudy_tests.harness import files_holding, token_leaks
from botstudy_tests.snapshot import table_snapshot

REPOS = [f"cluster/repo{index}" for index in range(1, 7)]
TOKENS = ("cluster-token-a-not-real", "cluster-token-b-not-real", "cluster-token-c-not-real")
LATENCY_S = 0.03  # per answer: enough to catch a walk in flight, small enough to stay quick
POOL_SLOTS = 2  # concurrent mining steps per token
STALL_S = 20.0  # alive runs silent this long after the kill have lost their step
RUN_TIMEOUT_S = 600.0
BIN = Path(sys.executable).parent
# Bookkeeping that names the API's address (the two fakes differ) or the moment of writing.
VOLATILE = frozenset({"api_url", "etag_url", "next_url", "fallback_url", "updated_at"})


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[test-cluster {time.monotonic() - STARTED:4.0f} s] {message}", flush=True)


def corpus() -> dict:
    """Six small repositories; the first has enough comments (about 20 pages) for its walk to
    be caught in flight. Small, since the run's cost is mostly Dagster's per-step overhead."""
    data = {}
    for index, repo in enumerate(REPOS):
        issues, per_issue = (160, 12.0) if index == 0 else (80, 2.0)
        part = bulk_corpus([repo], issues_per_repo=issues, comments_per_issue=per_issue, seed=index)
        data.update(add_bulk_events(part, 1.5, seed=index))
    return data


def base_env(workdir: Path, api_url: str, db: Path, lake: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOTSTUDY_", "GITHUB_TOKEN", "DAGSTER_"))
    }
    return {
        **env,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "BOTSTUDY_SOURCE": "github",
        "BOTSTUDY_GITHUB_API_URL": api_url,
        "BOTSTUDY_REPOS": ",".join(REPOS),
        "BOTSTUDY_DB": str(db),
        "BOTSTUDY_LAKE": str(lake),
        "BOTSTUDY_REPORTS_DIR": str(workdir / "reports"),
        "BOTSTUDY_LABELS_DIR": str(workdir / "labels"),
        "BOTSTUDY_HTTP_BACKOFF_S": "0.05",
    }


def comparable(db: Path) -> dict[str, tuple]:
    """Every table's rows and hash, without the columns that name the API or the time."""
    snapshot = table_snapshot(db, VOLATILE)
    return {name: (table["rows"], table["sha256"]) for name, table in snapshot.items()}


def reference_run(workdir: Path, data: dict) -> dict:
    """The same corpus through the in-process executor (as `make run`): its tables."""
    ref = workdir / "reference"
    ref.mkdir()
    (ref / "labels").mkdir()
    with FakeGitHub(data, tokens=("reference-token",), latency=0.0) as server:
        env = base_env(ref, server.url, ref / "botstudy.duckdb", ref / "lake")
        env["GITHUB_TOKEN"] = "reference-token"
        env["DAGSTER_HOME"] = str(ref / "home")
        (ref / "home").mkdir()
        (ref / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        done = subprocess.run(
            [str(BIN / "python"), "-m", "botstudy_assets.run"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise AssertionError(f"the in-process run failed:\n{done.stderr[-3000:]}")
    return {"tables": comparable(ref / "botstudy.duckdb")}


class Worker:
    """One Celery worker (two processes) in its own process group."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name, self.env, self.logs = name, env, logs
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [str(BIN / "celery"), "-A", "botstudy_assets.celery_worker", "worker"]
        command += ["-Q", "dagster", "-n", f"{self.name}@%h", "--concurrency", "2"]
        command += ["--prefetch-multiplier", "1", "--loglevel", "WARNING"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        handle = (self.logs / f"{self.name}.log").open("a")
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def pids(self) -> set[int]:
        """The worker and every process below it."""
        if self.process is None:
            return set()
        found, frontier = {self.process.pid}, [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for child in _children(parent):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
        return found

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


class Run:
    """One `dagster job execute` (the run's orchestrator) with its output kept."""

    def __init__(self, job: str, env: dict[str, str], partition: str | None = None) -> None:
        self.job, self.partition = job, partition
        command = [str(BIN / "dagster"), "job", "execute", "-m", "botstudy_assets.definitions"]
        command += ["-j", job]
        if partition:
            command += ["--tags", json.dumps({"dagster/partition": partition})]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.last_output = time.monotonic()
        self.run_id: str | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self.last_output = time.monotonic()
            if self.run_id is None and (found := re.search(r" - ([0-9a-f-]{36}) - ", line)):
                self.run_id = found.group(1)

    @property
    def label(self) -> str:
        return f"{self.job}[{self.partition}]" if self.partition else self.job

    def alive(self) -> bool:
        return self.process.poll() is None

    def succeeded(self) -> bool:
        return self.process.poll() == 0 and any("RUN_SUCCESS" in line for line in self.lines)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._reader.join(timeout=5)

    def tail(self, lines: int | None = 40) -> str:
        return "".join(self.lines[-lines:] if lines else self.lines)


def walk_in_flight(lake: Path, repo: str) -> int:
    """Pages stored so far by the comments walk of `repo`, 0 unless the walk is unfinished."""
    from botstudy_assets.lib.endpoints import COMMENTS
    from botstudy_assets.lib.lake import Lake
    from botstudy_assets.lib.raw_store import RawStore, Target

    state = RawStore(Lake(str(lake))).open(Target(repo, COMMENTS, "github", "")).lake_table.state()
    return int(state.get("pages") or 0) if state.get("next_url") else 0


def step_pid(instance, run_id: str, step_key: str) -> int | None:
    """The process that started `step_key` of a run, as the run's event log recorded it."""
    from dagster import DagsterEventType

    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START):
        event = record.dagster_event
        if event is not None and event.step_key == step_key:
            return event.pid
    return None


def run_id_of(instance, partition: str) -> str | None:
    from dagster import RunsFilter

    runs = instance.get_runs(filters=RunsFilter(tags={"dagster/partition": partition}), limit=1)
    return runs[0].run_id if runs else None


def kill_a_worker_mid_walk(instance, workers: list[Worker], lake: Path, runs: list[Run]) -> str:
    """SIGKILL the worker executing the first repository's comments walk once it has stored
    two pages and not yet finished. Returns what was killed."""
    repo, step = REPOS[0], "raw_issue_comments"
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        pages = walk_in_flight(lake, repo)
        run_id = run_id_of(instance, repo)
        pid = step_pid(instance, run_id, step) if run_id and pages >= 2 else None
        if pid is not None:
            for worker in workers:
                if pid in worker.pids():
                    worker.kill()
                    return f"worker {worker.name} killed during {step}[{repo}] after {pages} pages"
        if not any(run.alive() for run in runs):
            break
        time.sleep(0.05)
    raise AssertionError(f"never caught the comments walk of {repo} in flight")


def wait_for(runs: list[Run], after_kill: bool) -> list[Run]:
    """Wait until every run ended; after the kill, stop those silent for STALL_S (their step
    died with the worker). Returns the runs that did not succeed."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while any(run.alive() for run in runs) and time.monotonic() < deadline:
        alive = [run for run in runs if run.alive()]
        if after_kill and all(time.monotonic() - run.last_output > STALL_S for run in alive):
            for run in alive:
                log(f"{run.label}: its step died with the worker; stopping the run")
                run.stop()
            break
        time.sleep(0.5)
    for run in runs:
        if run.alive():
            run.stop()
    return [run for run in runs if not run.succeeded()]


def close_dead_runs(instance, runs: list[Run]) -> None:
    """What the daemon's run monitoring would do for runs whose orchestrator is gone: mark them
    failed and free the pool slots they held."""
    from dagster import DagsterRunStatus

    for run in runs:
        run_id = run.run_id or (run.partition and run_id_of(instance, run.partition))
        if not run_id:
            continue
        record = instance.get_run_by_id(run_id)
        if record is not None and record.status not in (
            DagsterRunStatus.SUCCESS,
            DagsterRunStatus.FAILURE,
            DagsterRunStatus.CANCELED,
        ):
            instance.report_run_failed(record)
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def lake_duplicates(lake: Path) -> tuple[int, int]:
    """(rows stored, distinct keys) over every raw table of the lake: appends may store a row
    twice (a refetched page), readers must see it once."""
    import duckdb

    from botstudy_assets.lib.endpoints import ENDPOINTS
    from botstudy_assets.lib.lake import Lake
    from botstudy_assets.lib.raw_store import RawStore

    store, stored, distinct = RawStore(Lake(str(lake))), 0, 0
    for endpoint in ENDPOINTS:
        files = store.files(endpoint, REPOS)
        keys = ", ".join(endpoint.key)
        with duckdb.connect() as con:
            row = con.execute(
                f"SELECT count(*), count(DISTINCT ({keys})) FROM read_parquet(?)", [files]
            ).fetchone()
        assert row is not None
        distinct += row[1]
        stored += row[0]
        seen = store.scalar(f"SELECT count(*) FROM {endpoint.table}", repos=REPOS)
        assert seen == row[1], f"{endpoint.table}: readers see {seen} rows of {row[1]} keys"
    return stored, distinct


def postgres_rows_holding(url: str, token: str) -> list[str]:
    """Every table of Dagster's PostgreSQL storage with a row whose text holds `token`."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as con:
            tables = con.execute(
                sqlalchemy.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            return [
                table
                for table in list(tables)
                if con.execute(
                    sqlalchemy.text(
                        f'SELECT count(*) FROM "{table}" t WHERE strpos(t::text, :x) > 0'
                    ),
                    {"x": token},
                ).scalar()
            ]
    finally:
        engine.dispose()


def token_traces(workdir: Path, db: Path, postgres_url: str, runs: list[Run]) -> list[str]:
    """Where any token was written: a file (lake, logs, Dagster home), a table of the DuckDB
    file, a row of the instance's PostgreSQL storage, or a run's output."""
    found = []
    for number, token in enumerate(TOKENS, start=1):
        found += [f"token {number}: {path}" for path in files_holding(workdir, token)]
        found += [f"token {number}: {column}" for column in token_leaks(db, token)]
        found += [
            f"token {number}: postgres {t}" for t in postgres_rows_holding(postgres_url, token)
        ]
        found += [f"token {number}: {run.label} output" for run in runs if token in run.tail(None)]
    return found


def main() -> int:
    started = time.monotonic()
    ensure_packages(log)
    data = corpus()
    expected = {
        "raw_issues": sum(len(d["issues"]) for d in data.values()),
        "raw_issue_comments": sum(len(d["comments"]) for d in data.values()),
        "raw_issue_events": sum(len(d["events"]) for d in data.values()),
    }
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="botstudy-cl-")))
        log("the in-process reference run, beside the cluster")
        reference: dict = {}

        def run_reference() -> None:
            try:
                reference.update(reference_run(workdir, data))
            except BaseException as error:  # raised below, in the main thread
                reference["error"] = error

        side = threading.Thread(target=run_reference, daemon=True)
        side.start()
        # Pages, probes and a few re-reads: one token cannot mine it all, three can.
        needed = minimum_requests(data) + minimum_event_requests(data) + 5 * len(REPOS)
        budget = math.ceil(needed * 0.5) + 20
        redis = stack.enter_context(Redis(workdir))
        postgres = stack.enter_context(Postgres())
        log(
            f"redis {redis.version()} on {redis.url}, postgresql {postgres.version()} on port "
            f"{postgres.port}"
        )
        server = stack.enter_context(
            FakeGitHub(data, tokens=TOKENS, rate_limit=budget, latency=LATENCY_S)
        )
        home, logs = workdir / "home", workdir / "logs"
        home.mkdir()
        logs.mkdir()
        (workdir / "labels").mkdir()
        (home / "dagster.yaml").write_text((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
        db, lake = workdir / "botstudy.duckdb", workdir / "lake"
        env = {
            **base_env(workdir, server.url, db, lake),
            "DAGSTER_HOME": str(home),
            "BOTSTUDY_DAGSTER_PG_URL": postgres.url,
            "BOTSTUDY_EXECUTOR": "celery",
            "BOTSTUDY_CELERY_BROKER": f"{redis.url}/0",
            "BOTSTUDY_CELERY_BACKEND": f"{redis.url}/1",
            "GITHUB_TOKENS": ",".join(TOKENS),
        }
        os.environ.update({key: env[key] for key in ("DAGSTER_HOME", "BOTSTUDY_DAGSTER_PG_URL")})
        synced = subprocess.run(
            [str(BIN / "python"), "-m", "botstudy_assets.run", "--sync-partitions"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert synced.returncode == 0, f"--sync-partitions failed: {synced.stderr[-3000:]}"
        from dagster import DagsterInstance

        instance = stack.enter_context(DagsterInstance.get())
        for number in range(1, len(TOKENS) + 1):
            instance.event_log_storage.set_concurrency_slots(f"github-token-{number}", POOL_SLOTS)
        workers = [Worker(name, env, logs).start() for name in ("w1", "w2")]
        stack.callback(lambda: [worker.stop() for worker in workers])

        log(f"six botstudy_mine runs on two Celery workers, three tokens of {budget} requests")
        runs = [Run("botstudy_mine", env, repo) for repo in REPOS]
        stack.callback(lambda: [run.stop() for run in runs])
        killed = kill_a_worker_mid_walk(instance, workers, lake, runs)
        log(killed)
        failed = wait_for(runs, after_kill=True)
        close_dead_runs(instance, failed)
        workers = [worker for worker in workers if worker.process and worker.process.poll() is None]
        workers.append(Worker("w3", env, logs).start())  # the replacement
        log(f"retrying {len(failed)} runs: {', '.join(run.label for run in failed)}")
        retries = [Run("botstudy_mine", env, run.partition) for run in failed]
        stack.callback(lambda: [run.stop() for run in retries])
        still = wait_for(retries, after_kill=False)
        assert not still, "a retried run failed:\n" + "\n".join(run.tail() for run in still)

        log("botstudy_analyze: everything after mining")
        analyze = Run("botstudy_analyze", env)
        assert not wait_for([analyze], after_kill=False), analyze.tail()

        side.join(timeout=RUN_TIMEOUT_S)
        if "error" in reference:
            raise reference["error"]
        assert "tables" in reference, "the in-process reference run did not finish"
        expected_tables, tables = reference["tables"], comparable(db)
        differ = sorted(
            name
            for name in set(tables) | set(expected_tables)
            if tables.get(name) != expected_tables.get(name)
        )
        assert not differ, f"tables differ from the in-process run: {differ}"
        counts = {name: tables[name][0] for name in expected}
        assert counts == expected, f"raw rows {counts}, served {expected}"
        stored, distinct = lake_duplicates(lake)
        stats = server.stats
        used = stats["counted_by_token"]
        assert stats["rate_limited"] == 0 and not stats["rate_limited_by_token"], stats
        assert all(count <= budget for count in used.values()), (used, budget)
        assert len(used) >= 2, f"only tokens {sorted(used)} were used"
        leaks = token_traces(workdir, db, postgres.url, [*runs, *retries, analyze])
        assert not leaks, f"a token was written: {leaks}"
        tokens = ", ".join(f"{used.get(n, 0)}/{budget}" for n in range(1, len(TOKENS) + 1))
        summary = (
            f"6 partitions on 2 Celery workers (Redis {redis.version()}, PostgreSQL "
            f"{postgres.version()}); {killed}, {len(failed)} runs retried; {len(tables)} tables "
            f"equal to the in-process run; {distinct} raw rows, each served once and readable "
            f"once ({stored - distinct} re-read copies collapsed); tokens used {tokens}, none over "
            "budget nor written anywhere"
        )
    print(f"test-cluster: passed: {summary}; {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as error:
        print(f"test-cluster: FAILED: {error}", flush=True)
        sys.exit(1)
