"""What a person reads: the report, Figure 2, asset metadata in the UI and `make run`'s summary
show no nan/None/null, name things as the paper does, and say which data they show."""

import re

import polars as pl
import pytest

from botstudy_assets.lib import report as report_module
from botstudy_assets.lib.markdown import MISSING, md_table
from botstudy_assets.lib.paper import PROPORTIONS
from botstudy_assets.lib.report import FIGURE_BY_LIBRARY, FIGURE_CATEGORIES
from botstudy_assets.lib.stats import krippendorff_reading
from botstudy_assets.lib.storage import Warehouse
from botstudy_assets.run import print_summary

MISSING_WORDS = re.compile(r"(?<![\w-])(nan|NaN|None|null)(?![\w-])")


def test_missing_values_read_as_a_dash():
    frame = pl.DataFrame({"a": ["x", None, "z"], "b": [1.5, float("nan"), None]})
    text = md_table(frame)
    assert not MISSING_WORDS.search(text), text
    assert text.count(MISSING) == 3


@pytest.mark.parametrize(
    "alpha, reading",
    [
        (0.95, "reliable"),
        (0.8, "reliable"),
        (0.7999, "tentative conclusions only"),
        (0.667, "tentative conclusions only"),
        (0.5, "unreliable"),
        (-0.2, "unreliable"),
        (float("nan"), "undefined"),
        (None, "undefined"),
    ],
)
def test_krippendorffs_alpha_has_a_reading(alpha, reading):
    assert krippendorff_reading(alpha) == reading


def test_both_figure_2_plots_have_the_same_labels_in_the_same_order(sample_run, monkeypatch):
    run, tmp = sample_run
    drawn = {}

    def capture(figure, path, footnote=None):
        drawn[path.name] = [label.get_text() for label in figure.axes[0].get_yticklabels()]
        return path

    monkeypatch.setattr(report_module, "save_figure", capture)
    warehouse = Warehouse(run.db)
    summary = warehouse.query("SELECT * FROM category_summary")
    counts = warehouse.query(
        "SELECT r.library, f.category, count(*) AS issues FROM final_labels f "
        "JOIN raw_issues r USING (repo, number) WHERE f.category IS NOT NULL GROUP BY ALL"
    )
    report_module.plot_categories(summary, tmp / "a.png")
    report_module.plot_by_library(counts, summary, tmp / "b.png")
    by_share = [
        label
        for _, label in sorted(
            zip(summary["paper_proportion_pct"], summary["label"], strict=True),
            key=lambda pair: pair[0],
        )
    ]
    assert drawn["a.png"] == drawn["b.png"]
    assert drawn["a.png"][-1] == "Issue management"  # the largest share on top
    assert sorted(drawn["a.png"]) == sorted(by_share) and len(drawn["a.png"]) == len(PROPORTIONS)
    assert all(" " in label or label[0].isupper() for label in drawn["a.png"])  # no snake_case


def test_the_report_shows_no_missing_markers_and_says_which_data_it_shows(sample_run):
    run, tmp = sample_run
    text = (tmp / "reports" / "botstudy_report.md").read_text(encoding="utf-8")
    cells = [line for line in text.splitlines() if line.startswith("|")]
    assert cells and not [line for line in cells if MISSING_WORDS.search(line)]
    assert "| reliable " in text  # Krippendorff's α has a reading
    mined = run.sql("SELECT max(mined_at)::DATE::VARCHAR FROM raw_issues")[0][0]
    images = re.findall(r"^!\[(.+?)\]\((.+?)\)\n\n\*(.+)\*$", text, flags=re.MULTILINE)
    assert {name for name, _, _ in images} >= {FIGURE_CATEGORIES, FIGURE_BY_LIBRARY}
    assert len(images) == text.count("![")  # every figure has its note under it
    for _, _, note in images:
        assert note.startswith("Sources: ")
        assert re.search(r"botstudy \S+ \(git \w+", note), note
        assert f"sample data mined {mined}" in note
        assert "BOTSTUDY_UNTIL not set" in note


def test_metadata_keys_read_as_names(sample_run):
    run, _ = sample_run

    def keys(asset: str) -> set[str]:
        [materialization] = run.result.asset_materializations_for_node(asset)
        return set(materialization.metadata)

    assert "Table I" in keys("category_summary")
    study = keys("study_report")
    assert {"Figure 2", FIGURE_BY_LIBRARY, "Report", "Data version"} <= study
    assert not {key for key in study if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", key)}


def test_the_summary_of_make_run_shows_no_null(sample_run, capsys):
    run, _ = sample_run
    print_summary(None, Warehouse(run.db))
    out = capsys.readouterr().out
    assert "krippendorff_alpha" in out and "reliable" in out
    assert not MISSING_WORDS.search(out), out


def test_the_data_version_names_until_when_set():
    from botstudy_assets.lib.figures import DataVersion, note

    version = DataVersion(
        code="botstudy 1", source="github", mined="2026-01-02", until="2021-11-15"
    )
    assert note("x", version) == (
        "Sources: x.\nData: botstudy 1; github data mined 2026-01-02; BOTSTUDY_UNTIL 2021-11-15."
    )
