"""The botstudy code location: every asset, check, resource and schedule, declared once."""

import os

import dagster as dg

from . import coding, detection, mining, reporting
from .config import DEFAULT_REPOS, PROJECT_ROOT, StudyConfig
from .github_resource import GitHubApi
from .storage import Warehouse

STAGES = (mining, detection, coding, reporting)


def _env(name: str, default: str) -> str | dg.EnvVar:
    """An `EnvVar` when the variable is set (so its value never lands in run config or the UI),
    else the default: every botstudy setting is optional."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "study": StudyConfig(
            source=_env("BOTSTUDY_SOURCE", ""),
            repos=_env("BOTSTUDY_REPOS", DEFAULT_REPOS),
            until=_env("BOTSTUDY_UNTIL", ""),
            data_dir=_env("BOTSTUDY_DATA_DIR", str(PROJECT_ROOT / "data")),
            labels_dir=_env("BOTSTUDY_LABELS_DIR", ""),
            reports_dir=_env("BOTSTUDY_REPORTS_DIR", ""),
            github_token_set=bool(os.environ.get("GITHUB_TOKEN")),
        ),
        "github": GitHubApi(
            api_url=_env("BOTSTUDY_GITHUB_API_URL", "https://api.github.com"),
            token=_env("GITHUB_TOKEN", ""),
            backoff_base_s=float(os.environ.get("BOTSTUDY_HTTP_BACKOFF_S") or 1.0),
        ),
        "warehouse": Warehouse(path=_env("BOTSTUDY_DB", str(PROJECT_ROOT / "data" / "botstudy.duckdb"))),
    }


refresh_job = dg.define_asset_job(
    "botstudy_refresh", selection=dg.AssetSelection.all(),
    description="Mine, detect, code, measure agreement and write the report: the whole graph.",
)

weekly_refresh = dg.ScheduleDefinition(
    name="weekly_refresh",
    job=refresh_job,
    cron_schedule="0 3 * * 1",  # Mondays 03:00 UTC; a refresh with no changes costs ~nothing
    execution_timezone="UTC",
    default_status=(dg.DefaultScheduleStatus.RUNNING
                    if os.environ.get("BOTSTUDY_SCHEDULE", "").lower() in ("on", "1", "true")
                    else dg.DefaultScheduleStatus.STOPPED),
    description="Refreshes the whole graph weekly. Off by default: set BOTSTUDY_SCHEDULE=on (or "
                "switch it on in the UI) and run `make ui`, whose daemon runs schedules.",
)


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(list(STAGES)),
        asset_checks=dg.load_asset_checks_from_modules(list(STAGES)),
        jobs=[refresh_job],
        schedules=[weekly_refresh],
        resources=build_resources(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
