"""Frames as markdown tables, for the report and for asset metadata in the UI."""

from __future__ import annotations

import polars as pl
from tabulate import tabulate

EMPTY_TABLE = "_(no rows)_"
# What a reader sees where a value is missing (NULL or NaN), never "nan", "None" or "null".
MISSING = "—"


def md_table(frame: pl.DataFrame, *, max_text: int | None = None, empty: str = EMPTY_TABLE) -> str:
    """A pipe table; lists are joined with ', ', missing values (NULL, NaN) show as MISSING,
    and text columns are cut to `max_text` characters when given (for previews)."""
    if frame.is_empty():
        return empty
    shown = frame.with_columns(
        [
            pl.col(name).list.eval(_as_text(dtype.inner)).list.join(", ")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.List)
        ]
        + [pl.col(name).fill_nan(None) for name, dtype in frame.schema.items() if dtype.is_float()]
    )
    if max_text is not None:
        shown = shown.with_columns(
            [
                pl.col(name).str.slice(0, max_text)
                for name, dtype in shown.schema.items()
                if dtype == pl.String
            ]
        )
    return tabulate(shown.rows(), headers=shown.columns, tablefmt="pipe", missingval=MISSING)


def _as_text(inner) -> pl.Expr:
    """A list element as text: records (structs, such as stale eras) as JSON objects."""
    if isinstance(inner, pl.Struct):
        return pl.element().struct.json_encode()
    return pl.element().cast(pl.String)


def thread_link() -> pl.Expr:
    """A markdown link `[owner/name#N](html_url)` to each row's thread (columns repo, number,
    html_url)."""
    return (
        pl.lit("[")
        + pl.col("repo")
        + "#"
        + pl.col("number").cast(pl.String)
        + "]("
        + pl.col("html_url").fill_null("")
        + ")"
    ).alias("thread")
