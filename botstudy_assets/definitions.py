"""The botstudy code location: everything under `defs/`, one folder per stage, loaded at once."""

from pathlib import Path

import dagster as dg

from botstudy_assets.executors import configured_executor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=configured_executor()),
    )
