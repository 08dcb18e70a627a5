"""Keeps the repository partitions in step with BOTSTUDY_REPOS while the UI runs."""

import dagster as dg

from botstudy_assets.defs.mining.partitions import (
    REPOSITORIES,
    current_partitions,
    partition_changes,
)
from botstudy_assets.defs.resources import StudyResource


@dg.sensor(
    name="repository_partitions",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps one `repositories` partition per BOTSTUDY_REPOS entry, so adding a "
    "repository is configuration. Launches no runs.",
)
def repository_partitions(
    context: dg.SensorEvaluationContext, study: StudyResource
) -> dg.SensorResult:
    missing, extra = partition_changes(
        current_partitions(context.instance), study.get().repo_list()
    )
    requests = []
    if missing:
        requests.append(REPOSITORIES.build_add_request(missing))
    if extra:
        requests.append(REPOSITORIES.build_delete_request(extra))
    return dg.SensorResult(dynamic_partitions_requests=requests)
