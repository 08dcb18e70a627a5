"""The miner against the loopback fake GitHub: fewest requests, nothing lost, cheap refresh."""

import datetime as dt
import gzip
import itertools
import json
import math
import threading
from pathlib import Path

import pytest

from botstudy_assets.defs.resources import COMMENTS_WINDOW_ITEMS
from botstudy_assets.lib import sample
from botstudy_assets.lib.endpoints import COMMENTS, EVENTS, ISSUES, Endpoint
from botstudy_assets.lib.events_walk import EventsWalk
from botstudy_assets.lib.github import GitHubAuthError, GitHubClient, GitHubError, GitHubNotFound
from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.raw_store import RawStore, Target, WalkState
from botstudy_assets.lib.walk import EndpointWalk, RepoReport, load_state, mine_repositories
from botstudy_dev.corpora import devset_corpus
from botstudy_dev.fake_github import (
    FakeGitHub,
    add_bulk_events,
    bulk_corpus,
    minimum_event_requests,
    minimum_requests,
)
from botstudy_tests.harness import (
    files_holding,
    github_env,
    load_devset,
    materialize,
)
from botstudy_tests.snapshot import table_snapshot

REPOS = ["acme/alpha", "acme/beta", "acme/gamma"]
TOKEN = "test-token-not-real-0123456789"


def client(server: FakeGitHub, **kwargs) -> GitHubClient:
    return GitHubClient(api_url=server.url, token=TOKEN, backoff_base_s=0.001, **kwargs)


class MinedLake(RawStore):
    """The lake the walks write, queried over every repository these tests mine."""

    def query(self, sql, params=None, *, repos=None):
        return super().query(sql, params, repos=repos or [*REPOS, "acme/nope"])

    def scalar(self, sql, params=None, *, repos=None):
        return super().scalar(sql, params, repos=repos or [*REPOS, "acme/nope"])

    def state_of(self, repo: str, endpoint: Endpoint) -> dict:
        return self.open(Target(repo, endpoint, "github", "")).lake_table.state()


def warehouse(tmp_path) -> MinedLake:
    return MinedLake(Lake(str(tmp_path / "lake")))


def counts(store: MinedLake) -> tuple[int, int, int, int]:
    return (
        store.scalar("SELECT count(*) FROM raw_issues"),
        store.scalar("SELECT count(DISTINCT (repo, number)) FROM raw_issues"),
        store.scalar("SELECT count(*) FROM raw_issue_comments"),
        store.scalar("SELECT count(DISTINCT (repo, comment_id)) FROM raw_issue_comments"),
    )


def walk(
    api: GitHubClient,
    store: MinedLake,
    repo: str,
    endpoint: Endpoint,
    *,
    window_items: int | None,
    log=lambda message: None,
) -> RepoReport:
    """One endpoint walk of one repository from GitHub, as the mining assets run it."""
    target = Target(repo, endpoint, "github", api.api_url)
    return EndpointWalk(api, store, target, window_items=window_items, log=log).run()


def mine_all(server, store, repos, comments_window=COMMENTS_WINDOW_ITEMS, **kwargs):
    with client(server, **kwargs) as api:
        for repo in repos:
            for endpoint, window in ((ISSUES, None), (COMMENTS, comments_window)):
                walk(api, store, repo, endpoint, window_items=window)
        return api.stats


@pytest.mark.parametrize("comments_window", [COMMENTS_WINDOW_ITEMS, 30_000])
def test_full_walk_stores_everything_once_with_minimum_requests(tmp_path, comments_window):
    """With the default window (one page) and with long windows cut short by the offset cap."""
    corpus = bulk_corpus(REPOS, issues_per_repo=450, comments_per_issue=3.0, seed=1)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN, issues_offset_cap=100, comments_offset_cap=400) as server:
        stats = mine_all(server, store, REPOS, comments_window=comments_window)
        served = server.stats
    n_issues = sum(len(d["issues"]) for d in corpus.values())
    n_comments = sum(len(d["comments"]) for d in corpus.values())
    assert counts(store) == (n_issues, n_issues, n_comments, n_comments)
    # Tiny caps force many comment windows here; each restart costs at most one extra page.
    assert served["counted"] <= minimum_requests(corpus) * 1.10 + 3 * 4
    assert stats.counted == served["counted"]


def test_no_change_refresh_is_free(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=250, comments_per_issue=2.0, seed=2)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server:
        first = mine_all(server, store, REPOS[:1]).counted
        server.reset_stats()
        mine_all(server, store, REPOS[:1])  # the probes revalidate: one free 304 per endpoint
        refresh = server.stats
    # One probe per endpoint; the comments walk re-reads the newest item of each page.
    assert first <= minimum_requests(corpus) + 2 + 1
    assert refresh["counted"] == 0 and refresh["not_modified"] == 2


def tie_newest_second(items: list[dict], count: int) -> str:
    """Give the `count` most recently updated items the same updated_at second."""
    newest = max(item["updated_at"] for item in items)
    for item in sorted(items, key=lambda item: item["updated_at"])[-count:]:
        item["updated_at"] = newest
    return newest


def test_a_change_behind_many_items_tied_at_the_watermark_is_found(tmp_path):
    # `since` is inclusive and second-grained: 250 items at the watermark fill 3 pages, so the
    # first page of `since=<watermark>` stays the same when an item changes.
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=400, comments_per_issue=0.0, seed=12)
    issues = corpus[REPOS[0]]["issues"]
    tie_newest_second(issues, 250)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server:
        mine_all(server, store, REPOS[:1])
        server.reset_stats()
        mine_all(server, store, REPOS[:1])
        assert server.stats["counted"] == 0
        server.update_issue(REPOS[0], issues[0]["number"], title="edited after the ties")
        server.reset_stats()
        mine_all(server, store, REPOS[:1])
        # The issues probe and the pages from the watermark; the comments probe answers 304.
        assert server.stats["counted"] <= 1 + 4
    assert (
        store.scalar("SELECT title FROM raw_issues WHERE number = ?", [issues[0]["number"]])
        == "edited after the ties"
    )


def test_a_server_that_ignores_direction_still_gets_every_change(tmp_path, monkeypatch):
    # Then the probe shows the oldest item: no ETag is trusted, refreshes walk from the watermark.
    monkeypatch.setattr(
        Endpoint,
        "probe_url",
        lambda self, base_url, repo: self.start_url(base_url, repo, None).replace(
            "per_page=100", "per_page=1"
        ),
    )
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=150, comments_per_issue=1.0, seed=13)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server:
        mine_all(server, store, REPOS[:1])
        server.update_issue(REPOS[0], 3, title="edited")
        mine_all(server, store, REPOS[:1])
    assert store.scalar("SELECT title FROM raw_issues WHERE number = 3") == "edited"
    assert not any(
        store.state_of(REPOS[0], endpoint).get("etag") for endpoint in (ISSUES, COMMENTS)
    )


def test_refresh_fetches_only_what_changed(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=300, comments_per_issue=2.0, seed=3)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server:
        mine_all(server, store, REPOS[:1])
        repo = REPOS[0]
        server.update_issue(repo, 7, title="edited title")
        server.add_comment(
            repo,
            {
                "issue_url": f"https://api.github.com/repos/{repo}/issues/7",
                "body": "new comment 🤖",
                "user": {"login": "x", "type": "User"},
            },
        )
        server.reset_stats()
        mine_all(server, store, REPOS[:1])
        assert server.stats["counted"] <= 2 * 2  # per endpoint: the probe and one page
        server.reset_stats()
        mine_all(server, store, REPOS[:1])
        assert server.stats["counted"] == 0  # the probe's ETag was kept: nothing changed since
    assert store.scalar("SELECT title FROM raw_issues WHERE number = 7") == "edited title"
    assert (
        store.scalar("SELECT count(*) FROM raw_issue_comments WHERE body = 'new comment 🤖'") == 1
    )
    issues, distinct_issues, comments, distinct_comments = counts(store)
    assert issues == distinct_issues and comments == distinct_comments


def test_faults_are_retried_and_nothing_is_duplicated(tmp_path):
    corpus = bulk_corpus(REPOS[:2], issues_per_repo=400, comments_per_issue=3.0, seed=4)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN, fault_rate=0.08, retry_after=0, seed=9) as server:
        stats = mine_all(server, store, REPOS[:2])
        assert server.stats["faults"] > 0
    n_issues = sum(len(d["issues"]) for d in corpus.values())
    n_comments = sum(len(d["comments"]) for d in corpus.values())
    assert counts(store) == (n_issues, n_issues, n_comments, n_comments)
    assert stats.retries >= 1


def test_unparseable_page_and_timeouts_are_retried(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=150, comments_per_issue=1.0, seed=5)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN, timeout_delay=1.0) as server:
        server.fail_next(1, "not_json")
        server.fail_next(1, "timeout")
        mine_all(server, store, REPOS[:1], timeout_s=0.5)
    assert counts(store)[0] == 150


def test_comments_edited_or_deleted_behind_the_walk_hide_no_other_comment(tmp_path):
    """On a live repository, comments already walked past get edited (they move to the end of
    the updated order) or deleted while the walk goes on; with offset pages each such change
    would push an unread comment back onto a page already read, out of reach until it changes."""
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=400, comments_per_issue=6.0, seed=12)
    store = warehouse(tmp_path)
    repo = REPOS[0]
    with FakeGitHub(corpus, token=TOKEN) as server:
        read: list[int] = []
        with client(server) as api:
            fetch = api.get_page

            def live_repository(url, etag=None):
                page = fetch(url, etag)
                if "/issues/comments?" in url and "per_page=100" in url:  # not the probe
                    read.extend(item["id"] for item in page.items)
                    if len(read) > 4 and page.next_url:  # change two comments already read
                        server.update_comment(repo, read[len(read) // 2], body="edited later")
                        server.delete_comment(repo, read[len(read) // 3])
                return page

            api.get_page = live_repository
            walk(api, store, repo, COMMENTS, window_items=COMMENTS_WINDOW_ITEMS, log=lambda m: None)
        final = {comment["id"]: comment for comment in server.comments(repo)}
    stored = dict(store.query("SELECT comment_id, body FROM raw_issue_comments").iter_rows())
    assert len(final) < len(corpus[repo]["comments"])  # deletions happened
    missing = set(final) - set(stored)
    assert not missing, f"{len(missing)} comments never stored"
    edited = [cid for cid, comment in final.items() if comment["body"] == "edited later"]
    assert edited and all(stored[cid] == "edited later" for cid in edited)


def test_primary_rate_limit_waits_for_reset(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=500, comments_per_issue=0.5, seed=6)
    store = warehouse(tmp_path)
    messages = []
    with (
        FakeGitHub(corpus, token=TOKEN, rate_limit=3, rate_reset_seconds=1.0) as server,
        client(server, log=messages.append) as api,
    ):
        walk(api, store, REPOS[0], ISSUES, window_items=None, log=messages.append)
        assert api.stats.rate_limit_waits >= 1
    assert counts(store)[0] == 500
    assert any("rate limit reached, waiting" in message for message in messages)


@pytest.mark.timeout(60)  # before the fix this looped without sleeping, for ever
@pytest.mark.parametrize("reset_header", ["missing", "past"])
def test_an_exhausted_budget_without_a_future_reset_backs_off_and_gives_up(reset_header):
    """Budget 0 and no reset time to wait for: waits of at least 1 s, growing, and a clear error
    once five minutes of such waiting have passed (the sleep is injected: no real waiting)."""
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=10, comments_per_issue=0.0)
    waits: list[float] = []
    with (
        FakeGitHub(corpus, token=TOKEN, rate_limit=0, rate_reset_header=reset_header) as server,
        client(server, sleep=waits.append) as api,
        pytest.raises(GitHubError, match="rate limit stayed exhausted") as error,
    ):
        api.get_page(ISSUES.start_url(api.api_url, REPOS[0], None))
    assert waits and min(waits) >= 1.0
    assert waits[1] > waits[0] or waits[2] > waits[1]  # growing (jitter aside)
    assert 300 <= sum(waits) <= 301  # the last wait is cut to what is left, but lasts >= 1 s
    assert server.stats["requests"] == len(waits) + 1
    assert "300 s" in str(error.value) and "x-ratelimit-reset" in str(error.value)


@pytest.mark.timeout(60)
def test_an_exhausted_budget_never_draws_two_requests_within_a_second(tmp_path):
    """In real time against the loopback fake, with the patience shortened to 4 s."""
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=10, comments_per_issue=0.0)
    store = warehouse(tmp_path)
    with (
        FakeGitHub(corpus, token=TOKEN, rate_limit=0, rate_reset_header="missing") as server,
        client(server, rate_limit_patience_s=4.0) as api,
    ):
        report = mine_repositories(
            lambda: api,
            store,
            [Target(REPOS[0], ISSUES, "github", api.api_url)],
            max_concurrent=1,
            window_items=None,
            log=lambda message: None,
        )[0]
        times = server.request_times()
    assert report.error and "rate limit stayed exhausted" in report.error
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) >= 2 and min(gaps) >= 1.0, gaps


def test_bad_token_and_unknown_repository_say_so(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=10, comments_per_issue=0.0)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server:
        with (
            GitHubClient(api_url=server.url, token="wrong") as api,
            pytest.raises(GitHubAuthError) as auth,
        ):
            walk(api, store, REPOS[0], ISSUES, window_items=None, log=lambda m: None)
        with client(server) as api, pytest.raises(GitHubNotFound) as missing:
            walk(api, store, "acme/nope", ISSUES, window_items=None, log=lambda m: None)
    assert "401" in str(auth.value) and "GITHUB_TOKEN" in str(auth.value)
    assert "wrong" not in str(auth.value)
    assert "404" in str(missing.value) and "BOTSTUDY_REPOS" in str(missing.value)


def test_malformed_items_are_skipped_and_reported(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=20, comments_per_issue=1.0, seed=8)
    corpus[REPOS[0]]["issues"][3]["created_at"] = "yesterday"
    corpus[REPOS[0]]["comments"][0]["issue_url"] = None
    corpus[REPOS[0]]["issues"][5]["body"] = "🙂" * 50_000 + "\u202e\u0000 RTL"
    corpus[REPOS[0]]["issues"][6]["user"] = None  # a deleted account
    corpus[REPOS[0]]["comments"][1]["user"] = None
    corpus[REPOS[0]]["comments"][2]["body"] = None
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server, client(server) as api:
        issues = walk(api, store, REPOS[0], ISSUES, window_items=None, log=lambda m: None)
        comments = walk(api, store, REPOS[0], COMMENTS, window_items=None, log=lambda m: None)
    assert len(issues.rejects) == 1 and "created_at='yesterday'" in issues.rejects[0]
    assert len(comments.rejects) == 1 and "issue_url" in comments.rejects[0]
    number = corpus[REPOS[0]]["issues"][5]["number"]
    body = store.scalar("SELECT body FROM raw_issues WHERE number = ?", [number])
    assert body == "🙂" * 50_000 + "\u202e\ufffd RTL"  # NUL became U+FFFD, nothing else changed
    ghost = corpus[REPOS[0]]["issues"][6]["number"]
    assert store.query(
        "SELECT author_login, author_type FROM raw_issues WHERE number = ?", [ghost]
    ).rows() == [("ghost", "User")]
    stored = {
        row["comment_id"]: row
        for row in store.query(
            "SELECT comment_id, author_login, body FROM raw_issue_comments"
        ).iter_rows(named=True)
    }
    deleted_user, no_body = (corpus[REPOS[0]]["comments"][i] for i in (1, 2))
    assert stored[deleted_user["id"]]["author_login"] == "ghost"
    assert stored[no_body["id"]]["body"] is None


def test_a_page_that_keeps_failing_gives_up_after_8_retries_and_keeps_stored_pages(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=500, comments_per_issue=0.0, seed=9)
    store = warehouse(tmp_path)
    pages = []
    with FakeGitHub(corpus, token=TOKEN) as server, client(server) as api:
        fetch = api.get_page

        def failing_after_two_pages(url, etag=None):
            if len(pages) == 2:  # from the third page on, GitHub answers 502 for ever
                server.fault_rate = 1.0
            page = fetch(url, etag)
            if "per_page=100" in url:
                pages.append(url)
            return page

        api.get_page = failing_after_two_pages
        server.reset_stats()
        with pytest.raises(GitHubError, match=r"giving up after 8 retries: HTTP 502 on /repos/"):
            walk(api, store, REPOS[0], ISSUES, window_items=None)
        assert server.stats["faults"] == 9  # the first try and 8 retries
    assert counts(store)[0] == 200


RAW_TABLES = {
    "raw_issues",
    "raw_issue_comments",
    "raw_issue_events",
    "mining_state",
    "events_state",
}
SNAPSHOT_DAY = "2019-06-01"


def study_tables(db) -> dict[str, dict]:
    """Every table after mining, as (rows, hash of the sorted rows)."""
    return {name: value for name, value in table_snapshot(db).items() if name not in RAW_TABLES}


def test_botstudy_until_after_a_full_run_studies_only_the_snapshot_and_back(tmp_path):
    """A full run, then BOTSTUDY_UNTIL: every study table holds what a fresh snapshot run holds
    (issues created before the day, their comments before it); then without it again: the full
    study is back, mined from what is stored (the probes answer free 304s)."""
    corpus = devset_corpus(load_devset())
    repos = ",".join(sorted(corpus))
    day = dt.datetime.fromisoformat(SNAPSHOT_DAY).replace(tzinfo=dt.UTC)
    early = next(
        (repo, issue)
        for repo in sorted(corpus)
        for issue in corpus[repo]["issues"]
        if dt.datetime.fromisoformat(issue["created_at"]) < day
    )
    # A bot that speaks only after the day, on an issue opened before it.
    late_comment = {
        "id": 77_000_001,
        "issue_url": early[1]["url"],
        "user": {"login": "latecomer[bot]", "type": "Bot"},
        "created_at": "2021-01-01T00:00:00Z",
        "updated_at": "2021-01-01T00:00:00Z",
        "body": "This issue has been automatically marked as stale because it has not had "
        "recent activity. It will be closed if no further activity occurs.",
    }
    corpus[early[0]]["comments"].append(late_comment)
    late_issues = {
        (repo, issue["number"])
        for repo, data in corpus.items()
        for issue in data["issues"]
        if dt.datetime.fromisoformat(issue["created_at"]) >= day
    }
    assert late_issues
    with FakeGitHub(corpus, token=TOKEN) as server:
        fresh_dir = tmp_path / "fresh"
        fresh_dir.mkdir()
        fresh = materialize(
            github_env(
                fresh_dir,
                server.url,
                BOTSTUDY_REPOS=repos,
                BOTSTUDY_UNTIL=SNAPSHOT_DAY,
                GITHUB_TOKEN=TOKEN,
            )
        )
        assert fresh.success, fresh.failure_messages()
        env = github_env(tmp_path, server.url, BOTSTUDY_REPOS=repos, GITHUB_TOKEN=TOKEN)
        full = materialize(env)
        assert full.success, full.failure_messages()
        full_tables = study_tables(full.db)
        assert full.sql("SELECT login FROM bot_accounts WHERE login = 'latecomer[bot]'")
        server.reset_stats()
        snapshot = materialize({**env, "BOTSTUDY_UNTIL": SNAPSHOT_DAY})
        assert snapshot.success, snapshot.failure_messages()
        assert server.stats["counted"] == 0  # nothing is re-mined for a new day
        assert study_tables(snapshot.db) != full_tables
        assert_only_the_snapshot_is_studied(snapshot, fresh, corpus, late_issues)
        server.reset_stats()
        again = materialize(env)
        assert again.success, again.failure_messages()
        refresh = server.stats
    # Without BOTSTUDY_UNTIL the full study is back, from the rows kept; each walk (issues,
    # comments, events) of each repository revalidates its probe for a free 304.
    assert study_tables(again.db) == full_tables
    assert refresh["counted"] == 0 and refresh["not_modified"] == 3 * len(corpus)


def assert_only_the_snapshot_is_studied(snapshot, fresh, corpus, late_issues) -> None:
    """Every study table equals a fresh snapshot run's; none names a late issue or author."""
    tables, expected = study_tables(snapshot.db), study_tables(fresh.db)
    assert {name for name in expected if tables[name] != expected[name]} == set()
    keyed = ["keyword_candidates", "candidate_decisions", "validated_true_positives",
             "review_sheet", "coded_labels", "final_labels"]  # fmt: skip
    for table in keyed:
        assert not set(snapshot.sql(f"SELECT repo, number FROM {table}")) & late_issues, table
    assert not snapshot.sql("SELECT login FROM bot_accounts WHERE login = 'latecomer[bot]'")
    n_all = sum(len(data["issues"]) for data in corpus.values())
    funnel = snapshot.sql("SELECT issues FROM bot_funnel WHERE library = 'All' LIMIT 1")
    assert funnel == [(n_all - len(late_issues),)]
    # Raw tables keep everything mined.
    assert snapshot.sql("SELECT count(*) FROM raw_issues") == [(n_all,)]


def test_a_walk_state_written_under_a_snapshot_day_is_walked_afresh(tmp_path):
    """Older versions mined only up to BOTSTUDY_UNTIL and noted the day in the walk's state:
    those rows stop at the day, so such a walk starts over; a state without a day resumes."""
    store = warehouse(tmp_path)
    target = Target(REPOS[0], ISSUES, "github", "http://127.0.0.1:1")
    state = WalkState(watermark=dt.datetime(2021, 1, 1), next_url="http://127.0.0.1:1/next")
    store.open(target).commit([], state)
    assert load_state(store.open(target)) == state
    raw = store.open(target)
    empty_page = raw._page_frame([])  # a commit that carries only a state
    raw.lake_table.append(empty_page, {**raw.lake_table.state(), "until": "2021-11-15"})
    assert load_state(store.open(target)) == WalkState()


def lake_leaks(store: MinedLake, token: str) -> list[str]:
    """Every raw `table.column` of the lake holding `token` in some row (read as text: Parquet
    compresses strings), and every walk state holding it."""
    leaks = []
    with store.connect([*REPOS, "acme/nope"]) as con:
        for endpoint in (ISSUES, COMMENTS, EVENTS):
            table = endpoint.table
            for (column,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall():
                holds = f'strpos(CAST("{column}" AS VARCHAR), ?) > 0'
                (found,) = con.execute(
                    f"SELECT count(*) FROM {table} WHERE {holds}", [token]
                ).fetchone() or (0,)
                if found:
                    leaks.append(f"{table}.{column}")
            leaks += [
                f"{table} state of {repo}"
                for repo in REPOS
                if token in str(store.state_of(repo, endpoint))
            ]
    return leaks


def test_sample_files_are_read_in_pages_without_loading_them_whole(tmp_path, monkeypatch):
    items = [{"id": i, "body": "x" * (i % 7) + ' ]},"\\ 🙂', "n": [i, None]} for i in range(10)]
    path = tmp_path / "items.json.gz"
    path.write_bytes(gzip.compress(json.dumps(items, indent=1).encode()))
    monkeypatch.setattr(sample, "_CHUNK", 5)  # items straddle every chunk boundary
    monkeypatch.setattr(sample, "SAMPLE_PAGE_ITEMS", 4)
    assert list(sample.sample_pages(path)) == [items[:4], items[4:8], items[8:]]
    path.write_bytes(gzip.compress(b"[]"))
    assert list(sample.sample_pages(path)) == []
    path.write_bytes(gzip.compress(json.dumps(items).encode()[:-30]))
    with pytest.raises(sample.SampleError, match="cannot read the sample"):
        list(sample.sample_pages(path))


def materialization_metadata(run, asset: str) -> dict:
    (first, *_) = run.result.asset_materializations_for_node(asset)
    return {key: value.value for key, value in first.metadata.items()}


def test_rejected_items_and_label_rows_outside_the_study_are_counted(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=60, comments_per_issue=1.0, seed=14)
    repo, issues = REPOS[0], corpus[REPOS[0]]["issues"]
    issues[3]["created_at"] = "yesterday"
    corpus[repo]["comments"][0]["issue_url"] = None
    by_creation = sorted(issues[4:], key=lambda issue: issue["created_at"])
    early, late = by_creation[0], by_creation[-1]
    day = late["created_at"][:10]  # the last issue is created on that day: outside the study
    env = github_env(tmp_path, "", BOTSTUDY_REPOS=repo, BOTSTUDY_UNTIL=day, GITHUB_TOKEN=TOKEN)
    (Path(env["BOTSTUDY_LABELS_DIR"]) / "coding").mkdir()
    (Path(env["BOTSTUDY_LABELS_DIR"]) / "coding" / "ann.csv").write_text(
        "repo,number,categories\n"
        f"{repo},{early['number']},stale\n"
        "c/d,4,stale\n"
        f"{repo},{late['number']},mention\n",
        encoding="utf-8",
    )
    with FakeGitHub(corpus, token=TOKEN) as server:
        run = materialize({**env, "BOTSTUDY_GITHUB_API_URL": server.url})
    assert run.success, run.failure_messages()
    assert materialization_metadata(run, "raw_issues")["items_rejected"] == 1
    assert materialization_metadata(run, "raw_issue_comments")["items_rejected"] == 1
    assert materialization_metadata(run, "coded_labels")["label_rows_outside_study"] == 2
    assert run.sql("SELECT number, category FROM coded_labels WHERE rater = 'ann'") == [
        (early["number"], "stale")
    ]


def test_token_never_reaches_logs_or_tables(tmp_path, caplog):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=30, comments_per_issue=1.0)
    with FakeGitHub(corpus, token=TOKEN) as server:
        env = github_env(tmp_path, server.url, GITHUB_TOKEN=TOKEN, BOTSTUDY_REPOS=REPOS[0])
        run = materialize(env, selection=["raw_issues", "raw_issue_comments"])
    assert run.success, run.failure_messages()
    for event in run.result.all_events:
        assert TOKEN not in str(event)
    assert TOKEN not in caplog.text
    # Mining writes only the lake (pages, walk state in the commits); the DuckDB file is left be.
    assert not (tmp_path / "botstudy.duckdb").exists()
    assert lake_leaks(warehouse(tmp_path), TOKEN) == []
    assert files_holding(tmp_path, TOKEN) == []
    assert threading.active_count() < 50


# ------------------------------------------------------------------------------ issue events


def event_corpus(issues: int, per_issue: float, seed: int, repos=REPOS[:1]) -> dict:
    return add_bulk_events(
        bulk_corpus(repos, issues_per_repo=issues, comments_per_issue=0.0, seed=seed),
        per_issue,
        seed=seed,
    )


def mine_events_of(server, store, repo=REPOS[0], log=lambda message: None, **kwargs):
    """The issues walk (the events fallback reads raw_issues), then the events walk."""
    with client(server, **kwargs) as api:
        walk(api, store, repo, ISSUES, window_items=None)
        before = server.stats["counted"]
        report = EventsWalk(api, store, Target(repo, EVENTS, "github", api.api_url), log=log).run()
        return report, server.stats["counted"] - before


def stored_events(store: MinedLake) -> tuple[int, int]:
    return (
        store.scalar("SELECT count(*) FROM raw_issue_events"),
        store.scalar("SELECT count(DISTINCT (repo, event_id)) FROM raw_issue_events"),
    )


def test_events_walk_stores_every_event_once_with_one_request_per_page(tmp_path):
    corpus = event_corpus(400, 3.0, seed=31)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN) as server:
        report, counted = mine_events_of(server, store)
        served = {event["id"] for event in server.events(REPOS[0])}
        assert counted == minimum_event_requests(corpus)
        assert stored_events(store) == (len(served), len(served))
        assert report.fallback_issues == 0 or len(served) % 100 == 0
        # Nothing new: one conditional request, answered by a free 304.
        server.reset_stats()
        with client(server) as api:
            target = Target(REPOS[0], EVENTS, "github", api.api_url)
            again = EventsWalk(api, store, target, log=lambda m: None).run()
        assert server.stats["requests"] == 1 and server.stats["not_modified"] == 1
        assert again.counted_requests == 0
    rows = store.query(
        "SELECT event, label_name, actor_login, state_reason FROM raw_issue_events "
        "WHERE event IN ('labeled', 'closed')"
    )
    assert rows.filter(rows["event"] == "labeled")["label_name"].null_count() == 0
    assert set(rows.filter(rows["event"] == "closed")["state_reason"].drop_nulls()) <= {
        "completed",
        "not_planned",
    }
    # raw_json keeps the event whole but only the keys of its embedded issue.
    issue_keys = store.scalar("SELECT json_keys(raw_json->'issue') FROM raw_issue_events LIMIT 1")
    assert "number" in issue_keys and "body" not in issue_keys


def test_events_refresh_reads_only_the_new_events(tmp_path):
    corpus = event_corpus(300, 2.0, seed=32)
    store = warehouse(tmp_path)
    repo = REPOS[0]
    with FakeGitHub(corpus, token=TOKEN) as server:
        mine_events_of(server, store)
        for number in range(1, 151):  # 150 new events: two pages reach the horizon
            server.add_event(
                repo,
                {
                    "event": "labeled",
                    "issue": {"number": number},
                    "label": {"name": "x"},
                    "actor": None,
                },
            )
        server.reset_stats()
        with client(server) as api:
            EventsWalk(
                api, store, Target(repo, EVENTS, "github", api.api_url), log=lambda m: None
            ).run()
        assert server.stats["counted"] == 2
        server.update_issue(repo, 150, title="edited, no new event")
        server.reset_stats()
        with client(server) as api:
            EventsWalk(
                api, store, Target(repo, EVENTS, "github", api.api_url), log=lambda m: None
            ).run()
        # The first page embeds the edited issue: read once, the horizon is on it.
        assert server.stats["counted"] == 1
        served = {event["id"] for event in server.events(repo)}
    assert stored_events(store) == (len(served), len(served))
    assert store.scalar("SELECT count(*) FROM raw_issue_events WHERE actor_login = 'ghost'") >= 150


def test_killed_events_walk_resumes_and_misses_nothing_made_meanwhile(tmp_path):
    corpus = event_corpus(500, 2.0, seed=33)
    store = warehouse(tmp_path)
    repo = REPOS[0]
    with FakeGitHub(corpus, token=TOKEN) as server:
        with client(server) as api:
            walk(api, store, repo, ISSUES, window_items=None)
            original, calls = api.get_page, {"n": 0}

            def dying(url, etag=None):
                if "/issues/events" in url:
                    calls["n"] += 1
                    if calls["n"] == 4:
                        raise KeyboardInterrupt("killed")
                return original(url, etag)

            api.get_page = dying
            with pytest.raises(KeyboardInterrupt):
                EventsWalk(
                    api, store, Target(repo, EVENTS, "github", api.api_url), log=lambda m: None
                ).run()
        assert stored_events(store)[0] == 300
        for number in range(1, 31):  # made while no run was going: older events shift down
            server.add_event(repo, {"event": "closed", "issue": {"number": number}, "actor": None})
        server.reset_stats()
        report, counted = mine_events_of(server, store)
        served = {event["id"] for event in server.events(repo)}
        remaining = math.ceil((len(served) - 300) / 100)  # the 30 new ones push the rest down
        assert counted <= remaining + 1  # the resumed pages, then the new ones from page 1
    assert stored_events(store) == (len(served), len(served))
    assert report.items_updated <= 100 + 30  # re-read events: the shift, and page 1's horizon


@pytest.mark.parametrize("cap", [300, 1000])
def test_events_beyond_the_lists_reach_come_from_each_issues_list(tmp_path, cap):
    """GitHub refuses pages past a cap (422) or ends the list on a full page: events older than
    the oldest one read come from the per-issue lists of the issues that can have them."""
    corpus = event_corpus(300, 3.0, seed=34)
    events = corpus[REPOS[0]]["events"]
    del events[len(events) - len(events) % 100 :]  # a list that really ends on a full page
    store = warehouse(tmp_path)
    messages = []
    with FakeGitHub(corpus, token=TOKEN, events_offset_cap=cap) as server:
        report, counted = mine_events_of(server, store, log=messages.append)
        served = {event["id"] for event in server.events(REPOS[0])}
        reached = store.state_of(REPOS[0], EVENTS)["reached_at"]
        older = store.scalar("SELECT count(*) FROM raw_issues WHERE created_at <= ?", [reached])
    assert stored_events(store) == (len(served), len(served))
    assert report.fallback_issues == older
    pages = min(cap, len(served)) // 100
    # The capped last page offers no `next`, so the refused page is never asked for.
    assert counted == pages + older
    if cap >= len(served):
        assert older <= 3  # only issues older than the oldest event: the list really ended
    assert any("each issue's list" in m or "full page" in m for m in messages)


def test_events_faults_are_retried_and_a_deleted_actor_is_ghost(tmp_path):
    corpus = event_corpus(300, 2.0, seed=35)
    store = warehouse(tmp_path)
    with FakeGitHub(corpus, token=TOKEN, fault_rate=0.1, retry_after=0, seed=3) as server:
        mine_events_of(server, store)
        assert server.stats["faults"] > 0
        served = {event["id"] for event in server.events(REPOS[0])}
    assert stored_events(store) == (len(served), len(served))
