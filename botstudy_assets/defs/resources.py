"""The resources every stage shares, declared once: the study settings, the GitHub API, the
raw-data lake and the DuckDB warehouse. Each is configured from the environment (`EnvVar`, so
values such as the token never appear in run config or the UI) and hands the stages a
Dagster-free object from `lib/`.
"""

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from botstudy_assets.lib.github import GitHubClient
from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.raw_store import RawStore
from botstudy_assets.lib.settings import DEFAULT_DATA_DIR, DEFAULT_DB, DEFAULT_REPOS, Study
from botstudy_assets.lib.storage import Warehouse
from botstudy_assets.lib.tokens import TokenPool, parse_tokens

# Items per `since` window of the repository comments walk. One page: every page starts again
# from the newest updated_at read so far, so a comment edited or deleted behind the walk cannot
# shift an unread one onto a page already read (offset pages would lose it until its next
# update). Costs the re-read of items tied at that second, about 2% more requests.
COMMENTS_WINDOW_ITEMS = 100


class StudyResource(dg.ConfigurableResource):
    """What the study covers and where its files are (BOTSTUDY_* variables)."""

    source: str = ""
    repos: str = DEFAULT_REPOS
    until: str = ""
    data_dir: str = str(DEFAULT_DATA_DIR)
    labels_dir: str = ""
    reports_dir: str = ""
    export_dir: str = ""
    github_token_set: bool = False

    def get(self) -> Study:
        """The validated settings; a SettingsError names the variable that is wrong."""
        return Study.from_values(
            source=self.source,
            repos=self.repos,
            until=self.until,
            data_dir=self.data_dir,
            labels_dir=self.labels_dir,
            reports_dir=self.reports_dir,
            export_dir=self.export_dir,
            github_token_set=self.github_token_set,
        )


class GitHubResource(dg.ConfigurableResource):
    """Where the GitHub REST API is and how to talk to it. The token is only ever read from the
    environment (an `EnvVar`), so it never appears in run config, logs or the UI."""

    api_url: str = "https://api.github.com"
    token: str = ""
    tokens: str = ""  # GITHUB_TOKENS, comma-separated
    max_concurrent_repos: int = 3
    timeout_s: float = 60.0
    max_retries: int = 8
    backoff_base_s: float = 1.0
    comments_window_items: int = COMMENTS_WINDOW_ITEMS

    def token_list(self) -> list[str]:
        return parse_tokens(self.tokens, self.token)

    def client(self, log: Callable[[str], None], tokens: TokenPool | None = None) -> GitHubClient:
        return GitHubClient(
            api_url=self.api_url,
            token=self.token or None,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
            log=log,
            tokens=tokens,
        )


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file users query (BOTSTUDY_DB) and the working copy beside it that every asset
    writes its table to."""

    path: str = str(DEFAULT_DB)
    lock_timeout_s: float = 600.0

    def get(self) -> Warehouse:
        return Warehouse(Path(self.path), self.lock_timeout_s)


class LakeResource(dg.ConfigurableResource):
    """Where mined pages and the walks' state live (BOTSTUDY_LAKE): a local path, a shared
    filesystem or an object-store URL; by default `lake/` beside the DuckDB file."""

    root: str = ""
    db_path: str = str(DEFAULT_DB)

    def get(self) -> RawStore:
        return RawStore(Lake(self.root or str(Path(self.db_path).parent / "lake")))


# Mining writes the lake only, one writer per repository partition: it has no working copy to
# publish, and taking the working copy's turn would make partition runs wait for each other.
LAKE_ONLY_ASSETS = ("raw_issues", "raw_issue_comments", "raw_issue_events")


@dg.success_hook(required_resource_keys={"warehouse"})
def publish_warehouse(context: dg.HookContext) -> None:
    """After each asset materializes: publish the working copy as BOTSTUDY_DB, so that SQL users
    see every table as soon as it is written, and never a half-written one."""
    warehouse = context.resources.warehouse.get()
    if warehouse.publish():
        context.log.debug(f"published {warehouse.file}")


def with_publication(asset):
    """The asset, publishing the warehouse after each of its materializations (wherever it is
    launched from: `make run`, the UI, a schedule, a backfill); mining assets write the lake
    and publish nothing."""
    if not isinstance(asset, dg.AssetsDefinition):
        return asset
    if all(key.to_user_string() in LAKE_ONLY_ASSETS for key in asset.keys):
        return asset
    return asset.with_hooks({publish_warehouse})


def _env(name: str, default: str) -> str | dg.EnvVar:
    """An `EnvVar` when the variable is set (so its value never lands in run config or the UI),
    else the default: every botstudy setting is optional."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "study": StudyResource(
            source=_env("BOTSTUDY_SOURCE", ""),
            repos=_env("BOTSTUDY_REPOS", DEFAULT_REPOS),
            until=_env("BOTSTUDY_UNTIL", ""),
            data_dir=_env("BOTSTUDY_DATA_DIR", str(DEFAULT_DATA_DIR)),
            labels_dir=_env("BOTSTUDY_LABELS_DIR", ""),
            reports_dir=_env("BOTSTUDY_REPORTS_DIR", ""),
            export_dir=_env("BOTSTUDY_EXPORT_DIR", ""),
            github_token_set=bool(
                os.environ.get("GITHUB_TOKEN") or os.environ.get("GITHUB_TOKENS")
            ),
        ),
        "github": GitHubResource(
            api_url=_env("BOTSTUDY_GITHUB_API_URL", "https://api.github.com"),
            token=_env("GITHUB_TOKEN", ""),
            tokens=_env("GITHUB_TOKENS", ""),
            backoff_base_s=float(os.environ.get("BOTSTUDY_HTTP_BACKOFF_S") or 1.0),
        ),
        "warehouse": WarehouseResource(path=_env("BOTSTUDY_DB", str(DEFAULT_DB))),
        "lake": LakeResource(
            root=_env("BOTSTUDY_LAKE", ""), db_path=_env("BOTSTUDY_DB", str(DEFAULT_DB))
        ),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
