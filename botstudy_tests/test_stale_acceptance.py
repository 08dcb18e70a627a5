"""The acceptance test of issue 13: `make run` against a loopback GitHub serving two
repositories whose stale bots follow known policies (a machine user 30/14 days, then a GitHub
App 14/7), with replies that lift marks and reopenings after closes."""

import math
import os
import signal
import time

import duckdb

from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.raw_store import RawStore
from botstudy_dev.fake_github import FakeGitHub
from botstudy_dev.stale_corpus import stale_bots_corpus
from botstudy_tests.test_reliability import MAKE_RUN, TOKEN, finish_run, run_env, start_run

REPOS = ("acme/rockets", "acme/gadgets")


def github_run_env(tmp_path, server) -> dict[str, str]:
    env = run_env(
        tmp_path,
        tmp_path / "stale.duckdb",
        GITHUB_TOKEN=TOKEN,
        BOTSTUDY_GITHUB_API_URL=server.url,
        BOTSTUDY_HTTP_BACKOFF_S="0.01",
        BOTSTUDY_REPOS=",".join(REPOS),
        BOTSTUDY_LABELS_DIR=str(tmp_path / "labels"),
    )
    del env["BOTSTUDY_SOURCE"]  # a token makes github the default
    return env


def served_event_ids(server) -> set[tuple[str, int]]:
    return {(repo, event["id"]) for repo in REPOS for event in server.events(repo)}


def stored_event_ids(db) -> list[tuple[str, int]]:
    """The events as stored: in the lake beside `db` (mining never writes the DuckDB file)."""
    store = RawStore(Lake(str(db.parent / "lake")))
    return store.query("SELECT repo, event_id FROM raw_issue_events", repos=REPOS).rows()


def test_make_run_recovers_both_stale_policies_from_the_served_events(tmp_path):
    corpus, truth = stale_bots_corpus(REPOS)
    minimum = sum(math.ceil(len(data["events"]) / 100) for data in corpus.values())
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = github_run_env(tmp_path, server)
        first = finish_run(env, timeout=900, command=MAKE_RUN)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        counted = server.stats["counted_by_endpoint"]
        assert counted.get("events", 0) <= 1.10 * minimum
        stored = stored_event_ids(tmp_path / "stale.duckdb")
        assert len(stored) == len(set(stored)) and set(stored) == served_event_ids(server)
        server.reset_stats()
        second = finish_run(env, timeout=900, command=MAKE_RUN)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        refresh = server.stats["counted_by_endpoint"]
        assert refresh.get("events", 0) + refresh.get("issue_events", 0) <= len(REPOS)
    with duckdb.connect(str(tmp_path / "stale.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT repo, bot, n_marked, n_closed_by_bot, n_unmarked, n_reopened_after_close, "
            "mark_after_days_median, close_after_days_median FROM stale_policy"
        ).fetchall()
    found = {(repo, bot): values for repo, bot, *values in rows}
    assert set(found) == set(truth)
    for key, expected in truth.items():
        marked, closed, unmarked, reopened, mark_days, close_days = found[key]
        assert (marked, closed, unmarked, reopened) == (
            expected["n_marked"],
            expected["n_closed_by_bot"],
            expected["n_unmarked"],
            expected["n_reopened_after_close"],
        ), key
        assert abs(mark_days - expected["mark_days"]) <= 1, key
        assert abs(close_days - expected["close_days"]) <= 1, key


def test_sigkill_during_the_events_walk_then_a_rerun_loses_and_duplicates_nothing(tmp_path):
    corpus, _ = stale_bots_corpus(REPOS, issues=300, seed=8)
    with FakeGitHub(corpus, token=TOKEN, latency=0.15) as server:
        env = github_run_env(tmp_path, server)
        process = start_run(env)
        deadline = time.monotonic() + 600
        while server.stats["by_endpoint"].get("events", 0) < 3:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        partial = stored_event_ids(tmp_path / "stale.duckdb")
        assert 0 < len(partial) < len(served_event_ids(server))
        server.latency = 0.0
        rerun = finish_run(env, timeout=900, command=MAKE_RUN)
        assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
        stored = stored_event_ids(tmp_path / "stale.duckdb")
        assert len(stored) == len(set(stored)) and set(stored) == served_event_ids(server)
