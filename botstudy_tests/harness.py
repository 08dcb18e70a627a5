"""Helpers for tests that materialize the real graph into a temporary DuckDB file."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import yaml

from botstudy_dev.runner import run_graph

DEVSET = Path(__file__).parent / "devset" / "threads.yaml"


@dataclass
class GraphRun:
    result: dg.ExecuteInProcessResult
    db: Path

    @property
    def success(self) -> bool:
        return self.result.success

    def sql(self, query: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query, params).fetchall()

    def check_results(self) -> dict[str, bool]:
        return {
            evaluation.check_name: evaluation.passed
            for evaluation in self.result.get_asset_check_evaluations()
        }

    def failure_messages(self) -> list[str]:
        return [
            str(event.step_failure_data.error) for event in self.result.get_step_failure_events()
        ]


def materialize(env: dict[str, str], selection: list[str] | None = None) -> GraphRun:
    """Build the definitions under `env` and run the whole graph (or a selection) in-process."""
    return GraphRun(run_graph(env, selection), Path(env["BOTSTUDY_DB"]))


def sample_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "BOTSTUDY_SOURCE": "sample",
        "BOTSTUDY_DB": str(tmp_path / "botstudy.duckdb"),
        "BOTSTUDY_REPORTS_DIR": str(tmp_path / "reports"),
        **extra,
    }


def github_env(tmp_path: Path, api_url: str, **extra: str) -> dict[str, str]:
    labels = tmp_path / "labels"
    labels.mkdir(exist_ok=True)
    return {
        "BOTSTUDY_SOURCE": "github",
        "BOTSTUDY_GITHUB_API_URL": api_url,
        "BOTSTUDY_DB": str(tmp_path / "botstudy.duckdb"),
        "BOTSTUDY_REPORTS_DIR": str(tmp_path / "reports"),
        "BOTSTUDY_LABELS_DIR": str(labels),
        "BOTSTUDY_HTTP_BACKOFF_S": "0.01",
        **extra,
    }


def token_leaks(db: Path, token: str) -> list[str]:
    """Every `table.column` of the DuckDB file holding `token` in some row, every column read as
    text (the file's bytes will not do: DuckDB compresses strings)."""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY ALL"
        ).fetchall()
        return [
            f"{table}.{column}"
            for table, column in columns
            if con.execute(
                f'SELECT count(*) FROM "{table}" WHERE strpos(CAST("{column}" AS VARCHAR), ?) > 0',
                [token],
            ).fetchone()[0]
        ]


def files_holding(root: Path, token: str, skip_suffixes=(".duckdb",)) -> list[Path]:
    """Every file under `root` (DuckDB files aside: see `token_leaks`) whose bytes hold `token`."""
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and not path.name.endswith(skip_suffixes)
        and token.encode() in path.read_bytes()
    ]


def load_devset() -> list[dict]:
    """The hand-written dev set (for unit tests of particular rules)."""
    return yaml.safe_load(DEVSET.read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(url: str, query: str) -> dict:
    for _ in range(60):  # the code location may still be loading
        response = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30)
        data = response.json().get("data") or {}
        if data.get("assetNodes"):
            return data
        time.sleep(1)
    raise AssertionError(f"no asset nodes: {response.text[:2000]}")
