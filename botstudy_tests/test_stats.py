"""Tests for botstudy_assets.stats, checked against hand-computed numbers.

Notation in comments: po = observed agreement, pe = expected (chance) agreement,
kappa = (po - pe) / (1 - pe). For binary Krippendorff's alpha (nominal):
o_01 = sum over pairable units of n_u0 * n_u1 / (m_u - 1) (off-diagonal coincidence),
n_c = number of pairable values equal to c, n = n_0 + n_1,
alpha = 1 - D_o / D_e = 1 - (n - 1) * o_01 / (n_0 * n_1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from botstudy_assets.lib import stats as S
from botstudy_assets.lib.stats import (
    agreement_rows,
    bootstrap_ci,
    cohen_kappa,
    decisions,
    krippendorff_alpha,
    krippendorff_alpha_ci,
    landis_koch,
    percent_agreement,
)

CATS = ["bug", "ci", "docs"]


def fs(*labels: str) -> frozenset[str]:
    return frozenset(labels)


def single_category(a_bits, b_bits, cat="x"):
    """Two codings over issues ("o/r", i) with one category from 0/1 lists."""
    ca = {("o/r", i): fs(cat) if v else fs() for i, v in enumerate(a_bits)}
    cb = {("o/r", i): fs(cat) if v else fs() for i, v in enumerate(b_bits)}
    return ca, cb


def random_codings(n_issues, cats, *, n_raters=2, flip=0.1, p=0.2, seed=1, missing=0.0):
    """Correlated random codings: a latent set, each rater flips each bit w.p. `flip`."""
    rng = np.random.default_rng(seed)
    codings = {f"r{k}": {} for k in range(n_raters)}
    for i in range(n_issues):
        latent = {c for c in cats if rng.random() < p}
        for k in range(n_raters):
            if rng.random() < missing:
                continue
            codings[f"r{k}"][("o/r", i)] = frozenset(
                c for c in cats if (c in latent) ^ (rng.random() < flip)
            )
    return codings


# ---------------------------------------------------------------------------
# Cohen's kappa
# ---------------------------------------------------------------------------

# 50 items, 2x2 table (rows rater A, columns rater B):
#            B=yes  B=no
#   A=yes     20     5     -> A yes 25
#   A=no      10    15     -> A no  25
#             30    20
# po = (20 + 15) / 50 = 0.70
# pe = (25/50)(30/50) + (25/50)(20/50) = 0.30 + 0.20 = 0.50
# kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40
A50 = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
B50 = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15


def test_kappa_hand_computed_2x2():
    assert cohen_kappa(A50, B50) == pytest.approx(0.40, abs=1e-12)
    assert percent_agreement(A50, B50) == pytest.approx(0.70, abs=1e-12)
    # same table through the vectorised counts path: [n11, n10, n01, n00]
    assert S._kappa_from_counts(np.array([20, 5, 10, 15]))[()] == pytest.approx(0.40, abs=1e-12)
    assert S._agreement_from_counts(np.array([20, 5, 10, 15]))[()] == pytest.approx(0.70)


def test_kappa_bool_labels_equal_int_labels():
    a = [bool(x) for x in A50]
    b = [bool(x) for x in B50]
    assert cohen_kappa(a, b) == pytest.approx(0.40)


def test_kappa_perfect_agreement_is_one():
    assert cohen_kappa([1, 0, 1, 1, 0], [1, 0, 1, 1, 0]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "b", "c"], ["a", "b", "c"]) == pytest.approx(1.0)


def test_kappa_systematic_disagreement_negative():
    # a = 1,0,1,0 ; b = 0,1,0,1: po = 0, pe = .5*.5 + .5*.5 = .5 -> kappa = (0-.5)/.5 = -1
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1.0)
    # a = 1,1,0 ; b = 0,1,1: po = 1/3; pA(1) = pB(1) = 2/3
    # pe = (2/3)(2/3) + (1/3)(1/3) = 5/9; kappa = (3/9 - 5/9) / (4/9) = -0.5
    assert cohen_kappa([1, 1, 0], [0, 1, 1]) == pytest.approx(-0.5)


def test_kappa_three_string_labels():
    # a = x y z x ; b = x y x x: po = 3/4
    # pA: x .5, y .25, z .25 ; pB: x .75, y .25, z 0
    # pe = .5*.75 + .25*.25 + .25*0 = .4375; kappa = (.75 - .4375) / .5625 = 5/9
    assert cohen_kappa(list("xyzx"), list("xyxx")) == pytest.approx(5 / 9)


def test_kappa_degenerate_constant_identical_is_nan():
    # both raters constant with the same label: pe = 1 -> kappa = 0/0
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    assert math.isnan(cohen_kappa([0], [0]))
    assert math.isnan(S._kappa_from_counts(np.array([0, 0, 0, 7]))[()])


def test_kappa_constant_but_different_is_zero():
    # a all 1, b all 0: po = 0, pe = 1*0 + 0*1 = 0 -> kappa = 0
    assert cohen_kappa([1, 1], [0, 0]) == pytest.approx(0.0)
    assert S._kappa_from_counts(np.array([0, 2, 0, 0]))[()] == pytest.approx(0.0)


@pytest.mark.parametrize("fn", [cohen_kappa, percent_agreement])
def test_pair_metrics_validate_input(fn):
    with pytest.raises(ValueError):
        fn([1, 0], [1])
    with pytest.raises(ValueError):
        fn([], [])


def test_kappa_from_counts_matches_sklearn_on_random_data():
    rng = np.random.default_rng(42)
    for _ in range(200):
        n = int(rng.integers(2, 60))
        a = rng.integers(0, 2, n)
        b = np.where(rng.random(n) < 0.3, 1 - a, a)
        cells = S._pair_cells(a, b).sum(axis=0)
        fast = S._kappa_from_counts(cells)[()]
        if len(set(a) | set(b)) == 1:
            assert math.isnan(fast)
        else:
            assert fast == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
        assert S._agreement_from_counts(cells)[()] == pytest.approx(np.mean(a == b))


def test_kappa_from_counts_is_vectorised():
    tables = np.array([[[20, 5, 10, 15], [1, 1, 1, 1]], [[3, 1, 1, 7], [0, 0, 0, 5]]])
    out = S._kappa_from_counts(tables)
    assert out.shape == (2, 2)
    # [1,1,1,1]: po = .5, pe = .5 -> 0 ; [3,1,1,7]: po = 10/12, pe = (16+64)/144 -> 40/64
    assert out[0, 0] == pytest.approx(0.4)
    assert out[0, 1] == pytest.approx(0.0)
    assert out[1, 0] == pytest.approx(0.625)
    assert math.isnan(out[1, 1])


def test_percent_agreement():
    assert percent_agreement([1, 0, 1, 1], [1, 1, 1, 0]) == pytest.approx(0.5)
    assert percent_agreement(["a", "b", "c"], ["a", "b", "c"]) == 1.0
    assert percent_agreement([1, 1], [0, 0]) == 0.0
    assert percent_agreement([True, False, True], [1, 0, 0]) == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------
# decisions
# ---------------------------------------------------------------------------

DEC_A = {
    ("r/b", 2): fs("ci"),
    ("r/a", 10): fs("bug", "docs"),
    ("r/a", 9): fs(),
    ("r/z", 1): fs("bug"),  # only A coded it
}
DEC_B = {
    ("r/a", 9): fs("docs", "wontfix"),  # unknown category ignored
    ("r/b", 2): fs("ci", "bug"),
    ("r/a", 10): fs("bug"),
    ("r/q", 5): fs("ci"),  # only B coded it
}


def test_decisions_pooled_ordering():
    a, b, keys = decisions(DEC_A, DEC_B, CATS)
    # shared issues sorted as tuples: number compares as int (9 < 10)
    assert keys == [("r/a", 9), ("r/a", 10), ("r/b", 2)]
    # issue-major, categories in given order (bug, ci, docs)
    #        (r/a,9)   (r/a,10)  (r/b,2)
    assert a == [0, 0, 0, 1, 0, 1, 0, 1, 0]
    assert b == [0, 0, 1, 1, 0, 0, 1, 1, 0]
    # decision i <-> (keys[i // 3], CATS[i % 3])
    assert (keys[5 // 3], CATS[5 % 3]) == (("r/a", 10), "docs") and a[5] == 1 and b[5] == 0


def test_decisions_single_category_and_category_order():
    a, b, keys = decisions(DEC_A, DEC_B, CATS, "bug")
    assert keys == [("r/a", 9), ("r/a", 10), ("r/b", 2)]
    assert (a, b) == ([0, 1, 0], [0, 1, 1])
    a, b, _ = decisions(DEC_A, DEC_B, ["docs", "bug"])
    assert a == [0, 0, 1, 1, 0, 0] and b == [1, 0, 0, 1, 0, 1]


def test_decisions_errors_and_empty():
    with pytest.raises(ValueError):
        decisions(DEC_A, DEC_B, CATS, "nope")
    assert decisions({("x", 1): fs()}, {("y", 1): fs()}, CATS) == ([], [], [])


# ---------------------------------------------------------------------------
# Krippendorff's alpha
# ---------------------------------------------------------------------------

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", example A:
# two observers, ten units, binary values.
KA_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
KA_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def test_alpha_textbook_binary_example():
    # units (A,B): (0,1) (1,1) (0,1) (0,0) (0,0) (0,1) (0,0) (0,0) (1,0) (0,0)
    # m_u = 2 everywhere; each unit adds 2 ordered pairs with weight 1/(2-1).
    # o_00 = 2*5 = 10, o_11 = 2*1 = 2, o_01 = o_10 = 4 mismatching units
    # n_0 = 14, n_1 = 6, n = 20
    # alpha = 1 - (n-1) o_01 / (n_0 n_1) = 1 - 19*4/84 = 8/84 = 0.0952 (book: 0.095)
    ca, cb = single_category(KA_A, KA_B)
    codings = {"A": ca, "B": cb}
    assert krippendorff_alpha(codings, ["x"], category="x") == pytest.approx(8 / 84)
    assert krippendorff_alpha(codings, ["x"]) == pytest.approx(8 / 84)  # pooled == only category
    # Cohen's kappa on the same data: po = 6/10, pA(1) = 2/10, pB(1) = 4/10
    # pe = .2*.4 + .8*.6 = .56; kappa = (.6 - .56) / .44 = 1/11
    assert cohen_kappa(KA_A, KA_B) == pytest.approx(1 / 11)


# Three raters with missing data, one category "x" (1 = present, . = not coded)
#          i1  i2  i3  i4  i5
#   r1      1   0   1   1   .
#   r2      1   0   0   .   0
#   r3      1   .   0   .   1
MISSING = {
    "r1": {("o/r", 1): fs("x"), ("o/r", 2): fs(), ("o/r", 3): fs("x"), ("o/r", 4): fs("x")},
    "r2": {("o/r", 1): fs("x"), ("o/r", 2): fs(), ("o/r", 3): fs(), ("o/r", 5): fs()},
    "r3": {("o/r", 1): fs("x"), ("o/r", 3): fs(), ("o/r", 5): fs("x")},
}


def test_alpha_missing_data_hand_computed():
    # i1: m=3, n_u1=3           -> o_11 += 3*2/2 = 3
    # i2: m=2, n_u0=2           -> o_00 += 2*1/1 = 2
    # i3: m=3, n_u1=1, n_u0=2   -> o_01 += 1*2/2 = 1, o_00 += 2*1/2 = 1
    # i4: m=1                   -> not pairable, ignored
    # i5: m=2, n_u0=1, n_u1=1   -> o_01 += 1*1/1 = 1
    # o_01 = 2, n_0 = 0+2+2+1 = 5, n_1 = 3+0+1+1 = 5, n = 10
    # alpha = 1 - 9*2/(5*5) = 7/25 = 0.28
    assert krippendorff_alpha(MISSING, ["x"], category="x") == pytest.approx(0.28)
    # an issue coded by a single rater never changes alpha
    extra = {r: dict(c) for r, c in MISSING.items()}
    extra["r3"][("o/r", 99)] = fs()
    assert krippendorff_alpha(extra, ["x"], category="x") == pytest.approx(0.28)
    # closed form used by the bootstrap agrees
    data, keys = S._alpha_matrix(MISSING, ["x"], "x")
    assert keys == [("o/r", 1), ("o/r", 2), ("o/r", 3), ("o/r", 5)]  # i4 dropped
    totals = S._alpha_unit_stats(data).reshape(-1, 3).sum(axis=0)
    assert totals.tolist() == [5.0, 5.0, 2.0]
    assert S._alpha_from_stats(totals)[()] == pytest.approx(0.28)


def test_alpha_pooled_multilabel_hand_computed():
    # categories x, y; units = (issue, category)
    #   (1,x): r1=1 r2=1   (1,y): r1=0 r2=1   (2,x): 0 0   (2,y): 0 0
    # all m_u = 2 (weight 1): (1,x) adds o_11 = 2; (1,y) adds o_01 = o_10 = 1;
    # (2,x) and (2,y) add o_00 = 2 each -> o_00 = 4
    # n_0 = 1 + 2 + 2 = 5, n_1 = 2 + 1 = 3, n = 8
    # alpha = 1 - 7*1/(5*3) = 8/15
    codings = {
        "r1": {("o/r", 1): fs("x"), ("o/r", 2): fs()},
        "r2": {("o/r", 1): fs("x", "y"), ("o/r", 2): fs()},
    }
    assert krippendorff_alpha(codings, ["x", "y"]) == pytest.approx(8 / 15)
    # per category: x is constant 1,0 vs 1,0 -> perfect -> 1 ; y: (0,1),(0,0):
    # o_01 = 1, n_0 = 3, n_1 = 1, n = 4 -> 1 - 3*1/3 = 0
    assert krippendorff_alpha(codings, ["x", "y"], category="x") == pytest.approx(1.0)
    assert krippendorff_alpha(codings, ["x", "y"], category="y") == pytest.approx(0.0)


def test_alpha_undefined_cases_are_nan():
    both_absent = {
        "a": {("o/r", 1): fs(), ("o/r", 2): fs()},
        "b": {("o/r", 1): fs(), ("o/r", 2): fs()},
    }
    assert math.isnan(krippendorff_alpha(both_absent, ["x"]))  # no variation: D_e = 0
    assert math.isnan(krippendorff_alpha({"a": MISSING["r1"]}, ["x"]))  # one rater
    assert math.isnan(krippendorff_alpha({}, ["x"]))
    disjoint = {"a": {("o/r", 1): fs("x")}, "b": {("o/r", 2): fs()}}
    assert math.isnan(krippendorff_alpha(disjoint, ["x"]))  # nothing pairable
    with pytest.raises(ValueError):
        krippendorff_alpha(MISSING, ["x"], category="nope")


def test_alpha_closed_form_matches_package_on_random_data():
    cats = ["a", "b", "c", "d"]
    for seed in range(5):
        codings = random_codings(60, cats, n_raters=4, flip=0.2, seed=seed, missing=0.3)
        for category in [None, *cats]:
            data, _ = S._alpha_matrix(codings, cats, category)
            closed = S._alpha_from_stats(S._alpha_unit_stats(data).reshape(-1, 3).sum(axis=0))[()]
            assert closed == pytest.approx(
                krippendorff_alpha(codings, cats, category=category), abs=1e-10
            )


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------

BIG = random_codings(200, CATS, flip=0.1, seed=7)


@pytest.mark.parametrize("metric", ["cohen_kappa", "percent_agreement"])
@pytest.mark.parametrize("category", [None, "bug"])
def test_bootstrap_brackets_point_estimate(metric, category):
    a, b, _ = decisions(BIG["r0"], BIG["r1"], CATS, category)
    point = {"cohen_kappa": cohen_kappa, "percent_agreement": percent_agreement}[metric](a, b)
    lo, hi = bootstrap_ci(BIG["r0"], BIG["r1"], CATS, metric, category=category, n_boot=500)
    assert lo < point < hi
    assert hi - lo < 0.5


def test_bootstrap_deterministic_per_seed():
    args = (BIG["r0"], BIG["r1"], CATS, "cohen_kappa")
    assert bootstrap_ci(*args, seed=3, n_boot=300) == bootstrap_ci(*args, seed=3, n_boot=300)
    assert bootstrap_ci(*args, seed=3, n_boot=300) != bootstrap_ci(*args, seed=4, n_boot=300)


def test_bootstrap_level_controls_width():
    args = (BIG["r0"], BIG["r1"], CATS, "cohen_kappa")
    lo95, hi95 = bootstrap_ci(*args, level=0.95)
    lo50, hi50 = bootstrap_ci(*args, level=0.50)
    assert lo95 <= lo50 <= hi50 <= hi95
    with pytest.raises(ValueError):
        bootstrap_ci(*args, level=1.0)
    with pytest.raises(ValueError):
        bootstrap_ci(BIG["r0"], BIG["r1"], CATS, "nope")


def test_bootstrap_fast_path_equals_generic_callable():
    # same resamples; the generic path calls sklearn on each resample's decisions
    a, b = BIG["r0"], BIG["r1"]
    fast = bootstrap_ci(a, b, CATS, "cohen_kappa", n_boot=200, seed=5)
    by_fn = bootstrap_ci(a, b, CATS, cohen_kappa, n_boot=200, seed=5)
    generic = bootstrap_ci(a, b, CATS, lambda x, y: cohen_kappa(x, y), n_boot=200, seed=5)
    assert fast == by_fn
    assert generic == pytest.approx(fast, abs=1e-12)
    generic_pa = bootstrap_ci(a, b, CATS, lambda x, y: percent_agreement(x, y), n_boot=200, seed=5)
    assert generic_pa == pytest.approx(
        bootstrap_ci(a, b, CATS, "percent_agreement", n_boot=200, seed=5)
    )


def test_bootstrap_undefined_cases():
    # fewer than 2 shared issues
    one = {("o/r", 1): fs("bug")}
    assert all(math.isnan(x) for x in bootstrap_ci(one, one, CATS, "cohen_kappa"))
    assert all(math.isnan(x) for x in bootstrap_ci({}, {}, CATS, "percent_agreement"))
    # every resample undefined: both raters constant & identical on "bug"
    same = {("o/r", i): fs("bug") for i in range(5)}
    assert all(math.isnan(x) for x in bootstrap_ci(same, same, CATS, "cohen_kappa", category="bug"))
    # ...but percent agreement is defined (=1) there
    assert bootstrap_ci(same, same, CATS, "percent_agreement", category="bug") == (1.0, 1.0)


def test_bootstrap_skips_nan_resamples():
    # two issues, both raters agree: i1 {x}, i2 {}. Resamples {i1,i1} / {i2,i2} are
    # constant -> kappa nan (skipped); {i1,i2} -> kappa 1. So the CI is exactly (1, 1).
    c = {("o/r", 1): fs("x"), ("o/r", 2): fs()}
    assert bootstrap_ci(c, c, ["x"], "cohen_kappa", n_boot=200) == (1.0, 1.0)


def test_bootstrap_resamples_issues_not_decisions():
    # Each resample holds whole issues, so pooled decision count is n_issues * n_cats
    counts = S._resample_counts(7, 50, seed=0)
    assert counts.shape == (50, 7)
    assert (counts.sum(axis=1) == 7).all()
    # with a callable metric we can observe the resampled decision vectors
    seen = []

    def spy(a, b):
        seen.append(len(a))
        return percent_agreement(a, b)

    bootstrap_ci(BIG["r0"], BIG["r1"], CATS, spy, n_boot=20)
    assert seen == [200 * len(CATS)] * 20


def test_bootstrap_from_summed_counts_equals_recomputing_each_resample():
    """500 issues, 9 categories: the vectorised path (kappa from each resample's summed 2x2
    counts) gives the CI that recomputing kappa on every resample's decisions gives. (Its speed
    is measured by the pipeline benchmark's agreement_metrics stage, not asserted here.)"""
    cats = [f"c{i}" for i in range(9)]
    codings = random_codings(500, cats, seed=3)
    args = (codings["r0"], codings["r1"], cats)
    fast = bootstrap_ci(*args, "cohen_kappa", n_boot=300)
    slow = bootstrap_ci(*args, lambda a, b: cohen_kappa(a, b), n_boot=300)
    assert fast[0] < fast[1]
    assert fast == pytest.approx(slow, abs=1e-12)


def test_alpha_bootstrap_ci():
    codings = random_codings(150, CATS, n_raters=3, flip=0.1, seed=11, missing=0.2)
    for category in [None, "ci"]:
        point = krippendorff_alpha(codings, CATS, category=category)
        lo, hi = krippendorff_alpha_ci(codings, CATS, category=category, n_boot=500)
        assert lo < point < hi
        assert (lo, hi) == krippendorff_alpha_ci(codings, CATS, category=category, n_boot=500)
    assert all(math.isnan(x) for x in krippendorff_alpha_ci({"a": BIG["r0"]}, CATS))


# ---------------------------------------------------------------------------
# Landis & Koch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kappa, label",
    [
        (-1.0, "poor"),
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.20, "slight"),
        (0.1 + 0.1, "slight"),
        (0.21, "fair"),
        (0.40, "fair"),
        (0.41, "moderate"),
        (0.60, "moderate"),
        (0.61, "substantial"),
        (0.80, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
        (float("nan"), "undefined"),
        (None, "undefined"),
    ],
)
def test_landis_koch(kappa, label):
    assert landis_koch(kappa) == label


# ---------------------------------------------------------------------------
# agreement_rows
# ---------------------------------------------------------------------------

# alice: 1 2 3 4 5 7 ; bob: 1 2 3 4 6 ; carol: 5 7   (bob & carol share nothing)
THREE = {
    "carol": {("o/r", 5): fs("ci"), ("o/r", 7): fs("bug")},
    "bob": {
        ("o/r", 1): fs("bug"),
        ("o/r", 2): fs("ci", "docs"),
        ("o/r", 3): fs(),
        ("o/r", 4): fs("bug"),
        ("o/r", 6): fs("docs"),
    },
    "alice": {
        ("o/r", 1): fs("bug"),
        ("o/r", 2): fs("ci"),
        ("o/r", 3): fs(),
        ("o/r", 4): fs("bug", "docs"),
        ("o/r", 5): fs("ci"),
        ("o/r", 7): fs("bug"),
    },
}
ROW_KEYS = {
    "rater_a",
    "rater_b",
    "category",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "n_decisions",
    "interpretation",
}


def _index(rows):
    return {(r["rater_a"], r["rater_b"], r["category"], r["metric"]): r for r in rows}


def test_agreement_rows_shape_and_keys():
    rows = agreement_rows(THREE, CATS, n_boot=200)
    # pairs with shared issues: (alice, bob), (alice, carol); (bob, carol) -> no rows
    # 2 pairs * (3 categories + pooled) * 2 metrics + (3 + pooled) alpha rows = 20
    assert len(rows) == 20
    assert all(set(r) == ROW_KEYS for r in rows)
    pairs = {(r["rater_a"], r["rater_b"]) for r in rows}
    assert pairs == {("alice", "bob"), ("alice", "carol"), ("all", "all")}
    assert all(r["rater_a"] < r["rater_b"] for r in rows if r["rater_a"] != "all")
    assert [r["category"] for r in rows[:8]] == [
        "bug",
        "bug",
        "ci",
        "ci",
        "docs",
        "docs",
        None,
        None,
    ]
    assert {r["metric"] for r in rows} == {"cohen_kappa", "percent_agreement", "krippendorff_alpha"}
    for r in rows:
        # kappa reads on Landis & Koch's scale, alpha on Krippendorff's; a percentage has none
        assert (r["interpretation"] is None) == (r["metric"] == "percent_agreement")
        assert r["value"] is None or isinstance(r["value"], float)


def test_agreement_rows_values_hand_computed():
    idx = _index(agreement_rows(THREE, CATS, n_boot=200))
    # alice vs bob over issues 1-4, pooled decisions (bug, ci, docs):
    #   i1 a 100 b 100 | i2 a 010 b 011 | i3 a 000 b 000 | i4 a 101 b 100
    #   n11 = 3, n10 = 1 (i4 docs), n01 = 1 (i2 docs), n00 = 7; 12 decisions
    #   po = 10/12, pA(1) = pB(1) = 4/12, pe = (16 + 64)/144 = 80/144
    #   kappa = (120 - 80) / (144 - 80) = 40/64 = 0.625 -> substantial
    r = idx[("alice", "bob", None, "cohen_kappa")]
    assert r["value"] == pytest.approx(0.625)
    assert r["interpretation"] == "substantial"
    assert (r["n"], r["n_decisions"]) == (4, 12)
    assert idx[("alice", "bob", None, "percent_agreement")]["value"] == pytest.approx(10 / 12)
    # docs: a 0001, b 0100: po = 2/4, pA = pB = 1/4, pe = 1/16 + 9/16 = 10/16
    #   kappa = (8/16 - 10/16) / (6/16) = -1/3 -> poor
    r = idx[("alice", "bob", "docs", "cohen_kappa")]
    assert r["value"] == pytest.approx(-1 / 3)
    assert r["interpretation"] == "poor"
    assert (r["n"], r["n_decisions"]) == (4, 4)
    assert idx[("alice", "bob", "bug", "cohen_kappa")]["value"] == pytest.approx(1.0)
    # alice vs carol (issues 5, 7): docs never used -> kappa undefined -> None
    r = idx[("alice", "carol", "docs", "cohen_kappa")]
    assert r["value"] is None and r["ci_low"] is None and r["ci_high"] is None
    assert r["interpretation"] == "undefined"
    r = idx[("alice", "carol", "docs", "percent_agreement")]
    assert r["value"] == 1.0 and r["interpretation"] is None
    assert idx[("alice", "carol", None, "cohen_kappa")]["n_decisions"] == 6
    # alpha over issues coded by >= 2 raters: 1 2 3 4 (alice, bob), 5 7 (alice, carol): n = 6
    # docs units: (0,0) (0,1) (0,0) (1,0) (0,0) (0,0): o_01 = 2, n_0 = 10, n_1 = 2, n = 12
    #   alpha = 1 - 11*2/(10*2) = -0.1
    # pooled: 18 units, same 2 mismatching units -> o_01 = 2
    #   n_1 = bug(i1,i4,i7: 6) + ci(i2,i5: 4) + docs(2) = 12, n_0 = 36 - 12 = 24
    #   alpha = 1 - 35*2/(24*12) = 218/288
    r = idx[("all", "all", "docs", "krippendorff_alpha")]
    assert r["value"] == pytest.approx(-0.1)
    assert (r["n"], r["n_decisions"], r["interpretation"]) == (6, 6, "unreliable")
    r = idx[("all", "all", None, "krippendorff_alpha")]
    assert r["value"] == pytest.approx(218 / 288)
    assert (r["n"], r["n_decisions"]) == (6, 18)
    assert r["interpretation"] == "tentative conclusions only"  # .667 <= 0.757 < .800
    assert idx[("all", "all", "bug", "krippendorff_alpha")]["value"] == pytest.approx(1.0)


def test_agreement_rows_ci_reuses_bootstrap_and_is_deterministic():
    codings = random_codings(80, CATS, n_raters=3, flip=0.15, seed=2, missing=0.1)
    rows = agreement_rows(codings, CATS, n_boot=300, seed=9)
    assert rows == agreement_rows(codings, CATS, n_boot=300, seed=9)
    assert rows != agreement_rows(codings, CATS, n_boot=300, seed=10)
    idx = _index(rows)
    for category in [None, "ci"]:
        for metric in ["cohen_kappa", "percent_agreement"]:
            r = idx[("r0", "r2", category, metric)]
            ci = bootstrap_ci(
                codings["r0"], codings["r2"], CATS, metric, category=category, n_boot=300, seed=9
            )
            assert (r["ci_low"], r["ci_high"]) == pytest.approx(ci)
            assert r["ci_low"] <= r["value"] <= r["ci_high"]
        r = idx[("all", "all", category, "krippendorff_alpha")]
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(
            krippendorff_alpha_ci(codings, CATS, category=category, n_boot=300, seed=9)
        )
        assert r["value"] == pytest.approx(krippendorff_alpha(codings, CATS, category=category))


def test_agreement_rows_edge_cases():
    assert agreement_rows({}, CATS) == []
    assert agreement_rows({"solo": THREE["alice"]}, CATS) == []  # no pair, no alpha
    disjoint = {"a": {("o/r", 1): fs("bug")}, "b": {("o/r", 2): fs()}}
    assert agreement_rows(disjoint, CATS) == []
    # a single shared issue: rows exist but every CI is None
    one = {"a": {("o/r", 1): fs("bug")}, "b": {("o/r", 1): fs("bug", "ci")}}
    rows = agreement_rows(one, CATS, n_boot=50)
    assert len(rows) == 4 * 2 + 4
    assert all(r["ci_low"] is None and r["ci_high"] is None for r in rows)
    assert all(r["n"] == 1 for r in rows)
