"""Shared fixtures: graph runs and servers are expensive, so each is made once per session
(or module)."""

import os
import signal
import subprocess
import time

import httpx
import pytest

from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_dev.corpora import devset_corpus
from botstudy_dev.fake_github import FakeGitHub
from botstudy_tests.harness import free_port, github_env, load_devset, materialize, sample_env

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


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    """`make ui` in its own process group, on a free port, with a throwaway Dagster home."""
    tmp = tmp_path_factory.mktemp("ui")
    port = free_port()
    env = {
        **os.environ,
        "BOTSTUDY_UI_PORT": str(port),
        "DAGSTER_HOME": str(tmp / "home"),
        "BOTSTUDY_DB": str(tmp / "ui.duckdb"),
        "BOTSTUDY_REPORTS_DIR": str(tmp / "reports"),
        "BOTSTUDY_SOURCE": "sample",
    }
    (tmp / "home").mkdir()
    log = (tmp / "ui.log").open("w")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "ui"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"make ui exited: {(tmp / 'ui.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            raise AssertionError(f"make ui did not answer: {(tmp / 'ui.log').read_text()[-3000:]}")
        yield url, tmp
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
