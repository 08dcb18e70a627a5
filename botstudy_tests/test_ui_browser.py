"""The Dagster UI as a person uses it: headless Debian Chromium, driven by Playwright, on `make ui`.

It opens the global asset lineage, sees every stage's assets drawn inside their stage's group and
the asset checks on an asset's Checks tab, clicks "Materialize all" and waits on the run page until
the run has succeeded. Screenshots land in test-artifacts/ui/ (git-ignored).
"""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from botstudy_assets.config import PROJECT_ROOT
# `ui_server` runs `make ui` on a free port with a throwaway DAGSTER_HOME and DuckDB file.
from botstudy_tests.test_ui import graphql, ui_server  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own browser builds are never used
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Belt and braces: no host name resolves, so nothing but the loopback UI can be reached.
    "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
STAGES = {
    "mining": ["raw_issues", "raw_issue_comments"],
    "detection": ["bot_accounts", "keyword_candidates", "candidate_decisions",
                  "validated_true_positives", "review_sheet", "bot_funnel"],
    "coding": ["coded_labels", "final_labels", "agreement_metrics"],
    "reporting": ["category_summary", "study_report"],
}
ASSETS = [name for names in STAGES.values() for name in names]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
UI_TIMEOUT_MS = 60_000  # one page or widget becoming visible
RUN_TIMEOUT_MS = 240_000  # the whole graph on the sample takes ~20 s; a slow CI machine gets 12x that

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium_browser() -> Browser:
    """Debian's Chromium, headless, with a fresh temporary profile (Playwright's launch() makes one)."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {message}")
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def ui_page(chromium_browser, ui_server):  # noqa: F811 - the fixture imported above
    url, _ = ui_server
    context = chromium_browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=url)
    # Dagster shows a "Join the Dagster community" dialog on localhost; mark it seen, as "Skip" would.
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
    return (outer["x"] <= cx <= outer["x"] + outer["width"]
            and outer["y"] <= cy <= outer["y"] + outer["height"])


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
            tooltip = page.get_by_role("tooltip").filter(has_text=re.compile(rf"^{re.escape(name)}$"))
            try:
                tooltip.first.wait_for(state="visible", timeout=5_000)
            except PlaywrightTimeoutError:
                continue
            finally:
                park_pointer(page)
            return label
    labels = graph.locator("foreignObject").evaluate_all("els => els.map(e => e.textContent)")
    raise AssertionError(f"asset {name!r} is not drawn on the asset graph; its labels are {labels}")


def expand_all_groups(page: Page) -> None:
    """The global lineage starts with each group collapsed: open them all from the graph's settings."""
    page.locator("#zoom-slider-container").get_by_role("button", name="settings").click()
    menu = page.get_by_role("menuitem", name=re.compile("(Expand|Collapse) all groups"))
    expect(menu).to_be_visible()
    if "Expand all groups" in menu.inner_text():
        menu.click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menuitem")).to_have_count(0)


def open_asset_graph(page: Page):
    """The global asset lineage with every group (stage) expanded; returns the graph's <svg>."""
    page.goto("/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    expect(page.get_by_role("button", name="Materialize all")).to_be_enabled()
    graph = page.locator("svg:has(foreignObject)")
    expect(graph.locator("foreignObject.group"), "the graph does not show the four stages") \
        .to_have_count(len(STAGES))
    expand_all_groups(page)
    for name in ("raw_issues", "study_report"):  # first and last stage drawn: the layout is done
        expect(graph.get_by_text(name, exact=True)).to_be_visible()
    return graph


def check_asset_graph(page: Page) -> None:
    graph = open_asset_graph(page)
    screenshot(page, "01-asset-graph")
    for stage, names in STAGES.items():
        group = graph.locator("foreignObject.group").filter(has_text=re.compile(rf"^\s*{stage}\b"))
        expect(group, f"stage {stage!r} has no group on the asset graph").to_have_count(1)
        expect(group).to_be_visible()
        group_box = group.bounding_box()
        for name in names:
            label = asset_label(page, graph, name)
            expect(label, f"asset {name!r} is not visible on the graph").to_be_visible()
            assert box_contains(group_box, label.bounding_box()), \
                f"asset {name!r} is not drawn inside its stage's group {stage!r}"


def check_asset_checks(page: Page) -> None:
    page.goto("/assets/raw_issues?view=checks")
    expect(page.get_by_role("tab", name="Checks")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Checks \(\d+\)$")), "the raw_issues Checks tab lists no checks") \
        .to_be_visible()
    expect(page.get_by_text("raw_issues_valid").first, "check raw_issues_valid is not shown") \
        .to_be_visible()
    screenshot(page, "02-raw-issues-checks")


def materialize_all(page: Page, url: str) -> str:
    """Clicks "Materialize all" on the global lineage and follows the toast's "View" to the run page."""
    page.goto("/asset-groups")
    button = page.get_by_role("button", name="Materialize all")
    expect(button).to_be_enabled()
    button.click()
    toast = page.get_by_text(re.compile(r"^Launched run [0-9a-f]{8}$"))
    expect(toast, "no 'Launched run' toast after clicking Materialize all").to_be_visible()
    short_id = toast.inner_text().split()[-1]
    try:
        page.get_by_role("link", name="View", exact=True).click(timeout=10_000)
    except PlaywrightTimeoutError:  # the toast went away on a slow machine: open the run by its id
        runs = httpx.post(f"{url}/graphql", timeout=30, json={
            "query": "{ runsOrError { ... on Runs { results { runId } } } }"}).json()
        run_ids = [r["runId"] for r in runs["data"]["runsOrError"]["results"]]
        page.goto(f"/runs/{next(r for r in run_ids if r.startswith(short_id))}")
    page.wait_for_url(re.compile(rf"/runs/{short_id}[0-9a-f-]{{28}}"))
    return re.search(r"/runs/([0-9a-f-]{36})", page.url).group(1)


def wait_for_run(page: Page, run_id: str, assets: int) -> None:
    status = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first
    expect(status, f"run {run_id} did not finish within {RUN_TIMEOUT_MS // 1000} s") \
        .to_be_visible(timeout=RUN_TIMEOUT_MS)
    if status.inner_text() != "Success":
        screenshot(page, "03-run-not-successful")
        raise AssertionError(f"run {run_id} ended as {status.inner_text()!r}, see the run page screenshot")
    expect(page.get_by_text(f"{assets} assets", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Executing \(0\)$"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Errored \(0\)$"))).to_be_visible()
    screenshot(page, "03-run-success")


def check_run_via_graphql(url: str, run_id: str) -> None:
    query = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""
    run = httpx.post(f"{url}/graphql", json={"query": query, "variables": {"id": run_id}},
                     timeout=30).json()["data"]["runOrError"]
    assert run == {"__typename": "Run", "status": "SUCCESS"}, f"run {run_id} per GraphQL: {run}"
    latest = httpx.post(f"{url}/graphql", timeout=30, json={
        "query": "{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId } } }"},
    ).json()["data"]["assetNodes"]
    not_by_run = [node["assetKey"]["path"][-1] for node in latest
                  if [m["runId"] for m in node["assetMaterializations"]] != [run_id]]
    assert not not_by_run, f"not materialized by the UI's run {run_id}: {not_by_run}"


def check_after_run(page: Page) -> None:
    """The check has passed, and every node on the asset graph is green (materialized)."""
    page.goto("/assets/raw_issues?view=checks")
    expect(page.get_by_text("raw_issues_valid").first).to_be_visible()
    expect(page.get_by_text("Passed", exact=True), "raw_issues_valid did not pass after the run") \
        .to_be_visible()
    screenshot(page, "04-raw-issues-check-passed")
    graph = open_asset_graph(page)
    green = graph.locator("[style*='--minimal-border: var(--color-accent-green)']")
    expect(green, "not every asset node is shown as materialized").to_have_count(len(ASSETS))
    screenshot(page, "05-asset-graph-materialized")


def test_ui_shows_the_graph_and_materializes_it_in_chromium(ui_page, ui_server):  # noqa: F811
    url, page = ui_server[0], ui_page
    nodes = graphql(url, "{ assetNodes { assetKey { path } } }")["assetNodes"]  # code location loaded
    assert {node["assetKey"]["path"][-1] for node in nodes} == set(ASSETS)
    try:
        check_asset_graph(page)
        check_asset_checks(page)
        run_id = materialize_all(page, url)
        wait_for_run(page, run_id, len(ASSETS))
        check_run_via_graphql(url, run_id)
        check_after_run(page)
    except BaseException:
        try:
            screenshot(page, "failure")
        except Exception as error:  # the test's own failure is the one to report
            print(f"no failure screenshot: {error}")
        raise
