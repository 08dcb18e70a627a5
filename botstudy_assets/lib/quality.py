"""Great Expectations 1.x suites over polars frames, for the Dagster asset checks.

`dagster-ge` supports only Great Expectations before 1.0, so this wraps GE 1.x directly: an
ephemeral context (nothing written to disk), a pandas batch of the table's checked columns, one
suite per check. GE is imported lazily because its import alone costs seconds, which would slow
down every process that merely loads the definitions. The outcome is plain data; the checks
under `defs/` turn it into an `AssetCheckResult`.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

_GX_LOCK = threading.Lock()  # the ephemeral context is not meant for concurrent mutation


@dataclass(frozen=True)
class Expectation:
    """One GE expectation by its class name (e.g. `ExpectColumnValuesToNotBeNull`) and kwargs."""

    name: str
    kwargs: dict[str, Any]

    def __init__(self, name: str, **kwargs: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "kwargs", kwargs)

    def describe(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"{self.name}({args})"


@cache
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:
        pass
    return gx, context, context.data_sources.add_pandas("botstudy")


def validate_frame(table: str, frame: pl.DataFrame, expectations: list[Expectation]) -> list[dict]:
    """Run the expectations on `frame`; one result dict per expectation."""
    with _GX_LOCK:
        gx, _, source = _context()
        asset_name = f"{table}_{len(source.assets)}"
        asset = source.add_dataframe_asset(name=asset_name)
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
            batch_parameters={"dataframe": frame.to_pandas()}
        )
        suite = gx.ExpectationSuite(name=f"{table}_suite")
        keys = []
        for expectation in expectations:
            added = suite.add_expectation(
                getattr(gx.expectations, expectation.name)(**expectation.kwargs)
            )
            keys.append(_config_key(added.configuration))
        result = batch.validate(suite, result_format="SUMMARY")
        source.delete_asset(asset_name)
    # GE reports table-level expectations first and the rest grouped by column, not in the
    # suite's order: match each result to its expectation by type and arguments.
    by_key = {_config_key(item.expectation_config): item for item in result.results}
    outcomes = []
    for expectation, key in zip(expectations, keys, strict=True):
        item = by_key[key]
        details = item.result or {}
        outcomes.append(
            {
                "expectation": expectation.describe(),
                "success": bool(item.success),
                "unexpected_count": details.get("unexpected_count"),
                "examples": [
                    _plain(value) for value in (details.get("partial_unexpected_list") or [])[:5]
                ],
                "observed": _plain(details.get("observed_value")),
            }
        )
    return outcomes


def _config_key(config: Any) -> tuple[str, str]:
    kwargs = {key: value for key, value in config.kwargs.items() if key != "batch_id"}
    return config.type, json.dumps(kwargs, sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return str(value)[:200]
    if hasattr(value, "item"):
        return value.item()
    return value if isinstance(value, int | float | str | bool | None) else str(value)


@dataclass(frozen=True)
class CheckOutcome:
    """What a check found: whether it passed, why not, and a markdown table of expectations."""

    passed: bool
    description: str
    rows_checked: int
    expectations: int
    problems: tuple[str, ...]
    results_md: str


def run_expectations(
    table: str,
    frame: pl.DataFrame,
    expectations: list[Expectation],
    extra_failures: list[str] | None = None,
    allow_empty: bool = False,
) -> CheckOutcome:
    """Every failed expectation with failing examples, plus the caller's own findings."""
    outcomes = validate_frame(table, frame, expectations) if frame.height else []
    failed = [outcome for outcome in outcomes if not outcome["success"]]
    problems = [
        f"{o['expectation']}: {o['unexpected_count']} unexpected, e.g. {o['examples']}"
        for o in failed
    ] + list(extra_failures or [])
    if frame.height == 0 and not allow_empty:
        problems.append(f"{table} is empty")
    rows = "\n".join(
        f"| {'✅' if o['success'] else '❌'} | `{o['expectation']}` | {o['unexpected_count'] or 0} "
        f"| {', '.join(map(str, o['examples']))[:120]} |"
        for o in outcomes
    )
    return CheckOutcome(
        passed=not problems,
        description="; ".join(problems)[:2000] if problems else "all expectations met",
        rows_checked=frame.height,
        expectations=len(expectations),
        problems=tuple(problems),
        results_md="| ok | expectation | unexpected | examples |\n|---|---|---|---|\n" + rows,
    )
