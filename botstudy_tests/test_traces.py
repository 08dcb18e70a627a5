"""Bot work that shows without a bot posting: the codebook's traces and labels, one rule at a time
(hand-written texts; the quality figures come from the real development set)."""

import polars as pl
import pytest

from botstudy_assets.lib.accounts import classify_account
from botstudy_assets.lib.coding import AutoCoder, auto_labels
from botstudy_assets.lib.detection import Evidence, ThreadEvidence, decide
from botstudy_assets.lib.posts import ThreadMeta
from botstudy_assets.lib.reference_data import load_codebook, load_keywords, load_registry
from botstudy_assets.lib.settings import PROJECT_ROOT
from botstudy_assets.lib.textmatch import KeywordMatcher, code_and_quote_spans, strip_code
from botstudy_assets.lib.traces import TraceMatcher

DATA = PROJECT_ROOT / "data"
REGISTRY = load_registry(DATA / "bot_registry.yaml")
CODEBOOK = load_codebook(DATA / "codebook.yaml", REGISTRY)
TRACES = TraceMatcher(CODEBOOK)
KEYWORDS = KeywordMatcher(load_keywords(DATA / "keywords.yaml"))


def categories(text: str, **options) -> set:
    return {hit.category for hit in TRACES.in_text(text, **{"pull_request": True, **options})}


@pytest.mark.parametrize(
    "label, category",
    [
        ("stale", "stale"),
        ("Stale", "stale"),
        ("stalled", "stale"),
        ("lifecycle/stale", "stale"),
        ("cla: yes", "license"),
        ("CLA Signed", "license"),
        ("cla: no", "license"),
        ("ciflow/trunk", "continuous_integration"),
        ("kokoro:force-run", "continuous_integration"),
        ("fb-exported", "commit_mapping"),
        ("bot-triaged", "issue_management"),
    ],
)
def test_labels_bots_apply_show_their_work(label, category):
    assert category in {hit.category for hit in TRACES.in_labels([label])}


@pytest.mark.parametrize(
    "label",
    ["type:bug", "triaged", "good first issue", "size:XS", "stat:awaiting response", "cla-signing"],
)
def test_labels_people_apply_show_none(label):
    assert TRACES.in_labels([label]) == []


@pytest.mark.parametrize(
    "text, category",
    [
        ("@pytorchbot merge -f 'lint is green'", "continuous_integration"),
        ("/azp run Linux CPU CI Pipeline", "continuous_integration"),
        ("@mxnet-bot run ci [unix-gpu]", "continuous_integration"),
        ("@tensorflow-jenkins test this please", "continuous_integration"),
        ("@mxnet-label-bot add [Operator, pr-awaiting-review]", "issue_management"),
        ("Update .github/workflows/stale.yml to close after 7 days", "stale"),
        ("uses: actions/stale@v8", "stale"),
        ("@ngimel has imported this pull request. If you are a Meta employee", "commit_mapping"),
        ("COPYBARA_INTEGRATE_REVIEW=https://github.com/a/b/pull/2", "commit_mapping"),
        ("The codecov report looks wrong for this file", "code_coverage"),
        ("/easycla", "license"),
        ("Adds a workflow that auto-requests reviewers from merge_rules.yaml", "mention"),
        ("adds greetings.yml to welcome first-time contributors", "onboarding"),
    ],
)
def test_text_that_shows_bot_work_by_itself(text, category):
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Differential Revision: [D41514554](https://our.internmc.facebook.com/intern/diff/D41514554)",
        "Stack from ghstack (oldest at bottom): * #1234",
        "I ran pre-commit locally and fixed the formatting.",
        "The model is a chatbot trained on customer data.",
    ],
)
def test_text_that_shows_no_bot_work(text):
    assert categories(text) == set()


def test_a_bots_template_counts_from_the_bot_or_quoted_in_reply_not_as_a_persons_own_words():
    template = "Are you satisfied with the resolution of your issue? [Yes](x) [No](y)"
    assert categories(template, by_bot=True) == {"feedback"}
    assert categories("> " + template + "\n\nYes, thanks!") == {"feedback"}
    assert categories(template) == set()  # a triager pasting the survey is not the bot
    assert TRACES.reproduces_a_message(template, by_bot=False)
    assert not TRACES.reproduces_a_message(template, by_bot=True)


def test_a_message_copied_from_another_thread_shows_nothing_here():
    copied = (
        "> This issue has been marked stale because it has no recent activity.\n"
        "_Originally posted by @github-actions in [#8578](https://github.com/a/b/8578)_"
    )
    assert categories(copied) == set()
    assert TRACES.reproduces_a_message(copied, by_bot=False)


def test_scoped_traces_apply_only_where_they_are_meant():
    assert "continuous_integration" in categories("CI is red again, unrelated to this change")
    assert "continuous_integration" in categories("We could use CI for the docs")
    assert "continuous_integration" not in categories(
        "We could use CI for the docs", pull_request=False
    )
    assert "continuous_integration" in categories(
        "Flaky CI on macOS", pull_request=False, title=True
    )
    weak = [
        hit
        for hit in TRACES.in_text("the CI is green now", pull_request=True)
        if hit.category == "continuous_integration"
    ]
    assert weak and all(hit.weak for hit in weak)


def test_an_email_replys_quoted_part_is_quoted_text():
    text = (
        "Yes, please close it.\n\nOn Mon, Jul 7, 2025 at 10:00 AM google-ml-butler wrote:\n"
        "Are you satisfied with the resolution of your issue?"
    )
    _, quotes = code_and_quote_spans(text)
    assert quotes and quotes[-1][1] == len(text)
    assert "satisfied" not in strip_code(text)
    assert categories(text) == {"feedback"}


def _features(login: str, **extra) -> dict:
    return {
        "login": login,
        "typed_bot": False,
        "app_share": 0.0,
        "via_app": None,
        "template_diversity": 0.1,
        "n_posts": 50,
        "n_threads": 40,
        "n_templates": 5,
        **extra,
    }


@pytest.mark.parametrize("login", ["ghost", "web-flow"])
def test_placeholder_accounts_are_never_bots_however_templated(login):
    verdict = classify_account(_features(login), REGISTRY)
    assert not verdict.is_bot and verdict.bot_score == 0.0


def test_registry_account_families_and_service_logins_are_bots():
    assert REGISTRY.entry_for_login("OpenMMLab-Assistant005").name == "openmmlab-assistant"
    assert classify_account(_features("tfds-copybara", n_posts=1, n_threads=1), REGISTRY).is_bot


def _evidence(channel: str, matched: str, **fields) -> Evidence:
    base = {
        "location": "comment",
        "post_id": 1,
        "author": "someone",
        "author_is_bot": False,
        "snippet": matched,
    }
    return Evidence(channel=channel, matched=matched, **{**base, **fields})


def test_a_trace_or_a_bot_label_makes_the_thread_bot_related():
    for channel in ("bot_trace", "bot_label"):
        evidence = ThreadEvidence([_evidence(channel, "stale", category="stale")])
        assert decide(evidence, REGISTRY, set()).accepted


def test_a_bot_without_development_context_is_left_to_people():
    evidence = ThreadEvidence([_evidence("keyword", "bot")])
    decision = decide(evidence, REGISTRY, set())
    assert not decision.accepted and decision.basis == "bot_mentioned"


def _code(posts: list[dict], labels=None, pull_request=True) -> dict:
    coder = AutoCoder(CODEBOOK, REGISTRY, KEYWORDS, {"tfds-copybara"})
    found = coder.code_thread(posts, labels, pull_request)
    return {label.category: label for label in found}


def test_a_single_task_bot_does_its_task_whatever_its_post_says():
    posts = [
        {
            "text": "Fix TF kokoro tests",
            "author_login": "tfds-copybara",
            "location": "body",
            "post_id": 0,
        }
    ]
    assert {"commit_mapping", "continuous_integration"} <= set(_code(posts))


def _auto_categories(posts: list[dict], labels: list[str]) -> set[str]:
    frame = pl.DataFrame([{"repo": "a/b", "number": 1, **post} for post in posts])
    coder = AutoCoder(CODEBOOK, REGISTRY, KEYWORDS, set())
    meta = {("a/b", 1): ThreadMeta(labels, True)}
    coded = auto_labels(pl.DataFrame({"repo": ["a/b"], "number": [1]}), frame, coder, meta)
    return set(coded["category"].to_list())


def test_weak_ci_gives_way_to_other_bot_work_in_the_text_but_not_to_a_label():
    ci_talk = {
        "text": "Land after CI passes",
        "author_login": "alice",
        "location": "comment",
        "post_id": 1,
    }
    codecov = {
        "text": "The codecov report looks off",
        "author_login": "bob",
        "location": "comment",
        "post_id": 2,
    }
    assert _auto_categories([ci_talk], ["cla signed"]) == {"continuous_integration", "license"}
    assert _auto_categories([ci_talk, codecov], []) == {"code_coverage"}
