"""Several tokens (GITHUB_TOKENS): runs mine with tokens that have budget left, move to another
when one runs out, respect one Dagster pool per token, and write no token anywhere."""

import dagster as dg
import pytest

from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.raw_store import RawStore
from botstudy_assets.lib.tokens import TokenPool, parse_tokens
from botstudy_dev.fake_github import FakeGitHub, bulk_corpus, minimum_requests
from botstudy_dev.runner import run_graph
from botstudy_tests.harness import github_env

REPOS = ["acme/alpha", "acme/beta"]
TOKENS = ("tok-one-not-real-11111", "tok-two-not-real-22222", "tok-three-not-real-33333")
MINING = ["raw_issues", "raw_issue_comments"]


def mined(tmp_path) -> tuple[int, int]:
    store = RawStore(Lake(str(tmp_path / "lake")))
    return (
        store.scalar("SELECT count(*) FROM raw_issues", repos=REPOS),
        store.scalar("SELECT count(*) FROM raw_issue_comments", repos=REPOS),
    )


def test_parse_tokens_takes_both_variables_once():
    assert parse_tokens(" a, b ,,a", "c") == ["a", "b", "c"]
    assert parse_tokens("", "c") == ["c"]
    assert parse_tokens("", "") == []


def test_a_run_moves_to_another_token_before_one_runs_out(tmp_path):
    corpus = bulk_corpus(REPOS, issues_per_repo=1500, comments_per_issue=1.0, seed=41)
    budget = 28  # two tokens alone cannot mine the corpus
    assert minimum_requests(corpus) > 2 * budget
    with FakeGitHub(corpus, tokens=TOKENS, rate_limit=budget, rate_reset_seconds=3600) as server:
        env = github_env(
            tmp_path, server.url, GITHUB_TOKENS=",".join(TOKENS), BOTSTUDY_REPOS=",".join(REPOS)
        )
        run = run_graph(env, selection=MINING)
        stats = server.stats
    assert run.success
    assert mined(tmp_path) == (3000, 3000)
    # Every token was used, none beyond its budget, and none was ever refused for it.
    assert sorted(stats["counted_by_token"]) == [1, 2, 3]
    assert all(count <= budget for count in stats["counted_by_token"].values())
    assert stats["rate_limited_by_token"] == {} and stats["rate_limited"] == 0
    written = [path for path in (tmp_path / "lake").rglob("*") if path.is_file()]
    for token in TOKENS:
        assert all(token.encode() not in path.read_bytes() for path in written)
        assert all(token not in str(event) for event in run.all_events)


def test_a_token_without_budget_is_set_aside_and_a_pool_without_slots_is_skipped(tmp_path):
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=300, comments_per_issue=0.0, seed=42)
    with (
        FakeGitHub(corpus, tokens=TOKENS, rate_limit=100) as server,
        dg.instance_for_test() as instance,
    ):
        for _ in range(95):  # token 1 has 5 requests left: too few to start a walk with
            server._rates[TOKENS[0]].consume()
        instance.event_log_storage.set_concurrency_slots("github-token-2", 0)  # token 2: no slot
        env = github_env(
            tmp_path, server.url, GITHUB_TOKENS=",".join(TOKENS), BOTSTUDY_REPOS=REPOS[0]
        )
        run = run_graph(env, selection=["raw_issues"], instance=instance)
        stats = server.stats
    assert run.success
    assert stats["counted_by_token"] == {3: 4}  # the probe and three pages, all with token 3
    assert mined(tmp_path)[0] == 300


def test_every_token_out_of_budget_waits_for_the_first_reset():
    waits: list[float] = []
    corpus = bulk_corpus(REPOS[:1], issues_per_repo=10, comments_per_issue=0.0, seed=43)
    with FakeGitHub(corpus, tokens=TOKENS[:2], rate_limit=5, rate_reset_seconds=30) as server:
        for token in TOKENS[:2]:
            server._rates[token].exhaust()
        pool = TokenPool(list(TOKENS[:2]), server.url, sleep=waits.append)
        with pytest.raises(IndexError):  # the fake sleep returns at once; stop after one wait
            pool.sleep = lambda seconds: (waits.append(seconds), [][0])
            pool.token()
    assert waits and 1 <= waits[0] <= 32
    assert set(pool.aside_until) == {1, 2}
