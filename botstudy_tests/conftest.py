"""Shared fixtures: graph runs are expensive, so each is made once per session."""

import os

import pytest

from botstudy_tests.fake_github import FakeGitHub
from botstudy_tests.harness import devset_corpus, github_env, load_devset, materialize, sample_env

# Tests, like `make`, keep everything on this machine.
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"


@pytest.fixture(scope="session")
def devset_threads() -> list[dict]:
    return load_devset()


@pytest.fixture(scope="session")
def devset_run(tmp_path_factory, devset_threads):
    """The whole graph on the hand-labelled dev set, mined from the loopback fake GitHub."""
    corpus = devset_corpus(devset_threads)
    tmp = tmp_path_factory.mktemp("devset")
    with FakeGitHub(corpus) as server:
        run = materialize(github_env(tmp, server.url, BOTSTUDY_REPOS=",".join(sorted(corpus))))
    assert run.success, run.failure_messages()
    truth = {(t["repo"], t["number"]): t["truth"] for t in devset_threads}
    return run, truth


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """The whole graph on the embedded sample, as `make run` does it."""
    tmp = tmp_path_factory.mktemp("sample")
    run = materialize(sample_env(tmp))
    assert run.success, run.failure_messages()
    return run, tmp
