"""Inter-rater agreement statistics for multi-label issue codings.

Pure Python/numpy; no Dagster or DuckDB. A rater's *coding* maps an issue key
``(repo, number)`` to the frozenset of category names the rater assigned (an empty
set means "coded, no category"). An issue absent from a coding was not coded by
that rater (missing data). Category names outside ``categories`` are ignored.

Binary decision per (issue, category): 1 if the category is in the rater's set.
"Pooled" statistics treat every (issue, category) pair as one unit.

Undefined statistics are ``float('nan')`` (e.g. kappa when expected agreement is 1,
alpha when every pairable value is identical); :func:`agreement_rows` turns nan
into ``None``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

import krippendorff
import numpy as np

IssueKey = tuple[str, int]
Coding = Mapping[IssueKey, frozenset[str]]
Label = bool | int | str
Metric = str | Callable[[Sequence[int], Sequence[int]], float]

__all__ = [
    "Coding",
    "IssueKey",
    "agreement_rows",
    "bootstrap_ci",
    "cohen_kappa",
    "decisions",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "landis_koch",
    "percent_agreement",
]

NAN = float("nan")


# ---------------------------------------------------------------------------
# Two-rater point estimates
# ---------------------------------------------------------------------------


def _check_pair(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"rater sequences differ in length: {len(a)} != {len(b)}")
    if len(a) == 0:
        raise ValueError("rater sequences are empty")


def cohen_kappa(a: Sequence[Label], b: Sequence[Label]) -> float:
    """Cohen's kappa of two raters' nominal decisions on the same items.

    Returns nan when expected agreement is 1 (both raters gave one and the same
    label to every item): kappa = (po - pe) / (1 - pe) is 0/0 there.
    Raises ValueError on different lengths or empty input.
    """
    # Imported here: scikit-learn takes ~3 s to import, and every process that loads the code
    # location (each run, step process and worker) imports this module.
    from sklearn.metrics import cohen_kappa_score

    _check_pair(a, b)
    labels = set(a) | set(b)
    if len(labels) == 1:
        return NAN
    return float(cohen_kappa_score(list(a), list(b)))


def percent_agreement(a: Sequence[Label], b: Sequence[Label]) -> float:
    """Share of items (in [0, 1]) on which both raters gave the same label."""
    _check_pair(a, b)
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------


def _check_category(categories: Sequence[str], category: str | None) -> list[str]:
    cats = list(categories)
    if category is None:
        return cats
    if category not in cats:
        raise ValueError(f"unknown category {category!r}")
    return [category]


def _decision_matrix(coding: Coding, keys: Sequence[IssueKey], cats: Sequence[str]) -> np.ndarray:
    """(len(keys), len(cats)) int array of 0/1 decisions."""
    out = np.zeros((len(keys), len(cats)), dtype=np.int64)
    for i, key in enumerate(keys):
        labels = coding[key]
        for j, cat in enumerate(cats):
            out[i, j] = cat in labels
    return out


def decisions(
    coding_a: Coding,
    coding_b: Coding,
    categories: Sequence[str],
    category: str | None = None,
) -> tuple[list[int], list[int], list[IssueKey]]:
    """Binary decisions of two raters over the issues both coded.

    Returns ``(a, b, keys)`` where ``keys`` are the shared issue keys, sorted.
    With a ``category``, ``a[i]``/``b[i]`` belong to ``keys[i]``. Pooled
    (``category=None``): issue-major, categories in the given order, so decision
    ``i`` is for ``(keys[i // len(categories)], categories[i % len(categories)])``.
    """
    cats = _check_category(categories, category)
    keys = sorted(set(coding_a) & set(coding_b))
    a = _decision_matrix(coding_a, keys, cats).ravel().tolist()
    b = _decision_matrix(coding_b, keys, cats).ravel().tolist()
    return a, b, keys


# ---------------------------------------------------------------------------
# Sufficient statistics (summable over issues) and statistics computed from them
# ---------------------------------------------------------------------------


def _pair_cells(da: np.ndarray, db: np.ndarray) -> np.ndarray:
    """Per-(issue, category) one-hot confusion cells [n11, n10, n01, n00]."""
    return np.stack([da & db, da & (1 - db), (1 - da) & db, (1 - da) & (1 - db)], axis=-1).astype(
        np.float64
    )


def _kappa_from_counts(cells: np.ndarray) -> np.ndarray:
    """Cohen's kappa from summed 2x2 counts [..., (n11, n10, n01, n00)]; nan if pe == 1.

    kappa = (N*agree - E) / (N^2 - E) with E = a1*b1 + a0*b0 (= N^2 * pe);
    exact in float64 for integer counts.
    """
    n11, n10, n01, n00 = np.moveaxis(np.asarray(cells, dtype=np.float64), -1, 0)
    n = n11 + n10 + n01 + n00
    expected = (n11 + n10) * (n11 + n01) + (n01 + n00) * (n10 + n00)
    num = n * (n11 + n00) - expected
    den = n * n - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _agreement_from_counts(cells: np.ndarray) -> np.ndarray:
    """Percent agreement from summed 2x2 counts [..., (n11, n10, n01, n00)]."""
    c = np.asarray(cells, dtype=np.float64)
    n = c.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, (c[..., 0] + c[..., 3]) / np.where(n > 0, n, 1.0), np.nan)


def _alpha_unit_stats(values: np.ndarray) -> np.ndarray:
    """Per-unit binary-alpha sufficient stats [n0, n1, d] from a (raters, ...) array.

    ``values`` holds 0/1 with nan for missing. Only pairable units (>= 2 values)
    count; ``d = n_u0 * n_u1 / (m_u - 1)`` is the unit's off-diagonal coincidence o_01.
    """
    present = ~np.isnan(values)
    n1 = np.where(present, values, 0.0).sum(axis=0)
    m = present.sum(axis=0).astype(np.float64)
    n0 = m - n1
    pairable = m >= 2
    d = np.where(pairable, n0 * n1 / np.where(pairable, m - 1, 1.0), 0.0)
    return np.stack([np.where(pairable, n0, 0.0), np.where(pairable, n1, 0.0), d], axis=-1)


def _alpha_from_stats(stats: np.ndarray) -> np.ndarray:
    """Nominal Krippendorff's alpha for binary values from summed [n0, n1, o_01].

    alpha = 1 - D_o/D_e = 1 - (n - 1) * o_01 / (n0 * n1); nan when n0 * n1 == 0.
    """
    n0, n1, d = np.moveaxis(np.asarray(stats, dtype=np.float64), -1, 0)
    den = n0 * n1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 1.0 - (n0 + n1 - 1.0) * d / np.where(den > 0, den, 1.0), np.nan)


_FAST_PAIR_METRICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cohen_kappa": _kappa_from_counts,
    "percent_agreement": _agreement_from_counts,
}


# ---------------------------------------------------------------------------
# Bootstrap machinery
# ---------------------------------------------------------------------------


def _resample_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) multiplicities of each item in each with-replacement resample."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    flat = (np.arange(n_boot)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")


def _percentile(values: np.ndarray, level: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return NAN, NAN
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [tail, 1.0 - tail])
    return float(lo), float(hi)


def _bootstrap_stats(
    stats: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    n_boot: int,
    seed: int,
    level: float,
    cache: dict | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap over rows (issues) of summable per-issue stats.

    ``stats`` is (n_issues, k); each resample's statistic is ``statistic`` of the
    multiplicity-weighted column sums. nan statistics are skipped. ``cache``
    (optional dict) reuses the resample weights across calls with the same n.
    """
    _check_level(level)
    n = stats.shape[0]
    if n < 2 or n_boot < 1:
        return NAN, NAN
    cache = {} if cache is None else cache
    key = (n, n_boot, seed)
    if key not in cache:
        cache[key] = _resample_counts(n, n_boot, seed).astype(np.float64)
    weights = cache[key]
    return _percentile(statistic(weights @ stats), level)


def bootstrap_ci(
    coding_a: Coding,
    coding_b: Coding,
    categories: Sequence[str],
    metric: Metric,
    *,
    category: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of a two-rater metric, resampling shared ISSUES.

    ``metric`` is "cohen_kappa", "percent_agreement" (or those functions), which
    take a vectorised path from confusion counts, or any ``f(a, b) -> float`` on
    the (pooled) decisions of the resampled issues. Resamples with a nan metric
    are skipped; returns (nan, nan) with fewer than 2 shared issues or when every
    resample is undefined.
    """
    cats = _check_category(categories, category)
    keys = sorted(set(coding_a) & set(coding_b))
    da = _decision_matrix(coding_a, keys, cats)
    db = _decision_matrix(coding_b, keys, cats)
    if isinstance(metric, str):
        if metric not in _FAST_PAIR_METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        fast = _FAST_PAIR_METRICS[metric]
    else:
        fast = {cohen_kappa: _kappa_from_counts, percent_agreement: _agreement_from_counts}.get(
            metric
        )
    if fast is not None:
        per_issue = _pair_cells(da, db).sum(axis=1)  # (n_issues, 4)
        return _bootstrap_stats(per_issue, fast, n_boot=n_boot, seed=seed, level=level)
    # Generic (slow) path: same resamples, metric called on concatenated decisions.
    _check_level(level)
    if len(keys) < 2 or n_boot < 1:
        return NAN, NAN
    counts = _resample_counts(len(keys), n_boot, seed)
    assert callable(metric)  # a metric named by a string always has a fast path
    values = []
    for row in counts:
        idx = np.repeat(np.arange(len(keys)), row)
        values.append(metric(da[idx].ravel().tolist(), db[idx].ravel().tolist()))
    return _percentile(np.array(values, dtype=np.float64), level)


# ---------------------------------------------------------------------------
# Krippendorff's alpha (all raters)
# ---------------------------------------------------------------------------


def _alpha_matrix(
    codings: Mapping[str, Coding], categories: Sequence[str], category: str | None
) -> tuple[np.ndarray, list[IssueKey]]:
    """(raters, issues, cats) 0/1/nan array over issues coded by >= 2 raters."""
    cats = _check_category(categories, category)
    raters = sorted(codings)
    seen: dict[IssueKey, int] = {}
    for r in raters:
        for key in codings[r]:
            seen[key] = seen.get(key, 0) + 1
    keys = sorted(k for k, c in seen.items() if c >= 2)
    data = np.full((len(raters), len(keys), len(cats)), np.nan)
    for i, r in enumerate(raters):
        coding = codings[r]
        for j, key in enumerate(keys):
            if key in coding:
                labels = coding[key]
                data[i, j] = [cat in labels for cat in cats]
    return data, keys


def krippendorff_alpha(
    codings: Mapping[str, Coding],
    categories: Sequence[str],
    *,
    category: str | None = None,
) -> float:
    """Nominal Krippendorff's alpha across all raters (uncoded issues = missing).

    Pooled (``category=None``): each (issue, category) pair is a unit with a
    present/absent value; otherwise the units are the issues. nan when undefined
    (fewer than 2 raters, no issue coded by 2 raters, or no variation in values).
    """
    data, keys = _alpha_matrix(codings, categories, category)
    if data.shape[0] < 2 or not keys:
        return NAN
    totals = _alpha_unit_stats(data).reshape(-1, 3).sum(axis=0)
    if totals[0] * totals[1] == 0:
        return NAN
    reliability = data.reshape(data.shape[0], -1)
    return float(
        krippendorff.alpha(
            reliability_data=reliability, value_domain=[0.0, 1.0], level_of_measurement="nominal"
        )
    )


def krippendorff_alpha_ci(
    codings: Mapping[str, Coding],
    categories: Sequence[str],
    *,
    category: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of :func:`krippendorff_alpha`, resampling the
    issues coded by >= 2 raters (same machinery and nan rules as :func:`bootstrap_ci`)."""
    data, _keys = _alpha_matrix(codings, categories, category)
    if data.shape[0] < 2:
        return NAN, NAN
    per_issue = _alpha_unit_stats(data).sum(axis=1)  # (n_issues, 3)
    return _bootstrap_stats(per_issue, _alpha_from_stats, n_boot=n_boot, seed=seed, level=level)


# ---------------------------------------------------------------------------
# Interpretation and table rows
# ---------------------------------------------------------------------------


def landis_koch(kappa: float | None) -> str:
    """Landis & Koch (1977) label: <0 poor, <=.20 slight, <=.40 fair, <=.60 moderate,
    <=.80 substantial, else almost perfect; "undefined" for nan/None.

    kappa is rounded to 10 decimals first so float noise (0.2000000001) stays on
    the intended side of a boundary.
    """
    if kappa is None or math.isnan(kappa):
        return "undefined"
    k = round(float(kappa), 10)
    if k < 0:
        return "poor"
    for upper, label in (
        (0.20, "slight"),
        (0.40, "fair"),
        (0.60, "moderate"),
        (0.80, "substantial"),
    ):
        if k <= upper:
            return label
    return "almost perfect"


def krippendorff_reading(alpha: float | None) -> str:
    """Krippendorff's (2004, p. 241) reading of α: >= .800 "reliable", >= .667 "tentative
    conclusions only", else "unreliable"; "undefined" for nan/None (rounded like landis_koch)."""
    if alpha is None or math.isnan(alpha):
        return "undefined"
    a = round(float(alpha), 10)
    if a >= 0.800:
        return "reliable"
    if a >= 0.667:
        return "tentative conclusions only"
    return "unreliable"


def _none_if_nan(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _row(
    rater_a: str,
    rater_b: str,
    category: str | None,
    metric: str,
    value: float,
    ci: tuple[float, float],
    n: int,
    n_decisions: int,
    interpretation: str | None,
) -> dict:
    return {
        "rater_a": rater_a,
        "rater_b": rater_b,
        "category": category,
        "metric": metric,
        "value": _none_if_nan(value),
        "ci_low": _none_if_nan(ci[0]),
        "ci_high": _none_if_nan(ci[1]),
        "n": n,
        "n_decisions": n_decisions,
        "interpretation": interpretation,
    }


def agreement_rows(
    codings: Mapping[str, Mapping[IssueKey, frozenset[str]]],
    categories: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict]:
    """Rows of the ``agreement_metrics`` table.

    Per unordered rater pair (rater_a < rater_b) with >= 1 shared issue: for each
    category (given order) then pooled (category None), metrics "cohen_kappa" and
    "percent_agreement". With >= 2 raters and >= 1 issue coded by two raters, also
    "krippendorff_alpha" rows (rater_a = rater_b = "all") per category then pooled.
    Keys: rater_a, rater_b, category, metric, value, ci_low, ci_high (95 %
    percentile bootstrap over issues), n (issues), n_decisions (n * #categories
    for pooled rows, n otherwise), interpretation (Landis-Koch for kappa,
    Krippendorff's for alpha, else None). nan values/bounds become None.
    Deterministic for a given seed.
    """
    cats = list(categories)
    scopes: list[str | None] = [*cats, None]
    rows: list[dict] = []
    cache: dict = {}  # resamples depend only on (n, n_boot, seed): compute once
    for rater_a, rater_b in itertools.combinations(sorted(codings), 2):
        coding_a, coding_b = codings[rater_a], codings[rater_b]
        keys = sorted(set(coding_a) & set(coding_b))
        if not keys:
            continue
        da = _decision_matrix(coding_a, keys, cats)
        db = _decision_matrix(coding_b, keys, cats)
        cells = _pair_cells(da, db)  # (n_issues, n_cats, 4)
        for j, scope in enumerate(scopes):
            # same decisions (and order) as decisions(coding_a, coding_b, cats, scope)
            if scope is None:
                a, b, per_issue = da.ravel().tolist(), db.ravel().tolist(), cells.sum(axis=1)
            else:
                a, b, per_issue = da[:, j].tolist(), db[:, j].tolist(), cells[:, j, :]
            n_dec = len(a)
            for metric, point in (
                ("cohen_kappa", cohen_kappa),
                ("percent_agreement", percent_agreement),
            ):
                value = point(a, b)
                ci = _bootstrap_stats(
                    per_issue,
                    _FAST_PAIR_METRICS[metric],
                    n_boot=n_boot,
                    seed=seed,
                    level=0.95,
                    cache=cache,
                )
                interp = landis_koch(value) if metric == "cohen_kappa" else None
                rows.append(
                    _row(rater_a, rater_b, scope, metric, value, ci, len(keys), n_dec, interp)
                )

    if len(codings) >= 2:
        data, keys = _alpha_matrix(codings, cats, None)
        if keys:
            unit_stats = _alpha_unit_stats(data)  # (n_issues, n_cats, 3)
            for j, scope in enumerate(scopes):
                per_issue = unit_stats.sum(axis=1) if scope is None else unit_stats[:, j, :]
                value = krippendorff_alpha(codings, cats, category=scope)
                ci = _bootstrap_stats(
                    per_issue, _alpha_from_stats, n_boot=n_boot, seed=seed, level=0.95, cache=cache
                )
                n_dec = len(keys) * (len(cats) if scope is None else 1)
                reading = krippendorff_reading(value)
                rows.append(
                    _row(
                        "all",
                        "all",
                        scope,
                        "krippendorff_alpha",
                        value,
                        ci,
                        len(keys),
                        n_dec,
                        reading,
                    )
                )
    return rows
