"""Stage 5, export: every table of the published DuckDB file as Parquet (and CSV for the small
ones) under data/export, with DATA_DICTIONARY.md, to hand a colleague the dataset without the
DuckDB file. Not part of the refresh job: `make export` or the job `botstudy_export`."""

import dagster as dg
import polars as pl

from botstudy_assets.defs.common import md
from botstudy_assets.defs.resources import StudyResource, WarehouseResource
from botstudy_assets.lib.export import DICTIONARY, TableDoc, export_database, readme_table_docs
from botstudy_assets.lib.figures import code_version
from botstudy_assets.lib.settings import PROJECT_ROOT


def _descriptions() -> dict[str, str]:
    """The asset descriptions (their docstrings, as the UI shows them) by asset name, which is
    the name of the table each writes."""
    # The code location's definitions (their modules are loaded already); imported here, as
    # they include this module.
    from botstudy_assets.definitions import defs

    return {
        spec.key.to_user_string(): " ".join((spec.description or "").split())
        for spec in defs().resolve_all_asset_specs()
    }


@dg.asset(group_name="export", deps=["study_report"], kinds={"parquet", "csv"})
def dataset_export(study: StudyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every table of the published DuckDB file (BOTSTUDY_DB) as a Parquet file, and a CSV file
    for tables of at most 10,000 rows, under data/export (BOTSTUDY_EXPORT_DIR), with
    DATA_DICTIONARY.md generated from the table documentation."""
    settings, db = study.get(), warehouse.get()
    docs = readme_table_docs(PROJECT_ROOT / "README.md")
    for table, description in _descriptions().items():
        docs.setdefault(table, TableDoc()).description = description
    exported = export_database(db.file, settings.export_path, docs, code_version())
    files = pl.DataFrame(
        {
            "table": [table.table for table in exported],
            "rows": [table.rows for table in exported],
            "files": [", ".join(table.files) for table in exported],
        }
    )
    return dg.MaterializeResult(
        metadata={
            "Tables": md(files),
            "Folder": dg.MetadataValue.path(str(settings.export_path.resolve())),
            "Data dictionary": dg.MetadataValue.path(
                str((settings.export_path / DICTIONARY).resolve())
            ),
        }
    )
