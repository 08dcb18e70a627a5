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
    description="Mine, detect, code, measure agreement and write the report: the whole graph. "
                "Launched over all repository partitions (`make run`, the schedule) or one.",
)

# Dagster's tags for a run over a range of partitions (one step mines every repository in it).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_changes(current: list[str], repos: list[str]) -> tuple[list[str], list[str]]:
    """The repositories to add as partitions, and the partitions no longer configured."""
    return [repo for repo in repos if repo not in current], [key for key in current if key not in repos]


def sync_repositories(instance: dg.DagsterInstance, repos: list[str]) -> list[str]:
    """Make the `repositories` partitions exactly the configured repositories; returns the
    partition keys in their order. Removing a repository from BOTSTUDY_REPOS removes its
    partition (its mined rows stay in DuckDB, outside the study)."""
    name = mining.REPOSITORIES.name
    missing, extra = partition_changes(instance.get_dynamic_partitions(name), repos)
    for key in extra:
        instance.delete_dynamic_partition(name, key)
    if missing:
        instance.add_dynamic_partitions(name, missing)
    return instance.get_dynamic_partitions(name)


def all_repositories_tags(instance: dg.DagsterInstance, repos: list[str]) -> dict[str, str]:
    """Tags that make one run cover every configured repository."""
    keys = sync_repositories(instance, repos)
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def configured_repos(defs: dg.Definitions) -> list[str]:
    """BOTSTUDY_REPOS as the definitions' `study` resource resolves it."""
    with dg.build_resources({"study": defs.resources["study"]}) as built:
        return built.study.repo_list()


def execute_refresh(defs: dg.Definitions, instance: dg.DagsterInstance, **kwargs):
    """Run `botstudy_refresh` in this process over every configured repository (or over an
    `asset_selection`); the result is Dagster's `ExecuteInProcessResult`."""
    tags = all_repositories_tags(instance, configured_repos(defs))
    return defs.resolve_job_def(refresh_job.name).execute_in_process(
        instance=instance, tags=tags, **kwargs)


@dg.sensor(
    name="repository_partitions", minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps one `repositories` partition per BOTSTUDY_REPOS entry, so adding a "
                "repository is configuration. Launches no runs.",
)
def repository_partitions(context: dg.SensorEvaluationContext, study: StudyConfig) -> dg.SensorResult:
    missing, extra = partition_changes(
        context.instance.get_dynamic_partitions(mining.REPOSITORIES.name), study.repo_list())
    requests = []
    if missing:
        requests.append(mining.REPOSITORIES.build_add_request(missing))
    if extra:
        requests.append(mining.REPOSITORIES.build_delete_request(extra))
    return dg.SensorResult(dynamic_partitions_requests=requests)


@dg.schedule(
    name="weekly_refresh",
    job=refresh_job,
    cron_schedule="0 3 * * 1",  # Mondays 03:00 UTC; a refresh with no changes costs ~nothing
    execution_timezone="UTC",
    default_status=(dg.DefaultScheduleStatus.RUNNING
                    if os.environ.get("BOTSTUDY_SCHEDULE", "").lower() in ("on", "1", "true")
                    else dg.DefaultScheduleStatus.STOPPED),
    description="Refreshes the whole graph, every repository in one run, weekly. Off by default: "
                "set BOTSTUDY_SCHEDULE=on (or switch it on in the UI) and run `make ui`, whose "
                "daemon runs schedules.",
)
def weekly_refresh(context: dg.ScheduleEvaluationContext, study: StudyConfig) -> dg.RunRequest:
    return dg.RunRequest(tags=all_repositories_tags(context.instance, study.repo_list()))


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(list(STAGES)),
        asset_checks=dg.load_asset_checks_from_modules(list(STAGES)),
        jobs=[refresh_job],
        schedules=[weekly_refresh],
        sensors=[repository_partitions],
        resources=build_resources(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
