"""Coding: the codebook, the automatic coder, rater files, settling final labels."""

import pytest

from botstudy_assets.lib.coding import code_post, settle
from botstudy_assets.lib.endpoints import ISSUES
from botstudy_assets.lib.labelfiles import LabelFileError, StudyScope, read_label_csv, read_raters
from botstudy_assets.lib.lake import Lake
from botstudy_assets.lib.parsing import issue_row
from botstudy_assets.lib.raw_store import RawStore, Target
from botstudy_assets.lib.reference_data import (
    CATEGORIES,
    ReferenceFileError,
    load_codebook,
    load_registry,
)
from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_assets.lib.stats import cohen_kappa
from botstudy_assets.lib.storage import Warehouse
from botstudy_tests.harness import materialize

REGISTRY = load_registry(PROJECT_ROOT / "data" / "bot_registry.yaml")
CODEBOOK = load_codebook(PROJECT_ROOT / "data" / "codebook.yaml", REGISTRY)
KNOWN = StudyScope(frozenset(("a/b", n) for n in range(1, 10)), frozenset({"a/b"}))


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Nagging Assignee @x: It has been 14 days with no activity and this issue has an "
            "assignee. "
            "Please update the label and/or status accordingly.",
            {"stale"},
        ),
        ("Are you satisfied with the resolution of your issue? Yes No", {"feedback"}),
        (
            "@alice has imported this pull request. If you are a Facebook employee, you can view "
            "this diff "
            "on Phabricator.",
            {"commit_mapping"},
        ),
        (
            "Thanks for your pull request. It looks like this may be your first contribution to a "
            "Google "
            "open source project. Before we can look at your pull request, you'll need to sign a "
            "Contributor License Agreement (CLA).",
            {"license"},
        ),
        (
            "@x, thanks for your PR! By analyzing the history of the files in this pull request, "
            "we "
            "identified @a, @b and @c to be potential reviewers.",
            {"mention"},
        ),
        (
            "Thank you for your post. We noticed you have not filled out the following field in "
            "the issue "
            "template. Could you update them if they are relevant in your case, or leave them as "
            "N/A?",
            {"onboarding"},
        ),
        (
            "This issue has been automatically marked as stale because it has not had recent "
            "activity. "
            "It will be closed if no further activity occurs.",
            {"stale"},
        ),
        ("I fixed the typo, thanks for the review!", set()),
    ],
)
def test_codebook_codes_real_bot_templates(text, expected):
    assert set(code_post(text, CODEBOOK)) == expected


def test_codebook_schema_errors_name_the_entry(tmp_path):
    broken = tmp_path / "codebook.yaml"
    broken.write_text(
        (PROJECT_ROOT / "data" / "codebook.yaml")
        .read_text()
        .replace("name: stale", "name: stail", 1),
        encoding="utf-8",
    )
    with pytest.raises(ReferenceFileError, match=r"missing \['stale'\].*unknown \['stail'\]"):
        load_codebook(broken)
    broken.write_text("version: 1\ncategories: [\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match="not valid YAML"):
        load_codebook(broken)


def test_registry_schema_errors_name_the_entry(tmp_path):
    broken = tmp_path / "bot_registry.yaml"
    broken.write_text("version: 1\nentries:\n  - name: x\n    kind: robot\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=r"entries\[0\] \(name=x\)\.kind"):
        load_registry(broken)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_rater_file_accepts_bom_and_multi_label(tmp_path):
    path = _write(
        tmp_path / "ann.csv", "\ufeffrepo,number,categories\na/b,1,stale;feedback\na/b,2,\n"
    )
    assert read_label_csv(path, KNOWN) == {
        ("a/b", 1): frozenset({"stale", "feedback"}),
        ("a/b", 2): frozenset(),
    }


def test_rater_file_problems_are_reported_row_by_row(tmp_path):
    path = _write(
        tmp_path / "ann.csv",
        "repo,number,categories\n"
        "a/b,1,stale\n"
        "a/b,2,stail\n"
        "a/b,99,stale\n"
        "a/b,1,stale\n"
        "a/b,x,stale\n",
    )
    with pytest.raises(LabelFileError) as error:
        read_label_csv(path, KNOWN)
    message = str(error.value)
    assert str(path) in message
    assert "line 3: unknown category stail" in message
    assert "line 4: a/b#99 is not an issue" in message
    assert "line 5: a/b#1 appears again (duplicate row)" in message
    assert "line 6: number 'x'" in message


@pytest.mark.parametrize("delimiter, name", [(";", "semicolons"), ("\t", "tabs")])
def test_rater_file_with_wrong_delimiter_says_so(tmp_path, delimiter, name):
    header = delimiter.join(["repo", "number", "categories"])
    path = _write(tmp_path / "ann.csv", f"{header}\na/b{delimiter}1{delimiter}stale\n")
    with pytest.raises(LabelFileError) as error:
        read_label_csv(path, KNOWN)
    assert str(error.value) == (
        f"{path}: line 1: header {header!r} must name the columns repo,number,categories "
        f"(the header is separated by {name}; use commas)"
    )


def test_adjudication_that_contradicts_itself_is_refused(tmp_path):
    path = _write(
        tmp_path / "adjudication.csv", "repo,number,categories\na/b,1,stale\na/b,1,feedback\n"
    )
    with pytest.raises(LabelFileError, match="different categories \\(contradiction\\)"):
        read_label_csv(path, KNOWN)


def test_rater_named_auto_is_refused(tmp_path):
    (tmp_path / "coding").mkdir()
    _write(tmp_path / "coding" / "auto.csv", "repo,number,categories\n")
    with pytest.raises(LabelFileError, match="reserved"):
        read_raters(tmp_path, KNOWN)


def test_rows_outside_the_study_are_skipped_with_a_note(tmp_path):
    path = _write(
        tmp_path / "ann.csv", "repo,number,categories\na/b,1,stale\nc/d,4,stale\na/b,77,mention\n"
    )
    snapshot = StudyScope(KNOWN.known, KNOWN.repos, snapshot=True)
    skipped: list[str] = []
    assert read_label_csv(path, snapshot, skipped) == {("a/b", 1): frozenset({"stale"})}
    assert skipped == [
        "ann.csv: line 3: c/d#4 skipped (c/d is not among BOTSTUDY_REPOS)",
        "ann.csv: line 4: a/b#77 skipped (not in the BOTSTUDY_UNTIL snapshot)",
    ]
    with pytest.raises(LabelFileError, match="a/b#77 is not an issue"):
        read_label_csv(path, KNOWN, [])  # without a snapshot, a missing issue is an error


def test_settle_prefers_adjudication_then_majority_then_auto():
    key = ("a/b", 1)
    humans = {"ann": {key: frozenset({"stale", "feedback"})}, "bob": {key: frozenset({"stale"})}}
    assert settle(key, {key: frozenset({"license"})}, humans, frozenset()) == (
        frozenset({"license"}),
        "adjudication",
    )
    assert settle(key, {}, humans, frozenset({"feedback"})) == (
        frozenset({"stale", "feedback"}),
        "raters+auto",
    )
    assert settle(key, {}, humans, frozenset()) == (frozenset({"stale"}), "raters+auto")
    assert settle(
        key,
        {},
        {"ann": {key: frozenset({"mention"})}, "bob": {key: frozenset({"mention"})}},
        frozenset(),
    ) == (frozenset({"mention"}), "raters")
    assert settle(key, {}, {}, frozenset({"stale"})) == (frozenset({"stale"}), "auto")


KAPPA_FLOOR = 0.75


def test_auto_coder_agrees_with_the_dev_set_experts(devset_run):
    """Pooled Cohen's kappa of rater `auto` against the dev set's hand labels, over the
    bot-related threads and all nine categories."""
    run, truth = devset_run
    auto: dict = {}
    for repo, number, category in run.sql(
        "SELECT repo, number, category FROM coded_labels WHERE rater = 'auto'"
    ):
        auto.setdefault((repo, number), set()).add(category)
    relevant = sorted(key for key, labels in truth.items() if labels["bot_related"])
    expert = [int(c in truth[key]["categories"]) for key in relevant for c in CATEGORIES]
    coder = [int(c in auto.get(key, set())) for key in relevant for c in CATEGORIES]
    kappa = cohen_kappa(expert, coder)
    print(f"\npooled kappa auto vs dev-set experts: {kappa:.3f} over {len(relevant)} threads")
    assert kappa >= KAPPA_FLOOR


def test_auto_labels_carry_their_evidence(devset_run):
    run, _ = devset_run
    missing = run.sql(
        "SELECT count(*) FROM coded_labels WHERE rater = 'auto' AND "
        "(rule IS NULL OR evidence IS NULL OR post_location IS NULL)"
    )[0][0]
    assert missing == 0


# ------------------------------------------------ a rater's "no category" row, through the assets


def _tiny_study(tmp_path, raters: dict[str, str]) -> dict[str, str]:
    """A lake with two mined issues a/b#1 and a/b#2 (texts no coder codes), a DuckDB file
    that holds them as true positives, and the given rater files; returns the environment that
    studies them, the lake published to it by `raw_snapshot`."""
    db = Warehouse(tmp_path / "tiny.duckdb")
    lake = RawStore(Lake(str(tmp_path / "lake")))
    items = [
        {
            "number": number,
            "id": number,
            "title": f"question {number}",
            "body": "how do I install it?",
            "user": {"login": "carol", "type": "User"},
            "state": "open",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "html_url": f"https://github.com/a/b/issues/{number}",
        }
        for number in (1, 2)
    ]
    lake.open(Target("a/b", ISSUES, "github", "")).commit(
        [issue_row("a/b", i) for i in items], None
    )
    with db.transaction() as con:
        con.execute(
            "CREATE TABLE validated_true_positives AS "
            "SELECT * FROM (VALUES ('a/b', 1), ('a/b', 2)) AS t(repo, number)"
        )
        con.execute("CREATE TABLE bot_accounts (login VARCHAR, is_bot BOOLEAN)")
    (tmp_path / "labels" / "coding").mkdir(parents=True)
    for rater, rows in raters.items():
        _write(tmp_path / "labels" / "coding" / f"{rater}.csv", "repo,number,categories\n" + rows)
    env = {
        "BOTSTUDY_SOURCE": "github",
        "BOTSTUDY_REPOS": "a/b",
        "BOTSTUDY_DB": str(db.file),
        "BOTSTUDY_LAKE": str(tmp_path / "lake"),
        "BOTSTUDY_LABELS_DIR": str(tmp_path / "labels"),
        "BOTSTUDY_REPORTS_DIR": str(tmp_path / "reports"),
    }
    published = materialize(env, selection=["raw_snapshot"])  # the lake as raw_* views
    assert published.success, published.failure_messages()
    return env


def test_a_rater_row_with_no_category_counts_as_coded_none(tmp_path):
    """ann and bob both code a/b#1 `stale`; ann codes a/b#2 with no category, bob codes it
    `stale`. Pooled over the nine categories the 2 x 9 = 18 decisions are n11 = 1 (#1 stale),
    n01 = 1 (#2 stale: bob only), n00 = 16, so po = 17/18, pe = (1*2 + 17*16)/18² = 274/324 and
    kappa = (306 - 274) / (324 - 274) = 32/50 = 0.64 over n = 2 issues. (Dropping ann's row made
    it 1.0 over n = 1.) On `stale` alone, po = 1/2 and pe = (1/2)(1) + (1/2)(0) = 1/2: kappa 0,
    percent agreement 0.5."""
    raters = {"ann": "a/b,1,stale\na/b,2,\n", "bob": "a/b,1,stale\na/b,2,stale\n"}
    env = _tiny_study(tmp_path, raters)
    run = materialize(env, selection=["coded_labels", "final_labels", "agreement_metrics"])
    assert run.success, run.failure_messages()
    assert run.sql(
        "SELECT rater, number, category FROM coded_labels WHERE rater <> 'auto' ORDER BY ALL"
    ) == [("ann", 1, "stale"), ("ann", 2, None), ("bob", 1, "stale"), ("bob", 2, "stale")]
    metrics = {
        (category, metric): (value, n)
        for category, metric, value, n in run.sql(
            "SELECT category, metric, value, n FROM agreement_metrics "
            "WHERE rater_a = 'ann' AND rater_b = 'bob'"
        )
    }
    assert metrics[(None, "cohen_kappa")] == (pytest.approx(0.64), 2)
    assert metrics[("stale", "cohen_kappa")] == (pytest.approx(0.0), 2)
    assert metrics[("stale", "percent_agreement")] == (pytest.approx(0.5), 2)
    # The raters disagree on #2 and the automatic coder (no category) breaks the tie.
    assert run.sql("SELECT number, category, settled_by FROM final_labels ORDER BY number") == [
        (1, "stale", "raters"),
        (2, None, "raters+auto"),
    ]
    assert all(run.check_results().values()), run.check_results()


def test_final_labels_take_the_adjudication_over_the_raters(tmp_path):
    """ann and bob disagree on a/b#2; the adjudication settles it (and overrides even their
    agreement on a/b#1)."""
    raters = {"ann": "a/b,1,stale\na/b,2,\n", "bob": "a/b,1,stale\na/b,2,stale\n"}
    env = _tiny_study(tmp_path, raters)
    _write(
        tmp_path / "labels" / "adjudication.csv",
        "repo,number,categories\na/b,1,stale;feedback\na/b,2,mention\n",
    )
    run = materialize(env, selection=["coded_labels", "final_labels"])
    assert run.success, run.failure_messages()
    assert run.sql("SELECT number, category, settled_by FROM final_labels ORDER BY ALL") == [
        (1, "feedback", "adjudication"),
        (1, "stale", "adjudication"),
        (2, "mention", "adjudication"),
    ]
