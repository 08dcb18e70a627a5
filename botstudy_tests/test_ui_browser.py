"""The Dagster UI as a person uses it: headless Debian Chromium, driven by Playwright, on `make ui`.

It opens the global asset lineage, sees every stage's assets drawn inside their stage's group and
the asset checks on an asset's Checks tab, clicks "Materialize all", launches the backfill over
every repository partition and waits on the backfill's page until all its runs have succeeded.
Screenshots land in test-artifacts/ui/ (git-ignored).
"""

import os
import re
import time
from pathlib import Path
from urllib.parse import quote, urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_tests.harness import graphql

CHROMIUM = Path(
    "/usr/bin/chromium"
)  # Debian's package; Playwright's own browser builds are never used
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces: no host name resolves, so nothing but the loopback UI can be reached.
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
STAGES = {
    "mining": ["raw_issues", "raw_issue_comments", "raw_issue_events", "raw_snapshot"],
    "detection": [
        "bot_accounts",
        "keyword_candidates",
        "candidate_decisions",
        "validated_true_positives",
        "review_sheet",
        "bot_funnel",
    ],
    "coding": ["coded_labels", "final_labels", "agreement_metrics", "coder_disagreements"],
    "interactions": [
        "bot_actions",
        "issue_closures",
        "stale_policy",
        "bot_reactions",
        "bot_timeline",
        "bot_effects",
    ],
    "reporting": ["category_summary", "study_report"],
    "export": ["dataset_export"],
}
ASSETS = [name for names in STAGES.values() for name in names]
PARTITIONED = ["raw_issues", "raw_issue_comments", "raw_issue_events"]  # one per repository
REPOS = [
    "keras-team/keras",
    "pytorch/pytorch",
    "tensorflow/tensorflow",
]  # the default BOTSTUDY_REPOS
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
UI_TIMEOUT_MS = 60_000  # one page or widget becoming visible
RUN_TIMEOUT_MS = (
    240_000  # the whole graph on the sample takes ~20 s; a slow CI machine gets 12x that
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium_browser() -> Browser:
    """Debian's Chromium, headless, with a fresh temporary profile (Playwright's launch() makes
    one)."""
    if not os.access(CHROMIUM, os.X_OK):
        # A missing browser fails the test everywhere: a skip would pass unnoticed.
        pytest.fail(
            f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it), or leave "
            "the browser tests out knowingly with `pytest -m 'not browser'`"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def ui_page(chromium_browser, ui_server):
    url, _ = ui_server
    context = chromium_browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=url)
    # Dagster shows a "Join the Dagster community" dialog on localhost; mark it seen, as "Skip"
    # would.
    context.add_init_script("window.localStorage.setItem('communityNux', JSON.stringify('1'))")
    blocked: list[str] = []

    def loopback_only(route):
        target = route.request.url
        if target.startswith(("data:", "blob:")) or urlparse(target).hostname in LOOPBACK_HOSTS:
            route.continue_()
        else:
            blocked.append(target)
            route.abort()

    context.route("**/*", loopback_only)
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)  # assertions wait as long as actions (default 5 s)
    page = context.new_page()
    skip = page.get_by_role("button", name="Skip", exact=True)
    page.add_locator_handler(page.get_by_text("Join the Dagster community"), lambda: skip.click())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield page
    finally:
        if blocked:
            print(f"blocked {len(blocked)} non-loopback request(s): {sorted(set(blocked))[:10]}")
        context.close()


def park_pointer(page: Page) -> None:
    """Move the pointer off whatever it hovers, so that no tooltip or hover card stays open."""
    page.mouse.move(1, 1, steps=5)
    try:
        page.get_by_role("tooltip").first.wait_for(state="hidden", timeout=5_000)
    except PlaywrightTimeoutError:
        page.keyboard.press("Escape")


def screenshot(page: Page, name: str) -> Path:
    """A test artefact, without a tooltip or focus ring over the picture."""
    park_pointer(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def box_contains(outer: dict, inner: dict) -> bool:
    cx, cy = inner["x"] + inner["width"] / 2, inner["y"] + inner["height"] / 2
    return (
        outer["x"] <= cx <= outer["x"] + outer["width"]
        and outer["y"] <= cy <= outer["y"] + outer["height"]
    )


def asset_label(page: Page, graph, name: str):
    """The node label for `name`. Zoomed out, Dagster middle-truncates long names
    (`validat…_positives`) and shows the full name in a tooltip: such a label is hovered and the
    tooltip must read the full name."""
    exact = graph.get_by_text(name, exact=True)
    if exact.count() == 1:
        return exact
    for label in graph.get_by_text("…").all():
        head, _, tail = label.inner_text().strip().partition("…")
        if head and name.startswith(head) and name.endswith(tail):
            label.hover()
            tooltip = page.get_by_role("tooltip").filter(
                has_text=re.compile(rf"^{re.escape(name)}$")
            )
            try:
                tooltip.first.wait_for(state="visible", timeout=5_000)
            except PlaywrightTimeoutError:
                continue
            finally:
                park_pointer(page)
            return label
    labels = graph.locator("foreignObject").evaluate_all("els => els.map(e => e.textContent)")
    raise AssertionError(f"asset {name!r} is not drawn on the asset graph; its labels are {labels}")


def open_asset_graph(page: Page, stage: str):
    """The global asset lineage with one group (stage) expanded and the others drawn as boxes;
    returns the graph's <svg>. (The graph draws only the nodes in view, and all six stages
    expanded do not fit in one.)"""
    page.goto(f"/asset-groups?expanded={quote(f'global@global:{stage}')}")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    expect(page.get_by_role("button", name="Materialize all")).to_be_enabled()
    graph = page.locator("svg:has(foreignObject)")
    expect(
        graph.locator("foreignObject.group"), "the graph does not show every stage"
    ).to_have_count(len(STAGES))
    # The stage's first asset (a short name, never truncated) drawn: the layout is done.
    expect(graph.get_by_text(STAGES[stage][0], exact=True)).to_be_visible()
    return graph


def check_asset_graph(page: Page) -> None:
    for stage, names in STAGES.items():
        graph = open_asset_graph(page, stage)
        screenshot(page, f"01-asset-graph-{stage}")
        group = graph.locator("foreignObject.group").filter(has_text=re.compile(rf"^\s*{stage}\b"))
        expect(group, f"stage {stage!r} has no group on the asset graph").to_have_count(1)
        expect(group).to_be_visible()
        group_box = group.bounding_box()
        for name in names:
            label = asset_label(page, graph, name)
            expect(label, f"asset {name!r} is not visible on the graph").to_be_visible()
            assert box_contains(group_box, label.bounding_box()), (
                f"asset {name!r} is not drawn inside its stage's group {stage!r}"
            )


def check_asset_checks(page: Page) -> None:
    page.goto("/assets/raw_issues?view=checks")
    expect(page.get_by_role("tab", name="Checks")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^Checks \(\d+\)$")),
        "the raw_issues Checks tab lists no checks",
    ).to_be_visible()
    expect(
        page.get_by_text("raw_issues_valid").first, "check raw_issues_valid is not shown"
    ).to_be_visible()
    screenshot(page, "02-raw-issues-checks")


def materialize_all(page: Page) -> str:
    """Clicks "Materialize all" on the global lineage, picks every repository partition and
    launches the backfill (one run per repository, then the rest of the graph); returns its id."""
    page.goto("/asset-groups")
    button = page.get_by_role("button", name="Materialize all")
    expect(button).to_be_enabled()
    button.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"Launch runs to materialize {len(ASSETS)} assets")).to_be_visible()
    dialog.get_by_role("button", name="All", exact=True).click()
    expect(
        dialog.get_by_text(f"{len(REPOS)} partitions", exact=True),
        "the dialog does not offer one partition per repository",
    ).to_be_visible()
    screenshot(page, "03-launch-backfill")
    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"^Created backfill [a-z]{8}$"))
    expect(toast, "no 'Created backfill' toast after launching").to_be_visible()
    return toast.inner_text().split()[-1]


def wait_for_backfill(page: Page, url: str, backfill_id: str) -> None:
    """Until every run of the backfill has finished (its status from GraphQL, the page's badge
    being a styled element), then its page, showing every asset's progress."""
    query = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
        ... on PartitionBackfill { status runs(limit: 100) { runId status } } } }"""
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while True:
        backfill = graphql_data(url, query, {"id": backfill_id})["partitionBackfillOrError"]
        if backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            break
        assert time.monotonic() < deadline, (
            f"backfill {backfill_id} did not finish within {RUN_TIMEOUT_MS // 1000} s: {backfill}"
        )
        time.sleep(2)
    page.goto(f"/runs/b/{backfill_id}")
    expect(page.get_by_role("link", name="raw_issue_comments")).to_be_visible()
    screenshot(page, "04-backfill-finished")
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill
    assert backfill["runs"] and all(run["status"] == "SUCCESS" for run in backfill["runs"]), (
        backfill
    )


def check_backfill_materialized_everything(url: str, backfill_id: str) -> None:
    """Every asset's latest materialization, every repository partition of the mining assets
    included, came from a run of the UI's backfill."""
    nodes = graphql_data(
        url,
        """{ assetNodes { assetKey { path }
        assetMaterializations(limit: 10) { runId partition } } }""",
    )["assetNodes"]
    runs = graphql_data(
        url,
        """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
        ... on PartitionBackfill { runs(limit: 100) { runId } } } }""",
        {"id": backfill_id},
    )["partitionBackfillOrError"]["runs"]
    backfill_runs = {run["runId"] for run in runs}
    for node in nodes:
        name, materializations = node["assetKey"]["path"][-1], node["assetMaterializations"]
        assert materializations, f"{name} was never materialized"
        assert {m["runId"] for m in materializations} <= backfill_runs, (
            f"{name}: not by the backfill"
        )
        if name in PARTITIONED:
            assert {m["partition"] for m in materializations} == set(REPOS), (
                f"{name}: {materializations}"
            )


def graphql_data(url: str, query: str, variables: dict | None = None) -> dict:
    reply = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
    ).json()
    assert not reply.get("errors"), reply["errors"]
    return reply["data"]


def check_after_run(page: Page) -> None:
    """The check has passed, and every node on the asset graph is green (materialized)."""
    page.goto("/assets/raw_issues?view=checks")
    expect(page.get_by_text("raw_issues_valid").first).to_be_visible()
    expect(
        page.get_by_text("Passed", exact=True), "raw_issues_valid did not pass after the run"
    ).to_be_visible()
    screenshot(page, "05-raw-issues-check-passed")
    for stage, names in STAGES.items():
        graph = open_asset_graph(page, stage)
        # Zoomed out a node is a green box; zoomed in (a stage of one asset) it says so.
        green = graph.locator("[style*='--minimal-border: var(--color-accent-green)']").or_(
            graph.get_by_text("Materialized", exact=True)
        )
        expect(green, f"not every asset of {stage} is shown as materialized").to_have_count(
            len(names)
        )
        screenshot(page, f"06-asset-graph-materialized-{stage}")


def test_ui_shows_the_graph_and_materializes_it_in_chromium(ui_page, ui_server):
    url, page = ui_server[0], ui_page
    nodes = graphql(url, "{ assetNodes { assetKey { path } } }")[
        "assetNodes"
    ]  # code location loaded
    assert {node["assetKey"]["path"][-1] for node in nodes} == set(ASSETS)
    try:
        check_asset_graph(page)
        check_asset_checks(page)
        backfill_id = materialize_all(page)
        wait_for_backfill(page, url, backfill_id)
        check_backfill_materialized_everything(url, backfill_id)
        check_after_run(page)
    except BaseException:
        try:
            screenshot(page, "failure")
        except Exception as error:  # the test's own failure is the one to report
            print(f"no failure screenshot: {error}")
        raise
