"""`make ui` serves the Dagster UI on the configured port, listing every asset with its checks."""

from botstudy_tests.harness import graphql

CONTRACT_ASSETS = {
    "raw_issues",
    "raw_issue_comments",
    "keyword_candidates",
    "validated_true_positives",
    "coded_labels",
    "agreement_metrics",
    "category_summary",
    "raw_issue_events",
    "bot_actions",
    "stale_policy",
    "bot_reactions",
}
QUERY = """{ assetNodes { assetKey { path } groupName
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""


def test_ui_lists_every_asset_with_checks_by_stage(ui_server):
    url, _ = ui_server
    nodes = graphql(url, QUERY)["assetNodes"]
    assets = {node["assetKey"]["path"][-1]: node for node in nodes}
    assert set(assets) >= CONTRACT_ASSETS
    assert {node["groupName"] for node in nodes} == {
        "mining",
        "detection",
        "coding",
        "interactions",
        "reporting",
        "export",
    }
    for name in CONTRACT_ASSETS - {"validated_true_positives"}:
        checks = assets[name]["assetChecksOrError"]["checks"]
        assert checks, f"{name} has no checks"
    assert any(
        check["blocking"] for check in assets["coded_labels"]["assetChecksOrError"]["checks"]
    )
