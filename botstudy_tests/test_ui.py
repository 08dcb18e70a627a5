"""`make ui` serves the Dagster UI on the configured port, listing every asset with its checks."""

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from botstudy_assets.config import PROJECT_ROOT

CONTRACT_ASSETS = {"raw_issues", "raw_issue_comments", "keyword_candidates", "validated_true_positives",
                   "coded_labels", "agreement_metrics", "category_summary"}
QUERY = """{ assetNodes { assetKey { path } groupName
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    """`make ui` in its own process group, on a free port, with a throwaway Dagster home."""
    tmp = tmp_path_factory.mktemp("ui")
    port = free_port()
    env = {**os.environ, "BOTSTUDY_UI_PORT": str(port), "DAGSTER_HOME": str(tmp / "home"),
           "BOTSTUDY_DB": str(tmp / "ui.duckdb"), "BOTSTUDY_REPORTS_DIR": str(tmp / "reports"),
           "BOTSTUDY_SOURCE": "sample"}
    (tmp / "home").mkdir()
    log = (tmp / "ui.log").open("w")
    process = subprocess.Popen(["make", "--no-print-directory", "ui"], cwd=PROJECT_ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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


def graphql(url: str, query: str) -> dict:
    for _ in range(60):  # the code location may still be loading
        response = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30)
        data = response.json().get("data") or {}
        if data.get("assetNodes"):
            return data
        time.sleep(1)
    raise AssertionError(f"no asset nodes: {response.text[:2000]}")


def test_ui_lists_every_asset_with_checks_by_stage(ui_server):
    url, _ = ui_server
    nodes = graphql(url, QUERY)["assetNodes"]
    assets = {node["assetKey"]["path"][-1]: node for node in nodes}
    assert CONTRACT_ASSETS <= set(assets)
    assert {node["groupName"] for node in nodes} == {"mining", "detection", "coding", "reporting"}
    for name in CONTRACT_ASSETS - {"validated_true_positives"}:
        checks = assets[name]["assetChecksOrError"]["checks"]
        assert checks, f"{name} has no checks"
    assert any(check["blocking"] for check in assets["coded_labels"]["assetChecksOrError"]["checks"])
