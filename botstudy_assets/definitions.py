"""The botstudy code location: everything under `defs/`, one folder per stage, loaded at once;
every asset that writes the DuckDB file publishes it when it has materialized (mining writes
the lake and publishes nothing)."""

from pathlib import Path

import dagster as dg

from botstudy_assets.defs.resources import with_publication
from botstudy_assets.executors import configured_executor


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return dg.Definitions(
        assets=[with_publication(asset) for asset in loaded.assets or []],
        asset_checks=loaded.asset_checks,
        jobs=loaded.jobs,
        schedules=loaded.schedules,
        sensors=loaded.sensors,
        resources=loaded.resources,
        loggers=loaded.loggers,
        metadata=loaded.metadata,
        component_tree=loaded.component_tree,
        executor=configured_executor(),
    )
