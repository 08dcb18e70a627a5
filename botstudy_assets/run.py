"""`make run`: materialize the whole graph into DuckDB and print what the study found.

Runs are recorded in the Dagster instance at DAGSTER_HOME, so `make ui` shows them afterwards.
`--sync-partitions` only makes the instance's repository partitions match BOTSTUDY_REPOS (what
`make ui` does before starting, so the UI offers them at once); `--export` (`make export`) only
exports the published tables to Parquet and CSV.
"""

import os
import sys
from contextlib import contextmanager

import dagster as dg
import polars as pl

from botstudy_assets.definitions import defs
from botstudy_assets.defs.jobs import execute_export, execute_refresh
from botstudy_assets.defs.mining.partitions import sync_repositories
from botstudy_assets.defs.resources import build_resources
from botstudy_assets.lib import paper
from botstudy_assets.lib.markdown import MISSING
from botstudy_assets.lib.settings import SettingsError


@contextmanager
def _settings():
    """The study settings and warehouse as the run will see them (EnvVars resolved), validated
    before any work so that a misspelt variable stops the run with a message naming it."""
    resources = build_resources()
    with dg.build_resources(
        {"study": resources["study"], "warehouse": resources["warehouse"]}
    ) as built:
        try:
            study = built.study.get()
        except SettingsError as error:
            sys.exit(f"botstudy: {error}")
        yield study, built.warehouse.get()


def _root_cause(event: dg.DagsterEvent) -> str:
    error = event.step_failure_data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error is not None else "failed"


def _failed_checks(
    result: dg.ExecuteInProcessResult, severity: dg.AssetCheckSeverity
) -> list[dg.AssetCheckEvaluation]:
    return [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == severity
    ]


def _check_line(evaluation: dg.AssetCheckEvaluation) -> str:
    why = evaluation.description or ", ".join(
        f"{key}={value.value}"
        for key, value in evaluation.metadata.items()
        if isinstance(value.value, int | float | str)
    )
    return (
        f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
        f"failed: {why or 'no reason given'}"
    )


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """What makes the run fail: failed steps and failed checks of severity ERROR (every
    blocking check is one)."""
    messages = [
        f"{event.step_key}: {_root_cause(event)}" for event in result.get_step_failure_events()
    ]
    messages += map(_check_line, _failed_checks(result, dg.AssetCheckSeverity.ERROR))
    return messages


def _warnings(result: dg.ExecuteInProcessResult) -> list[str]:
    """Failed checks of severity WARN: worth reading, but the run's tables are complete."""
    return [
        f"warning {_check_line(evaluation)}"
        for evaluation in _failed_checks(result, dg.AssetCheckSeverity.WARN)
    ]


def _shown(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame as a person reads it: text, with "—" where a value is missing (never "null")."""
    return frame.with_columns(pl.all().cast(pl.String).fill_null(MISSING))


def print_summary(study, warehouse) -> None:
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
    pl.Config.set_tbl_rows(30)
    pl.Config.set_fmt_str_lengths(60)
    pl.Config.set_tbl_width_chars(160)
    funnel = warehouse.query(
        "SELECT library, issues, candidates AS keyword_candidates, true_positives AS keyword_tps "
        "FROM bot_funnel WHERE channel = 'keyword' ORDER BY library = 'All', library"
    )
    any_channel = warehouse.query(
        "SELECT library, candidates AS all_channel_candidates, true_positives AS all_tps "
        "FROM bot_funnel WHERE channel = 'any'"
    )
    print(f"\nFunnel (paper: {paper.FUNNEL_LINE}):")
    print(_shown(funnel.join(any_channel, on="library", how="left", maintain_order="left")))
    print("\nTable I, categories of automated work (paper proportions beside ours):")
    print(
        _shown(
            warehouse.query(
                "SELECT category, issue_count, issue_proportion_pct AS pct, paper_proportion_pct "
                "AS paper_pct, array_to_string(bots[1:4], ', ') AS bots FROM category_summary "
                "ORDER BY issue_count DESC"
            )
        )
    )
    print(f"\nAgreement, all categories pooled (paper: Cohen's kappa {paper.KAPPA}):")
    print(
        _shown(
            warehouse.query(
                "SELECT rater_a, rater_b, metric, round(value, 3) AS value, round(ci_low, 3) AS "
                "ci_low, round(ci_high, 3) AS ci_high, n, interpretation FROM agreement_metrics "
                "WHERE category IS NULL AND metric <> 'percent_agreement' ORDER BY metric, "
                "rater_a, rater_b"
            )
        )
    )
    files = warehouse.query("SELECT artifact, path FROM study_report")
    print(
        f"\nDuckDB file: {warehouse.file.resolve()}  (query it: duckdb -readonly {warehouse.file})"
    )
    for artifact, path in files.iter_rows():
        print(f"{artifact}: {path}")


def _instance() -> dg.DagsterInstance:
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with _settings() as (study, warehouse):
        if args == ["--sync-partitions"]:
            with _instance() as instance:
                keys = sync_repositories(instance, study.repo_list())
            print(f"botstudy: repository partitions: {', '.join(keys)}")
            return 0
        if args == ["--export"]:
            return _export(study)
        if args:
            sys.exit(
                f"botstudy: unknown arguments {' '.join(args)} (only --sync-partitions, --export)"
            )
        return _run(study, warehouse)


def _export(study) -> int:
    """`make export`: the job botstudy_export, recorded in the instance like a run."""
    with _instance() as instance:
        result = execute_export(defs(), instance)
    failures = _failures(result)
    if not result.success or failures:
        print("\nbotstudy: the export did not complete:", file=sys.stderr)
        for message in failures or ["see the Dagster logs above"]:
            print(f"  - {message}", file=sys.stderr)
        return 1
    print(f"\nbotstudy: exported to {study.export_path.resolve()} (see DATA_DICTIONARY.md)")
    return 0


def _run(study, warehouse) -> int:
    print(
        f"botstudy: source={study.source} repos={','.join(study.repo_list())}"
        + (f" until={study.until_day}" if study.until else "")
        + f" db={warehouse.file}"
    )
    try:
        definitions = defs()
    except SettingsError as error:
        sys.exit(f"botstudy: {error}")
    with _instance() as instance:
        result = execute_refresh(definitions, instance, study.repo_list(), raise_on_error=False)
    failures = _failures(result)
    if not result.success or failures:
        print("\nbotstudy: the run did not complete:", file=sys.stderr)
        for message in failures or ["see the Dagster logs above"]:
            print(f"  - {message}", file=sys.stderr)
        print("Tables that were already written are unchanged.", file=sys.stderr)
        return 1
    print_summary(study, warehouse)
    warnings = _warnings(result)
    if warnings:
        print("\nbotstudy: the run completed; these warning checks failed:")
        for message in warnings:
            print(f"  - {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
