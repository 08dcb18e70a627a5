"""The weekly refresh of the whole graph (off unless BOTSTUDY_SCHEDULE=on)."""

import os

import dagster as dg

from botstudy_assets.defs.jobs import refresh_job
from botstudy_assets.defs.mining.partitions import all_repositories_tags
from botstudy_assets.defs.resources import StudyResource

SCHEDULE_ON = ("on", "1", "true")


def _default_status() -> dg.DefaultScheduleStatus:
    switched_on = os.environ.get("BOTSTUDY_SCHEDULE", "").lower() in SCHEDULE_ON
    return dg.DefaultScheduleStatus.RUNNING if switched_on else dg.DefaultScheduleStatus.STOPPED


def weekly_refresh_schedule() -> dg.ScheduleDefinition:
    """Built when the definitions load, so that BOTSTUDY_SCHEDULE is read then."""

    @dg.schedule(
        name="weekly_refresh",
        job=refresh_job,
        cron_schedule="0 3 * * 1",  # Mondays 03:00 UTC; a refresh with no changes costs ~nothing
        execution_timezone="UTC",
        default_status=_default_status(),
        description="Refreshes the whole graph, every repository in one run, weekly. Off by "
        "default: set BOTSTUDY_SCHEDULE=on (or switch it on in the UI) and run "
        "`make ui`, whose daemon runs schedules.",
    )
    def weekly_refresh(
        context: dg.ScheduleEvaluationContext, study: StudyResource
    ) -> dg.RunRequest:
        return dg.RunRequest(tags=all_repositories_tags(context.instance, study.get().repo_list()))

    return weekly_refresh


@dg.definitions
def schedules() -> dg.Definitions:
    return dg.Definitions(schedules=[weekly_refresh_schedule()])
