"""The job that materializes the whole graph, and how `make run` launches it in-process."""

import dagster as dg

from botstudy_assets.defs.mining.partitions import all_repositories_tags
from botstudy_assets.defs.resources import LAKE_ONLY_ASSETS

REFRESH_JOB = "botstudy_refresh"
MINE_JOB, ANALYZE_JOB = "botstudy_mine", "botstudy_analyze"
MINING = dg.AssetSelection.assets(*LAKE_ONLY_ASSETS)
EXPORT_JOB = "botstudy_export"
EXPORT_ASSET = "dataset_export"

refresh_job = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(EXPORT_ASSET),
    description="Mine, detect, code, measure agreement and write the report: the whole graph. "
    "Launched over all repository partitions (`make run`, the schedule) or one.",
)

# Past one machine: one `botstudy_mine` run per repository partition (a backfill, or `dagster job
# execute ... --tags '{"dagster/partition": "owner/name"}'`), as many at once as there are
# workers and tokens, then one `botstudy_analyze` run over what they mined.
mine_job = dg.define_asset_job(
    MINE_JOB,
    selection=MINING,
    description="Mine one repository partition (issues, comments, events) into the lake.",
)
analyze_job = dg.define_asset_job(
    ANALYZE_JOB,
    selection=dg.AssetSelection.all() - MINING - dg.AssetSelection.assets(EXPORT_ASSET),
    description="Publish the lake to the DuckDB file and run every stage after mining.",
)


export_job = dg.define_asset_job(
    EXPORT_JOB,
    selection=[EXPORT_ASSET],
    description="Export every table of the published DuckDB file to Parquet (and CSV for the "
    "small ones) with a data dictionary (`make export`).",
)


def execute_refresh(
    defs: dg.Definitions, instance: dg.DagsterInstance, repos: list[str], **kwargs
) -> dg.ExecuteInProcessResult:
    """Run `botstudy_refresh` in this process over every configured repository (or over an
    `asset_selection`)."""
    tags = all_repositories_tags(instance, repos)
    return defs.resolve_job_def(REFRESH_JOB).execute_in_process(
        instance=instance, tags=tags, **kwargs
    )


def execute_export(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """Run `botstudy_export` in this process (`make export`)."""
    return defs.resolve_job_def(EXPORT_JOB).execute_in_process(
        instance=instance, raise_on_error=False
    )
