"""One partition per repository. Which partitions exist is configuration (BOTSTUDY_REPOS), not
code: `make run`, `make ui` and the `repository_partitions` sensor keep them in step. A run mines
the partitions it was launched for: one repository, or a range (`make run` and the schedule take
all of them in one run)."""

import dagster as dg

from botstudy_assets.lib.settings import SettingsError, parse_repos

PARTITIONS_NAME = "repositories"
REPOSITORIES = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)

# Dagster's tags for a run over a range of partitions (one step mines every repository in it).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_changes(current: list[str], repos: list[str]) -> tuple[list[str], list[str]]:
    """The repositories to add as partitions, and the partitions no longer configured."""
    return (
        [repo for repo in repos if repo not in current],
        [key for key in current if key not in repos],
    )


def current_partitions(instance: dg.DagsterInstance) -> list[str]:
    return list(instance.get_dynamic_partitions(PARTITIONS_NAME))


def sync_repositories(instance: dg.DagsterInstance, repos: list[str]) -> list[str]:
    """Make the `repositories` partitions exactly the configured repositories; returns the
    partition keys in their order. Removing a repository from BOTSTUDY_REPOS removes its
    partition (its mined rows stay in DuckDB, outside the study)."""
    missing, extra = partition_changes(current_partitions(instance), repos)
    for key in extra:
        instance.delete_dynamic_partition(PARTITIONS_NAME, key)
    if missing:
        instance.add_dynamic_partitions(PARTITIONS_NAME, missing)
    return current_partitions(instance)


def all_repositories_tags(instance: dg.DagsterInstance, repos: list[str]) -> dict[str, str]:
    """Tags that make one run cover every configured repository."""
    keys = sync_repositories(instance, repos)
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def partition_repos(context: dg.AssetExecutionContext) -> list[str]:
    """The repositories this run mines, checked like BOTSTUDY_REPOS entries."""
    try:
        return parse_repos(",".join(context.partition_keys), variable="partition key")
    except SettingsError as error:
        raise dg.Failure(description=str(error)) from None
